import Foundation
internal import GRDB
import NostrCore

/// Where an event stands among those of its `created_at`, as the driving indexes hold it
/// right after `created_at`, so that reading an index newest first is NIP-01's whole order:
/// "in the case of the same created_at the lowest id (lexical order) should be first".
///
/// The rank is the id's first 15 bits, reversed: streams are read in descending order, so a
/// lower id must rank higher. Two events of one second share a rank once in 32,768 pairs;
/// readers order such a group by the whole id (`NewestEvents`). Fifteen bits keep the value
/// within two bytes of each index entry, where the id itself would take 33.
///
/// Without it the indexes ended at `created_at`, and a REQ whose limit fell inside a burst
/// (the fan-out bench's 5,000 notes of one second) read every row of that second, each a
/// lookup in the table, to find the lowest ids.
///
/// ```swift
/// TieRank.of(EventID(hex: "0000" + String(repeating: "f", count: 60))!) // 32767
/// ```
enum TieRank {
    static let highest: Int64 = 32_767

    static func of(_ id: EventID) -> Int64 {
        highest - Int64(id.raw.w0 >> 49)
    }

    /// `martlet_tie_rank(id)`: the rank of a 32-byte id, for the schema step that ranks the
    /// rows stored before ranks existed.
    static let sqlFunction = DatabaseFunction("martlet_tie_rank", argumentCount: 1, pure: true) { values in
        guard let data = Data.fromDatabaseValue(values[0]), data.count == 32 else { return nil }
        return of(EventID(data.withUnsafeBytes { Bytes32($0) }))
    }
}
