/// A message from a relay to a client, encoded straight to bytes.
///
/// ```swift
/// let frame = RelayMessage.ok(event.id, accepted: true, message: "").encoded()
/// ```
public enum RelayMessage: Sendable, Equatable {
    /// `["EVENT",<sub>,<event>]` with the event's stored JSON spliced in verbatim.
    case event(SubscriptionID, eventJSON: [UInt8])
    case ok(EventID, accepted: Bool, message: String)
    case eose(SubscriptionID)
    case closed(SubscriptionID, message: String)
    case notice(String)
    /// NIP-42 challenge.
    case auth(challenge: String)
    /// NIP-45; `hll` is the 256-register HyperLogLog as hex when the relay offers one.
    case count(SubscriptionID, count: Int, approximate: Bool = false, hll: String? = nil)
    case negMsg(SubscriptionID, message: String)
    case negErr(SubscriptionID, reason: String)

    /// `["EVENT","<subscription>",`: what precedes a stored event's JSON (and a closing
    /// `]` follows it) in every EVENT message of one subscription. Encoded once per
    /// subscription, so that fan-out shares the event's bytes instead of copying them into
    /// a message per subscriber.
    public static func eventPrefix(_ subscription: SubscriptionID) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(subscription.value.utf8.count + 14)
        out.append(contentsOf: #"["EVENT","#.utf8)
        EventSerializer.appendString(subscription.value, to: &out)
        out.append(UInt8(ascii: ","))
        return out
    }

    /// The JSON text of this message.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        func head(_ type: String) {
            out.append(contentsOf: #"[""#.utf8)
            out.append(contentsOf: type.utf8)
            out.append(contentsOf: #"","#.utf8)
        }
        func string(_ value: String) { EventSerializer.appendString(value, to: &out) }
        switch self {
        case .event(let id, let json):
            out.reserveCapacity(json.count + id.value.utf8.count + 16)
            head("EVENT")
            string(id.value)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: json)
        case .ok(let id, let accepted, let message):
            head("OK")
            out.append(UInt8(ascii: "\""))
            id.raw.appendHex(to: &out)
            out.append(contentsOf: accepted ? #"",true,"#.utf8 : #"",false,"#.utf8)
            string(message)
        case .eose(let id):
            head("EOSE")
            string(id.value)
        case .closed(let id, let message):
            head("CLOSED")
            string(id.value)
            out.append(UInt8(ascii: ","))
            string(message)
        case .notice(let message):
            head("NOTICE")
            string(message)
        case .auth(let challenge):
            head("AUTH")
            string(challenge)
        case .count(let id, let count, let approximate, let hll):
            head("COUNT")
            string(id.value)
            out.append(contentsOf: #",{"count":"#.utf8)
            EventSerializer.appendInteger(Int64(count), to: &out)
            if approximate { out.append(contentsOf: #","approximate":true"#.utf8) }
            if let hll {
                out.append(contentsOf: #","hll":"#.utf8)
                string(hll)
            }
            out.append(UInt8(ascii: "}"))
        case .negMsg(let id, let message):
            head("NEG-MSG")
            string(id.value)
            out.append(UInt8(ascii: ","))
            string(message)
        case .negErr(let id, let reason):
            head("NEG-ERR")
            string(id.value)
            out.append(UInt8(ascii: ","))
            string(reason)
        }
        out.append(UInt8(ascii: "]"))
    }
}
