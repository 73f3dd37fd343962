import Foundation
internal import GRDB
import NostrCore

// How Nostr values are spelled in the SQLite store. Ids and keys are 32-byte blobs, never
// hex text, so indexes stay half the size and no row is converted on the way out.

extension Bytes32 {
    var databaseValue: DatabaseValue { withUnsafeBytes { Data($0) }.databaseValue }

    /// Reads a 32-byte blob column without copying it into an intermediate `Data`.
    init(row: Row, index: Int) throws {
        let value = try row.withUnsafeData(atIndex: index) { data -> Bytes32? in
            guard let data, data.count == 32 else { return nil }
            return data.withUnsafeBytes { Bytes32($0) }
        }
        guard let value else { throw StoreError("stored id or key is not 32 bytes") }
        self = value
    }
}

extension EventID {
    var databaseValue: DatabaseValue { raw.databaseValue }
}

extension PublicKey {
    var databaseValue: DatabaseValue { raw.databaseValue }
}

extension Kind {
    var databaseValue: DatabaseValue { Int64(rawValue).databaseValue }
}

/// The stored spelling of a tag value.
///
/// A value of exactly 64 lowercase hex digits (the `e`, `p`, `E`, `P` tags that make up
/// most tags) is kept as its 32 bytes, anything else as text. SQLite never equates a
/// blob with a text, so applying the same rule to filter values keeps matching exact.
enum TagValue {
    static func databaseValue(_ value: String) -> DatabaseValue {
        if value.utf8.count == 64, let raw = Bytes32(hex: value) {
            return raw.databaseValue
        }
        return value.databaseValue
    }
}

/// Bound-parameter lists for `IN (...)`.
///
/// The list length is rounded up to a small set of sizes (padding with the last value,
/// which `IN` ignores) so that the number of distinct SQL texts, and so of statements in
/// GRDB's per-connection cache, stays bounded whatever lists clients send.
enum SQLList {
    static func placeholders(_ count: Int) -> String {
        precondition(count > 0, "an empty list matches nothing and must not reach SQL")
        let size = paddedCount(count)
        var sql = "("
        sql.reserveCapacity(size * 2 + 1)
        for index in 0..<size {
            sql += index == 0 ? "?" : ",?"
        }
        return sql + ")"
    }

    static func append(_ values: [DatabaseValue], to arguments: inout [DatabaseValue]) {
        precondition(!values.isEmpty, "an empty list matches nothing and must not reach SQL")
        arguments.append(contentsOf: values)
        let padding = paddedCount(values.count) - values.count
        if padding > 0 {
            arguments.append(contentsOf: repeatElement(values[values.count - 1], count: padding))
        }
    }

    static func paddedCount(_ count: Int) -> Int {
        if count <= 4 { return count }
        var size = 8
        while size < count { size <<= 1 }
        return size
    }
}

extension StatementArguments {
    /// GRDB's generic initializer maps with a key path that is not specialized across modules
    /// and cost a sixth of a 500-author feed query; the existential one does not.
    init(values: [DatabaseValue]) {
        self.init(values.map { $0 as (any DatabaseValueConvertible)? })
    }
}
