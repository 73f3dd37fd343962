import Logging
import NIOCore
public import NostrCore
import PostgresNIO

/// What one node tells the others about an ephemeral event it accepted, as the payload of a
/// NOTIFY on `PostgresChannels.ephemeral`: the sending node's id, a line feed, then either
/// the event's canonical JSON or, for an event too large for a notification, `#` and its
/// `seq` in the `ephemeral_events` table.
///
/// A NOTIFY payload must be under 8000 bytes of text, so most events ride in the
/// notification itself and cost the database nothing but the message; the others are kept
/// in an UNLOGGED table (no WAL, emptied by a crash, which costs ephemeral events nothing)
/// for `retention`, long enough for every listening node to read them. Either way a
/// notification reaches each listening connection once and only after its transaction has
/// committed, so a reader never looks for a row too early.
///
/// ```swift
/// let payload = PostgresEphemeralNotice.payload(node: node, inline: event.json)
/// let notice = PostgresEphemeralNotice(payload: payload!, skipping: otherNode)
/// ```
enum PostgresEphemeralNotice: Sendable {
    case event(Event)
    case stored(seq: Int64)

    /// The largest canonical JSON sent inline; with the node id and a line feed it stays
    /// well below PostgreSQL's 8000-byte payload limit.
    static let inlineLimit = 7_900
    /// How long a large event stays in `ephemeral_events`.
    static let retention = "60 seconds"

    /// The payload that carries `json` itself, or nil when it must go through the table: too
    /// large, or not text a notification can carry (a NUL byte, invalid UTF-8).
    static func payload(node: String, inline json: [UInt8]) -> String? {
        guard json.count <= inlineLimit, !json.contains(0), let text = String(validating: json, as: UTF8.self) else {
            return nil
        }
        return node + "\n" + text
    }

    /// The notice in `payload`, or nil when it is `node`'s own (a node hears its own
    /// NOTIFYs) or does not parse.
    init?(payload: String, skipping node: String) {
        guard let newline = payload.utf8.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        guard !payload.utf8[..<newline].elementsEqual(node.utf8) else { return nil }
        let body = payload.utf8[payload.utf8.index(after: newline)...]
        if body.first == UInt8(ascii: "#") {
            guard let seq = Int64(String(Substring(body.dropFirst()))) else { return nil }
            self = .stored(seq: seq)
        } else {
            guard let event = try? EventDecoder.decode(json: Array(body)) else { return nil }
            self = .event(event)
        }
    }
}

extension PostgresEventStore {
    /// Sends the event to the other nodes' feeds: inline in a NOTIFY when it fits, through
    /// `ephemeral_events` otherwise (pruning what is past its retention on the way). Best
    /// effort, bounded by `Options.timeout`; a failure is logged once per outage.
    public func publishEphemeral(_ event: Event) async {
        let channel = channels.ephemeral
        let node = self.node
        do {
            if let payload = PostgresEphemeralNotice.payload(node: node, inline: event.json) {
                try await bounded("ephemeral publish", on: reads) { client in
                    try await client.perform("SELECT pg_notify(\(channel), \(payload))")
                }
            } else {
                let json = ByteBuffer(bytes: event.json)
                try await bounded("ephemeral publish", on: reads) { client in
                    // One statement, so one transaction: the notification goes out when the row is there.
                    try await client.perform(
                        """
                        WITH pruned AS (
                            DELETE FROM ephemeral_events
                            WHERE published < now() - \(PostgresEphemeralNotice.retention)::interval
                        ), kept AS (
                            INSERT INTO ephemeral_events (json) VALUES (\(json)) RETURNING seq
                        )
                        SELECT pg_notify(\(channel), \(node) || E'\\n#' || seq) FROM kept
                        """)
                }
            }
            if ephemeralPublishFailing.exchange(false, ordering: .relaxed) {
                logger.notice("ephemeral events reach the other nodes again")
            }
        } catch {
            if !ephemeralPublishFailing.exchange(true, ordering: .relaxed) {
                logger.warning("ephemeral events do not reach the other nodes: \(Self.describe(error))")
            }
        }
    }
}
