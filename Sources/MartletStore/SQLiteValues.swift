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

extension Signature {
    /// The 64 bytes, `r` then `s`, copied once.
    var databaseValue: DatabaseValue { withUnsafeBytes { Data($0) }.databaseValue }
}

/// The stored spelling of a tag value.
///
/// A value of exactly 64 lowercase hex digits (the `e`, `p`, `E`, `P` tags that make up
/// most tags) is kept as its 32 bytes, anything else as text. SQLite never equates a
/// blob with a text, so applying the same rule to filter values keeps matching exact.
enum TagValue {
    enum Spelling {
        case key(Bytes32)
        case text(String)
    }

    static func spelling(_ value: String) -> Spelling {
        if value.utf8.count == 64, let raw = Bytes32(hex: value) { return .key(raw) }
        return .text(value)
    }

    static func databaseValue(_ value: String) -> DatabaseValue {
        switch spelling(value) {
        case .key(let raw): raw.databaseValue
        case .text(let text): text.databaseValue
        }
    }
}

/// A filter's list as one bound value: `column IN (SELECT ... FROM json_each(?))`.
///
/// One `?` per element made the SQL text depend on list lengths, and GRDB caches a
/// prepared statement per text on every connection: REQs differing only in the sizes of
/// their lists grew a relay by 628 MB in 20 s. As one JSON array the text depends only on
/// which lists a filter has. A single value stays `column = ?`, so that one stream is still
/// read in index order and stopped at the limit.
///
/// ```swift
/// let list = SQLList(keys: authors.map(\.raw))
/// conditions.add(list.condition("events.pubkey"))   // events.pubkey IN (SELECT ...)
/// ```
struct SQLList {
    /// Each element in its stored spelling (stream keys, a single value).
    let values: [DatabaseValue]
    /// The elements as JSON array items, spelled as `json_each` reads them back.
    private let items: Items
    /// The SQL that turns `json_each`'s `value` into the stored spelling.
    let element: String

    private enum Items {
        case keys([Bytes32])
        case strings([String])
        case integers([Int64])
    }

    /// Ids and pubkeys: stored as their 32 bytes, which `TagValue` makes of their hex too.
    init(keys: [Bytes32]) {
        precondition(!keys.isEmpty, "an empty list matches nothing and must not reach SQL")
        values = keys.map(\.databaseValue)
        items = .keys(keys)
        element = "\(SQLiteSchema.tagValueFunction.name)(value)"
    }

    /// Strings stored by `TagValue`'s rule: tag values.
    init(strings: [String]) {
        precondition(!strings.isEmpty, "an empty list matches nothing and must not reach SQL")
        values = strings.map(TagValue.databaseValue)
        items = .strings(strings)
        element = "\(SQLiteSchema.tagValueFunction.name)(value)"
    }

    /// Integers stored as themselves: kinds.
    init(integers: [Int64]) {
        precondition(!integers.isEmpty, "an empty list matches nothing and must not reach SQL")
        values = integers.map(\.databaseValue)
        items = .integers(integers)
        element = "value"
    }

    /// The whole list as one JSON array. Written only for a list of several: most filters
    /// name one author, one kind, one `#e`, and a REQ matching nothing spent 3% of its CPU
    /// spelling arrays no statement bound.
    var json: DatabaseValue {
        switch items {
        case .keys(let keys): JSONArray.strings(keys.map(\.hex)).databaseValue
        case .strings(let strings): JSONArray.strings(strings).databaseValue
        case .integers(let integers): ("[" + integers.map(String.init).joined(separator: ",") + "]").databaseValue
        }
    }

    /// `column = ?` for one element, `column IN (SELECT ... FROM json_each(?))` for more.
    func condition(_ column: String) -> (sql: String, arguments: [DatabaseValue]) {
        if values.count == 1 { return ("\(column) = ?", values) }
        return ("\(column) IN (SELECT \(element) FROM json_each(?))", [json])
    }
}

/// A JSON array of strings, written byte by byte: ids and pubkeys, the common case, have
/// nothing to escape.
enum JSONArray {
    static func strings(_ strings: [String]) -> String {
        var json: [UInt8] = [UInt8(ascii: "[")]
        json.reserveCapacity(strings.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, string) in strings.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(UInt8(ascii: "\""))
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    json.append(UInt8(ascii: "\\"))
                    json.append(byte)
                case 0..<0x20:
                    json.append(contentsOf: Array("\\u00".utf8))
                    json.append(hexDigit(byte >> 4))
                    json.append(hexDigit(byte & 0xF))
                default:
                    json.append(byte)
                }
            }
            json.append(UInt8(ascii: "\""))
        }
        json.append(UInt8(ascii: "]"))
        return String(decoding: json, as: UTF8.self)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

extension StatementArguments {
    /// GRDB's generic initializer maps with a key path that is not specialized across modules
    /// and cost a sixth of a 500-author feed query; the existential one does not.
    init(values: [DatabaseValue]) {
        self.init(values.map { $0 as (any DatabaseValueConvertible)? })
    }
}
