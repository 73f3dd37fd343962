public import CoreMetrics
import NostrCore

/// What crosses the wire, by verb: each client message and each relay message counted
/// under its NIP-01 verb, bytes in and out, and accepted events by kind. Every label set is
/// fixed here, so a client cannot grow the metrics by sending made-up verbs or kinds: an
/// unknown verb counts as `other`, a kind outside the named ones under its range.
///
/// ```swift
/// metrics.wire.recordClientMessage(bytes)                 // martlet_client_messages_total{verb="REQ"}
/// metrics.wire.recordRelayMessage(head: head, bytes: 312) // martlet_relay_messages_total{verb="EVENT"}
/// ```
public final class WireMetrics: Sendable {
    static let clientVerbs = ["EVENT", "REQ", "CLOSE", "AUTH", "COUNT", "NEG-OPEN", "NEG-MSG", "NEG-CLOSE", "other"]
    static let relayVerbs = ["EVENT", "OK", "EOSE", "CLOSED", "NOTICE", "AUTH", "COUNT", "NEG-MSG", "NEG-ERR", "other"]
    /// Kinds common enough to be worth a series of their own; the rest count by range.
    static let namedKinds: Set<UInt16> = [
        0, 1, 3, 4, 5, 6, 7, 8, 16, 40, 41, 42, 1059, 1063, 1984, 9734, 9735, 10000, 10002, 30023,
    ]

    private let clientMessages: [String: Counter]
    private let relayMessages: [String: Counter]
    private let acceptedByKind: [String: Counter]
    /// The named verbs' counters with their bytes, for matching without a `String`.
    private let clientVerbCounters: [(verb: [UInt8], counter: Counter)]
    private let relayVerbCounters: [(verb: [UInt8], counter: Counter)]
    private let bytesReceived: Counter
    private let bytesSent: Counter

    public init(factory: any MetricsFactory) {
        func counters(_ label: String, _ dimension: String, _ values: [String]) -> [String: Counter] {
            Dictionary(uniqueKeysWithValues: values.map {
                ($0, Counter(label: label, dimensions: [(dimension, $0)], factory: factory))
            })
        }
        clientMessages = counters("martlet_client_messages_total", "verb", Self.clientVerbs)
        relayMessages = counters("martlet_relay_messages_total", "verb", Self.relayVerbs)
        func byBytes(_ counters: [String: Counter]) -> [(verb: [UInt8], counter: Counter)] {
            counters.filter { $0.key != "other" }.map { (Array($0.key.utf8), $0.value) }
        }
        clientVerbCounters = byBytes(clientMessages)
        relayVerbCounters = byBytes(relayMessages)
        acceptedByKind = counters(
            "martlet_events_accepted_by_kind_total", "kind",
            Self.namedKinds.map(String.init) + ["replaceable", "ephemeral", "addressable", "other"])
        bytesReceived = Counter(label: "martlet_bytes_received_total", factory: factory)
        bytesSent = Counter(label: "martlet_bytes_sent_total", factory: factory)
    }

    /// One message from a client, as it arrived.
    public func recordClientMessage(_ message: [UInt8]) {
        bytesReceived.increment(by: message.count)
        (Self.verb(of: message, among: clientVerbCounters) ?? clientMessages["other"])?.increment()
    }

    /// One message to a client: its opening bytes (`["EVENT","sub",`) and its whole size.
    public func recordRelayMessage(head: [UInt8], bytes: Int) {
        bytesSent.increment(by: bytes)
        (Self.verb(of: head, among: relayVerbCounters) ?? relayMessages["other"])?.increment()
    }

    /// A batch of messages to one client, counted once per run of frames sharing one head
    /// (a REQ's events share their subscription's) rather than once per message.
    public func recordRelayMessages(_ frames: [OutboundFrame]) {
        var bytes = 0
        var index = frames.startIndex
        while index < frames.endIndex {
            let head = frames[index].head
            var run = 0
            while index < frames.endIndex, frames[index].head == head {
                bytes += frames[index].byteCount
                run += 1
                index += 1
            }
            (Self.verb(of: head, among: relayVerbCounters) ?? relayMessages["other"])?.increment(by: run)
        }
        bytesSent.increment(by: bytes)
    }

    func recordAccepted(_ kind: Kind) {
        acceptedByKind[Self.series(of: kind)]?.increment()
    }

    static func series(of kind: Kind) -> String {
        let value = kind.rawValue
        if namedKinds.contains(value) { return String(value) }
        switch value {
        case 10000..<20000: return "replaceable"
        case 20000..<30000: return "ephemeral"
        case 30000..<40000: return "addressable"
        default: return "other"
        }
    }

    /// The counter of the verb a message opens with (`["REQ", …`), compared as bytes so
    /// that counting allocates nothing per message; nil when it is none of `verbs`.
    /// Reads at most the first 32 bytes: the decoder judges the rest.
    static func verb(of message: [UInt8], among verbs: [(verb: [UInt8], counter: Counter)]) -> Counter? {
        var index = 0
        let end = min(message.count, 32)
        func skipSpace() {
            while index < end, [0x20, 0x09, 0x0A, 0x0D].contains(message[index]) { index += 1 }
        }
        skipSpace()
        guard index < end, message[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        skipSpace()
        guard index < end, message[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        while index < end, message[index] != UInt8(ascii: "\"") { index += 1 }
        guard index < end else { return nil }
        let verb = message[start..<index]
        return verbs.first { $0.verb.elementsEqual(verb) }?.counter
    }
}
