import Logging
import NIOCore
import NostrCore
import PostgresNIO

/// Reads, in a handful of queries, everything in the database that a batch of events can
/// touch: stored events with its ids, requests to vanish of its keys, deletions of its ids
/// and addresses, and the current versions at its addresses (see `PostgresBatchPlan`).
///
/// ```swift
/// var plan = PostgresBatchPlan(stored: try await writer.readStored(for: events))
/// ```
extension PostgresEventWriter {
    func readStored(for events: [Event]) async throws -> PostgresBatchPlan.Stored {
        var stored = PostgresBatchPlan.Stored()
        var createdAtByID: [EventID: Int64] = [:]
        for event in events { createdAtByID[event.id] = event.createdAt }
        let pairs = Array(createdAtByID)
        let ids = pairs.map(\.key.postgresBytes)
        let createdAts = pairs.map(\.value)
        // By id and `created_at`, which the id hashes: each probe reads one partition.
        for try await (id, pubkey, kind) in try await connection.query(
            """
            SELECT e.id, e.pubkey, e.kind FROM unnest(\(ids)::bytea[], \(createdAts)::bigint[])
                AS v(id, created_at)
            JOIN events e ON e.id = v.id AND e.created_at = v.created_at
            """, logger: logger
        ).decode((ByteBuffer, ByteBuffer, Int32).self) {
            stored.events[EventID(try Bytes32(postgres: id))] = (PublicKey(try Bytes32(postgres: pubkey)), Kind(UInt16(truncatingIfNeeded: kind)))
        }
        for try await (id, pubkey) in try await connection.query(
            "SELECT id, pubkey FROM deleted_ids WHERE id = ANY(\(ids)::bytea[])", logger: logger
        ).decode((ByteBuffer, ByteBuffer).self) {
            stored.deletedIDs.insert(
                .init(id: EventID(try Bytes32(postgres: id)), pubkey: PublicKey(try Bytes32(postgres: pubkey))))
        }

        let keys = Set(events.flatMap(WriteRules.vanishKeys))
        for try await (pubkey, until) in try await connection.query(
            "SELECT pubkey, until FROM vanished WHERE pubkey = ANY(\(keys.map(\.postgresBytes))::bytea[])",
            logger: logger
        ).decode((ByteBuffer, Int64).self) {
            stored.vanishedUntil[PublicKey(try Bytes32(postgres: pubkey))] = until
        }

        let addresses = Array(Set(events.compactMap(StoredAddress.init(of:))))
        guard !addresses.isEmpty else { return stored }
        let authors = addresses.map(\.pubkey.postgresBytes)
        let kinds = addresses.map(\.kind.postgresInt)
        let dTags = addresses.map(\.dTag)
        for try await (pubkey, kind, dTag, until) in try await connection.query(
            """
            SELECT d.pubkey, d.kind, d.d_tag, d.deleted_until FROM deleted_addresses d
            JOIN unnest(\(authors)::bytea[], \(kinds)::integer[], \(dTags)::text[]) AS a(pubkey, kind, d_tag)
                ON d.pubkey = a.pubkey AND d.kind = a.kind AND d.d_tag = a.d_tag
            """, logger: logger
        ).decode((ByteBuffer, Int32, String, Int64).self) {
            stored.deletedUntil[try address(pubkey, kind, dTag)] = until
        }
        for try await (pubkey, kind, dTag, seq, createdAt, id) in try await connection.query(
            """
            SELECT e.pubkey, e.kind, e.d_tag, e.seq, e.created_at, e.id FROM events e
            JOIN unnest(\(authors)::bytea[], \(kinds)::integer[], \(dTags)::text[]) AS a(pubkey, kind, d_tag)
                ON e.pubkey = a.pubkey AND e.kind = a.kind AND e.d_tag = a.d_tag
            """, logger: logger
        ).decode((ByteBuffer, Int32, String, Int64, Int64, ByteBuffer).self) {
            stored.current[try address(pubkey, kind, dTag)] = .init(
                row: seq, createdAt: createdAt, id: EventID(try Bytes32(postgres: id)))
        }
        return stored
    }

    private func address(_ pubkey: ByteBuffer, _ kind: Int32, _ dTag: String) throws -> StoredAddress {
        .init(pubkey: PublicKey(try Bytes32(postgres: pubkey)), kind: Kind(UInt16(truncatingIfNeeded: kind)), dTag: dTag)
    }
}
