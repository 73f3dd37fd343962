import NostrCore

/// The part of a relay message a benchmark needs, read straight from the frame's bytes.
///
/// Not `RelayMessage.decode` on purpose: that one checks a whole `EVENT` object and copies
/// it out, which at fan-out rates (hundreds of thousands of deliveries a second, on the
/// cores the relay under test also needs) would make the load generator the bottleneck.
/// Here an `EVENT` is read only as far as its `id`, and types and subscription ids are
/// short enough to be small `String`s, so the common replies parse without a heap
/// allocation. The price is leniency: anything unreadable is `.other`.
///
/// ```swift
/// let reply = RelayReply(bytes) // .ok(id, accepted: true, message: "")
/// ```
enum RelayReply: Sendable, Equatable {
    case event(subscription: String, id: EventID)
    case ok(EventID, accepted: Bool, message: String)
    case eose(subscription: String)
    case closed(subscription: String, message: String)
    case notice(String)
    /// NIP-45's answer: the subscription and `count` (the object's other keys, `hll`, skipped).
    case count(subscription: String, count: Int64)
    /// Anything else (AUTH, unknown types) or a message that does not parse.
    case other

    init(_ text: UnsafeRawBufferPointer) {
        var reader = JSONReader(text)
        self = (try? Self.read(&reader)) ?? .other
    }

    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { RelayReply($0) }
    }

    private static func read(_ reader: inout JSONReader) throws(WireError) -> RelayReply {
        try reader.beginArray("message")
        var count = 0
        guard try reader.nextElement(&count) else { return .other }
        let type = try reader.readString("type")
        guard try reader.nextElement(&count) else { return .other }
        switch type {
        case "EVENT":
            let subscription = try reader.readString("subscription")
            guard try reader.nextElement(&count) else { return .other }
            try reader.beginObject("event")
            var index = 0
            while let key = try reader.nextKey(&index) {
                // NIP-01 fixes no key order; relays that store canonical JSON put `id` first.
                if key == "id" { return .event(subscription: subscription, id: EventID(try reader.readHex32("id"))) }
                try reader.skipValue()
            }
            return .other
        case "OK":
            let id = EventID(try reader.readHex32("id"))
            guard try reader.nextElement(&count) else { return .other }
            let accepted = try reader.peek() == UInt8(ascii: "t")
            try reader.skipValue()
            var message = ""
            if try reader.nextElement(&count) { message = try reader.readString("message") }
            return .ok(id, accepted: accepted, message: message)
        case "EOSE":
            return .eose(subscription: try reader.readString("subscription"))
        case "CLOSED":
            let subscription = try reader.readString("subscription")
            var message = ""
            if try reader.nextElement(&count) { message = try reader.readString("message") }
            return .closed(subscription: subscription, message: message)
        case "NOTICE":
            return .notice(try reader.readString("notice"))
        case "COUNT":
            let subscription = try reader.readString("subscription")
            guard try reader.nextElement(&count) else { return .other }
            try reader.beginObject("count")
            var index = 0
            while let key = try reader.nextKey(&index) {
                if key == "count" {
                    return .count(subscription: subscription, count: try reader.readInteger("count", in: 0...Int64.max))
                }
                try reader.skipValue()
            }
            return .other
        default:
            return .other
        }
    }
}
