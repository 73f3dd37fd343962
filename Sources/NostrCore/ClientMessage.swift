/// A message from a client to a relay (NIP-01, NIP-42, NIP-45, NIP-77).
///
/// ```swift
/// switch try ClientMessage.decode(frameBytes) {
/// case .event(let event): …
/// case .req(let id, let filters): …
/// default: …
/// }
/// ```
public enum ClientMessage: Sendable, Equatable {
    case event(Event)
    case req(SubscriptionID, [Filter])
    case close(SubscriptionID)
    case auth(Event)
    case count(SubscriptionID, [Filter])
    /// NIP-77: subscription id, filter, initial message (hex).
    case negOpen(SubscriptionID, Filter, String)
    case negMsg(SubscriptionID, String)
    case negClose(SubscriptionID)

    /// Default bound on the size of one message: above it, decoding refuses outright.
    public static let defaultMaxLength = 512 * 1024

    /// NIP-01: a subscription id is a non-empty string of at most 64 characters.
    public static let maxSubscriptionIDLength = 64

    /// Decodes one client message. Refuses messages longer than `maxLength` bytes before
    /// reading any of them.
    public static func decode(_ bytes: [UInt8], maxLength: Int = defaultMaxLength) throws(WireError) -> ClientMessage {
        guard bytes.count <= maxLength else {
            throw WireError(.tooLarge, "invalid: message is larger than \(maxLength) bytes", at: 0)
        }
        return try bytes.withWireBytes { raw throws(WireError) in try decode(raw) }
    }

    /// Decodes one client message from raw bytes (no length bound applied).
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(WireError) -> ClientMessage {
        var reader = JSONReader(raw)
        try reader.beginArray("message")
        var count = 0
        guard try reader.nextElement(&count) else {
            throw WireError(.wrongArity, "invalid: empty message array", at: reader.offset)
        }
        let typeOffset = reader.offset
        let type = try reader.readString("message type")
        let message: ClientMessage
        switch type {
        case "EVENT":
            try element(&reader, &count, type)
            message = .event(try EventDecoder.decode(from: &reader))
            try end(&reader, &count, type, expected: "2")
        case "AUTH":
            try element(&reader, &count, type)
            message = .auth(try EventDecoder.decode(from: &reader))
            try end(&reader, &count, type, expected: "2")
        case "REQ", "COUNT":
            let id = try subscriptionID(&reader, &count, type)
            var filters = [Filter]()
            while try reader.nextElement(&count) { filters.append(try Filter.decode(from: &reader)) }
            guard !filters.isEmpty else {
                throw WireError(.wrongArity, "invalid: \(type) needs at least one filter", at: reader.offset)
            }
            message = type == "REQ" ? .req(id, filters) : .count(id, filters)
        case "CLOSE":
            let id = try subscriptionID(&reader, &count, type)
            try end(&reader, &count, type, expected: "2")
            message = .close(id)
        case "NEG-OPEN":
            let id = try subscriptionID(&reader, &count, type)
            try element(&reader, &count, type)
            let filter = try Filter.decode(from: &reader)
            try element(&reader, &count, type)
            let payload = try hexPayload(&reader)
            try end(&reader, &count, type, expected: "4")
            message = .negOpen(id, filter, payload)
        case "NEG-MSG":
            let id = try subscriptionID(&reader, &count, type)
            try element(&reader, &count, type)
            let payload = try hexPayload(&reader)
            try end(&reader, &count, type, expected: "3")
            message = .negMsg(id, payload)
        case "NEG-CLOSE":
            let id = try subscriptionID(&reader, &count, type)
            try end(&reader, &count, type, expected: "2")
            message = .negClose(id)
        default:
            throw WireError(.unknownMessage, "invalid: unknown message type \"\(type.prefix(32))\"", at: typeOffset)
        }
        try reader.expectEnd()
        return message
    }

    static func element(_ reader: inout JSONReader, _ count: inout Int, _ type: String) throws(WireError) {
        guard try reader.nextElement(&count) else {
            throw WireError(.wrongArity, "invalid: \(type) message has too few elements", at: reader.offset)
        }
    }

    static func end(_ reader: inout JSONReader, _ count: inout Int, _ type: String, expected: String) throws(WireError) {
        guard try !reader.nextElement(&count) else {
            throw WireError(.wrongArity, "invalid: \(type) message must have \(expected) elements", at: reader.offset)
        }
    }

    static func subscriptionID(_ reader: inout JSONReader, _ count: inout Int, _ type: String) throws(WireError) -> SubscriptionID {
        try element(&reader, &count, type)
        let offset = reader.offset
        let value = try reader.readString("subscription id")
        let length = value.unicodeScalars.count
        guard length > 0, length <= maxSubscriptionIDLength else {
            throw WireError(
                .invalidValue, "invalid: subscription id must be 1 to \(maxSubscriptionIDLength) characters", at: offset)
        }
        return SubscriptionID(value)
    }

    static func hexPayload(_ reader: inout JSONReader) throws(WireError) -> String {
        let offset = reader.offset
        let value = try reader.readString("negentropy message")
        guard value.utf8.count % 2 == 0, value.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            throw WireError(.badHex, "invalid: negentropy message must be lowercase hex", at: offset)
        }
        return value
    }

    /// The subscription id the message names, if any (for answering a refused message).
    public var subscriptionID: SubscriptionID? {
        switch self {
        case .req(let id, _), .count(let id, _), .close(let id), .negOpen(let id, _, _), .negMsg(let id, _),
            .negClose(let id):
            id
        case .event, .auth: nil
        }
    }
}
