import MartletAxon
import NostrCore
internal import NIOCore

/// The protocol a benchmark speaks to the relay: NIP-01 JSON, or axon's MessagePack
/// (docs/axon.md) after its ed25519 handshake, so that the two can be timed in one run.
public enum BenchWire: Sendable, Equatable {
    case json
    /// axon, authenticating with this 32-byte ed25519 secret (its key must be allowlisted).
    case axon(secret: [UInt8])

    public var name: String {
        switch self {
        case .json: "json"
        case .axon: "axon"
        }
    }

    var isAxon: Bool { self != .json }

    /// The `Sec-WebSocket-Protocol` to ask for, if any.
    var subprotocol: String? { isAxon ? "axon" : nil }
}

/// Wire frames as NIO buffers, encoded once before timing starts, in the run's protocol.
enum Frames {
    static func event(_ event: Event, _ wire: BenchWire = .json) -> ByteBuffer {
        wire.isAxon
            ? ByteBuffer(bytes: AxonClientMessage.publish(event).encoded())
            : ByteBuffer(bytes: ClientMessage.event(event).encoded())
    }

    static func request(_ subscription: String, _ filter: Filter, _ wire: BenchWire = .json) -> ByteBuffer {
        wire.isAxon
            ? ByteBuffer(bytes: AxonClientMessage.subscribe(subscription, [AxonFilter(filter: filter)]).encoded())
            : ByteBuffer(bytes: ClientMessage.req(SubscriptionID(subscription), [filter]).encoded())
    }

    static func close(_ subscription: String) -> ByteBuffer {
        ByteBuffer(bytes: ClientMessage.close(SubscriptionID(subscription)).encoded())
    }
}

extension RelayReply {
    /// An axon relay message as the drivers read replies. An `Event` is read only as far
    /// as its id when it has the relay's layout (`{sub, event: {id, ...}}`, in that order),
    /// as the JSON reading stops at the id; anything else is decoded in full.
    init(axon bytes: UnsafeRawBufferPointer) {
        var peek = AxonEventPeek(bytes)
        if let event = peek.read() {
            self = .event(subscription: event.sub, id: event.id)
            return
        }
        guard let message = try? AxonRelayMessage.decode(Array(bytes)) else {
            self = .other
            return
        }
        switch message {
        case .ok(let id?): self = .ok(id, accepted: true, message: "")
        case .error(_, let text, let id?, _): self = .ok(id, accepted: false, message: text)
        case .error(_, let text, nil, let sub?): self = .closed(subscription: sub, message: text)
        case .error(_, let text, nil, nil): self = .notice(text)
        case .endOfStored(let sub): self = .eose(subscription: sub)
        case .event(let sub, let encoded):
            let id = (try? AxonEventCoding.decode(MessagePackReader.decode(encoded)))?.id
            self = id.map { .event(subscription: sub, id: $0) } ?? .other
        case .ok(nil), .challenge: self = .other
        }
    }
}

/// Reads the subscription and id of an axon `Event` frame laid out as the relay writes it.
private struct AxonEventPeek {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func read() -> (sub: String, id: EventID)? {
        guard take([0x92, 0xcd, 0x01, 0x04, 0x82, 0xa3]), take(Array("sub".utf8)), let sub = string(),
            take([0xa5]), take(Array("event".utf8)), take([0x87, 0xa2]), take(Array("id".utf8)), take([0xc4, 0x20]),
            position + 32 <= bytes.count
        else { return nil }
        let id = EventID(Bytes32(UnsafeRawBufferPointer(rebasing: bytes[position..<position + 32])))
        return (sub, id)
    }

    private mutating func take(_ expected: [UInt8]) -> Bool {
        guard position + expected.count <= bytes.count else { return false }
        for (offset, byte) in expected.enumerated() where bytes[position + offset] != byte { return false }
        position += expected.count
        return true
    }

    private mutating func string() -> String? {
        guard position < bytes.count else { return nil }
        let marker = bytes[position]
        let length: Int
        if marker & 0xe0 == 0xa0 {
            length = Int(marker & 0x1f)
            position += 1
        } else if marker == 0xd9, position + 1 < bytes.count {
            length = Int(bytes[position + 1])
            position += 2
        } else {
            return nil
        }
        guard position + length <= bytes.count else { return nil }
        defer { position += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<position + length]), as: UTF8.self)
    }
}
