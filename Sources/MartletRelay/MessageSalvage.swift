public import NostrCore

/// Reads just enough of a message that failed to decode to answer it precisely: the event
/// id of a broken EVENT, the subscription id of a broken REQ or COUNT, or of a broken
/// NEG-OPEN / NEG-MSG (answered NEG-ERR, NIP-77).
public enum MessageSalvage {
    public enum Finding: Equatable, Sendable {
        case event(EventID?)
        case subscription(SubscriptionID?)
        case negentropy(SubscriptionID?)
        case other
    }

    public static func inspect(_ bytes: [UInt8]) -> Finding {
        let prefix = Array(bytes.prefix(64 * 1024))
        return prefix.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            do throws(WireError) {
                try reader.beginArray("message")
                var index = 0
                guard try reader.nextElement(&index) else { return .other }
                let type = try reader.readString("type")
                switch type {
                case "EVENT":
                    return .event(try? eventID(&reader, &index))
                case "REQ", "COUNT":
                    return .subscription(try? subscriptionID(&reader, &index))
                case "NEG-OPEN", "NEG-MSG":
                    return .negentropy(try? subscriptionID(&reader, &index))
                default:
                    return .other
                }
            } catch {
                return .other
            }
        }
    }

    private static func subscriptionID(_ reader: inout JSONReader, _ index: inout Int) throws(WireError) -> SubscriptionID? {
        guard try reader.nextElement(&index) else { return nil }
        let id = try reader.readString("subscription id")
        let valid = !id.isEmpty && id.unicodeScalars.count <= ClientMessage.maxSubscriptionIDLength
        return valid ? SubscriptionID(id) : nil
    }

    private static func eventID(_ reader: inout JSONReader, _ index: inout Int) throws(WireError) -> EventID? {
        guard try reader.nextElement(&index) else { return nil }
        try reader.beginObject("event")
        var member = 0
        while let key = try reader.nextKey(&member) {
            if key == "id" { return EventID(try reader.readHex32("id")) }
            try reader.skipValue()
        }
        return nil
    }
}
