import MartletAxon
import MartletRelay
import NIOWebSocket
import NostrCore

/// What one WebSocket carries messages to and from: a NIP-01 `RelaySession` (text frames of
/// JSON) or an axon `AxonSession` (binary frames of MessagePack), chosen at the upgrade by
/// the `Sec-WebSocket-Protocol` the client asked for. `WebSocketConnection` is the same for
/// both: the framing, the outbox pump and the ping loop do not depend on the protocol.
protocol WebSocketSession: Sendable {
    var id: UInt64 { get }
    var remoteAddress: String? { get }
    var outbox: Outbox { get }
    /// The opcode of the frames the relay writes.
    static var outboundOpcode: WebSocketOpcode { get }
    func receive(_ message: [UInt8]) async
    /// Whether the message's work in `receive` stays shallow, so that the connection's own
    /// task may run it: then it needs no task of its own (see `WebSocketConnection`).
    func staysShallow(_ message: [UInt8]) -> Bool
    /// Answers a message larger than the advertised `limit`, which was not read.
    func refuseOversized(limit: Int)
    /// The last message to a consumer too slow for its outbox, before the close.
    static var slowConsumerMessage: [UInt8] { get }
    func close()
}

extension RelaySession: WebSocketSession {
    static var outboundOpcode: WebSocketOpcode { .text }

    /// An EVENT: decoded here, then verified and written in a task of its own
    /// (`EventsInFlight`). Publishers send many; a task each to read them was a fifth more
    /// relay CPU per event on the ingest bench.
    func staysShallow(_ message: [UInt8]) -> Bool {
        JSONMessageHead.isEvent(message)
    }

    func refuseOversized(limit: Int) {
        // The advertised figure (NIP-11 `max_message_length`), not the read limit.
        outbox.send(.notice("invalid: message is larger than \(limit) bytes"))
    }

    static var slowConsumerMessage: [UInt8] {
        RelayMessage.notice("error: connection closed because it could not keep up with its events").encoded()
    }
}

extension AxonSession: WebSocketSession {
    static var outboundOpcode: WebSocketOpcode { .binary }

    /// Axon carries replication between relays, a few connections: every message gets a task.
    func staysShallow(_ message: [UInt8]) -> Bool {
        false
    }

    func refuseOversized(limit: Int) {
        refuseOversized()
    }

    static var slowConsumerMessage: [UInt8] {
        AxonRelayMessage.error(.internal, "error: connection closed because it could not keep up with its events").encoded()
    }
}

/// The verb of a NIP-01 client message, read from its first bytes without decoding it.
///
/// ```swift
/// JSONMessageHead.isEvent(Array(#"[ "EVENT", {"id":"..."}]"#.utf8))   // true
/// ```
enum JSONMessageHead {
    /// Whether `message` opens as a JSON array whose first element is the string `"EVENT"`.
    /// A message it misreads is still decoded and answered by the session as any other.
    static func isEvent(_ message: [UInt8]) -> Bool {
        var index = message.startIndex
        func skipWhitespace() {
            while index < message.endIndex, isWhitespace(message[index]) { index += 1 }
        }
        skipWhitespace()
        guard index < message.endIndex, message[index] == UInt8(ascii: "[") else { return false }
        index += 1
        skipWhitespace()
        return message[index...].starts(with: eventVerb)
    }

    private static let eventVerb = Array(#""EVENT""#.utf8)

    /// JSON's whitespace (RFC 8259 §2).
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
