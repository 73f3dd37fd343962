public import NostrCore

/// A message from an axon client, decoded from one binary frame `[msg_type, payload]`.
///
/// ```swift
/// switch try AxonClientMessage.decode(frame) {
/// case .publish(let event): ...
/// }
/// ```
public enum AxonClientMessage: Sendable, Equatable {
    case auth(AxonAuthKey, signature: [UInt8])
    case publish(Event)
    case subscribe(String, [AxonFilter])
    case unsubscribe(String)

    /// Decodes one frame; anything else than a known client message is an error with the
    /// code to answer it with (always 400: the relay checks size before decoding).
    public static func decode(_ frame: [UInt8]) throws(AxonDecodingError) -> AxonClientMessage {
        let value: MessagePackValue
        do {
            value = try MessagePackReader.decode(frame)
        } catch {
            throw AxonDecodingError("malformed MessagePack: \(error.detail)")
        }
        guard case .array(let parts) = value, parts.count == 2 else {
            throw AxonDecodingError("a frame must be the array [msg_type, payload]")
        }
        guard case .int(let number) = parts[0], let code = UInt16(exactly: number) else {
            throw AxonDecodingError("msg_type must be an unsigned 16-bit integer")
        }
        let payload = parts[1]
        switch AxonMessageType(rawValue: code) {
        case .auth:
            let fields = try Fields(payload, "auth")
            guard let key = AxonAuthKey(bytes: try fields.binary("pubkey")) else {
                throw AxonDecodingError("auth.pubkey must be 32 bytes")
            }
            let signature = try fields.binary("sig")
            guard signature.count == 64 else { throw AxonDecodingError("auth.sig must be 64 bytes") }
            try fields.rejectUnknown(["pubkey", "sig"])
            return .auth(key, signature: signature)
        case .publish:
            let fields = try Fields(payload, "publish")
            try fields.rejectUnknown(["event"])
            return .publish(try AxonEventCoding.decode(try fields.value("event")))
        case .subscribe:
            let fields = try Fields(payload, "subscribe")
            try fields.rejectUnknown(["sub", "filters"])
            var filters: [AxonFilter] = []
            for filter in try fields.array("filters") { filters.append(try AxonFilter.decode(filter)) }
            return .subscribe(try subscriptionID(fields), filters)
        case .unsubscribe:
            let fields = try Fields(payload, "unsubscribe")
            try fields.rejectUnknown(["sub"])
            return .unsubscribe(try subscriptionID(fields))
        case .challenge, .ok, .error, .event, .endOfStored, nil:
            throw AxonDecodingError("unknown client message type \(code)")
        }
    }

    private static func subscriptionID(_ fields: Fields) throws(AxonDecodingError) -> String {
        let sub = try fields.string("sub")
        guard !sub.isEmpty else { throw AxonDecodingError("sub must not be empty") }
        return sub
    }

    /// The frame for this message (clients: the bench and the tests).
    public func encoded() -> [UInt8] {
        var writer = MessagePackWriter()
        writer.writeArrayHeader(2)
        switch self {
        case .auth(let key, let signature):
            writer.write(unsigned: UInt64(AxonMessageType.auth.rawValue))
            writer.write(.map(["pubkey": .binary(key.bytes), "sig": .binary(signature)]))
        case .publish(let event):
            writer.write(unsigned: UInt64(AxonMessageType.publish.rawValue))
            writer.writeMapHeader(1)
            writer.write(string: "event")
            AxonEventCoding.encode(event, into: &writer)
        case .subscribe(let sub, let filters):
            writer.write(unsigned: UInt64(AxonMessageType.subscribe.rawValue))
            writer.writeMapHeader(2)
            writer.write(string: "filters")
            writer.writeArrayHeader(filters.count)
            for filter in filters { filter.encode(into: &writer) }
            writer.write(string: "sub")
            writer.write(string: sub)
        case .unsubscribe(let sub):
            writer.write(unsigned: UInt64(AxonMessageType.unsubscribe.rawValue))
            writer.write(.map(["sub": .string(sub)]))
        }
        return writer.bytes
    }
}

/// A message from the relay to an axon client.
public enum AxonRelayMessage: Sendable, Equatable {
    case challenge(nonce: [UInt8])
    /// After a good auth (no id) or an accepted event (its id).
    case ok(EventID?)
    case error(AxonErrorCode, String, id: EventID? = nil, sub: String? = nil)
    /// An event of a subscription, as its encoded event map (`AxonEventCoding.encode`).
    case event(sub: String, encodedEvent: [UInt8])
    case endOfStored(sub: String)

    public func encoded() -> [UInt8] {
        var writer = MessagePackWriter()
        writer.writeArrayHeader(2)
        switch self {
        case .challenge(let nonce):
            writer.write(unsigned: UInt64(AxonMessageType.challenge.rawValue))
            writer.write(.map(["nonce": .binary(nonce)]))
        case .ok(let id):
            writer.write(unsigned: UInt64(AxonMessageType.ok.rawValue))
            writer.write(.map(id.map { ["id": .binary($0.raw.bytes)] } ?? [:]))
        case .error(let code, let message, let id, let sub):
            writer.write(unsigned: UInt64(AxonMessageType.error.rawValue))
            var fields: [String: MessagePackValue] = ["code": .int(Int64(code.rawValue)), "message": .string(message)]
            if let id { fields["id"] = .binary(id.raw.bytes) }
            if let sub { fields["sub"] = .string(sub) }
            writer.write(.map(fields))
        case .event(let sub, let encodedEvent):
            return AxonRelayMessage.eventPrefix(sub: sub) + encodedEvent
        case .endOfStored(let sub):
            writer.write(unsigned: UInt64(AxonMessageType.endOfStored.rawValue))
            writer.write(.map(["sub": .string(sub)]))
        }
        return writer.bytes
    }

    /// Everything of an `Event` frame before the event map, so that one encoding of an
    /// event is shared by every subscriber, as the NIP-01 path shares its JSON.
    public static func eventPrefix(sub: String) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.writeArrayHeader(2)
        writer.write(unsigned: UInt64(AxonMessageType.event.rawValue))
        writer.writeMapHeader(2)
        writer.write(string: "sub")
        writer.write(string: sub)
        writer.write(string: "event")
        return writer.bytes
    }

    /// Decodes a relay message (clients: the bench and the tests).
    public static func decode(_ frame: [UInt8]) throws(AxonDecodingError) -> AxonRelayMessage {
        let value: MessagePackValue
        do {
            value = try MessagePackReader.decode(frame)
        } catch {
            throw AxonDecodingError("malformed MessagePack: \(error.detail)")
        }
        guard case .array(let parts) = value, parts.count == 2, case .int(let number) = parts[0],
            let code = UInt16(exactly: number)
        else { throw AxonDecodingError("a frame must be the array [msg_type, payload]") }
        let fields = try Fields(parts[1], "payload")
        switch AxonMessageType(rawValue: code) {
        case .challenge: return .challenge(nonce: try fields.binary("nonce"))
        case .ok: return .ok(fields.has("id") ? EventID(try fields.bytes32("id")) : nil)
        case .error:
            guard let errorCode = AxonErrorCode(rawValue: UInt16(clamping: try fields.integer("code"))) else {
                throw AxonDecodingError("unknown error code")
            }
            return .error(
                errorCode, try fields.string("message"), id: fields.has("id") ? EventID(try fields.bytes32("id")) : nil,
                sub: fields.has("sub") ? try fields.string("sub") : nil)
        case .event:
            let event = try AxonEventCoding.decode(try fields.value("event"))
            return .event(sub: try fields.string("sub"), encodedEvent: AxonEventCoding.encode(event))
        case .endOfStored: return .endOfStored(sub: try fields.string("sub"))
        case .auth, .publish, .subscribe, .unsubscribe, nil:
            throw AxonDecodingError("unknown relay message type \(code)")
        }
    }
}
