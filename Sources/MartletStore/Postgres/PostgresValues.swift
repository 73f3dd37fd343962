import Foundation
import Logging
import NIOCore
import NostrCore
import PostgresNIO

// How Nostr values are spelled in the PostgreSQL store: ids and keys as 32-byte `bytea`,
// never hex text, as in the SQLite store.

extension Bytes32 {
    var postgresBytes: ByteBuffer { withUnsafeBytes { ByteBuffer(bytes: $0) } }

    /// Reads a 32-byte `bytea` column.
    init(postgres buffer: ByteBuffer) throws {
        guard buffer.readableBytes == 32 else { throw StoreError("stored id or key is not 32 bytes") }
        self = buffer.withUnsafeReadableBytes { Bytes32($0) }
    }
}

extension EventID {
    var postgresBytes: ByteBuffer { raw.postgresBytes }
}

extension PublicKey {
    var postgresBytes: ByteBuffer { raw.postgresBytes }
}

extension Kind {
    var postgresInt: Int32 { Int32(rawValue) }
}

extension TagValue {
    /// The stored `bytea` of a tag value: 64 lowercase hex digits (the `e`, `p` tags that
    /// make up most tags) as their 32 bytes, anything else as its UTF-8. A text of exactly
    /// 32 bytes gets a trailing 0xFF, a byte UTF-8 never holds, so that no text can equal
    /// the bytes of an id; the same rule applied to filter values keeps matching exact.
    static func postgresBytes(_ value: String) -> ByteBuffer {
        if value.utf8.count == 64, let raw = Bytes32(hex: value) {
            return raw.postgresBytes
        }
        var buffer = ByteBuffer(string: value)
        if buffer.readableBytes == 32 { buffer.writeInteger(UInt8(0xFF)) }
        return buffer
    }
}

/// NIP-50 text as the PostgreSQL full-text index holds it.
///
/// The SQLite store's FTS5 tokenizer lower-cases, strips diacritics and splits on anything
/// that is not a letter or a digit; PostgreSQL's `simple` configuration does neither of the
/// first two without the `unaccent` extension (which needs a superuser to install), so the
/// folding happens here, on both the stored text and the query, and the two stores find the
/// same events.
///
/// ```swift
/// SearchText.document("Le café de NOSTR")  // "le cafe de nostr"
/// SearchText.query("thé")                  // "'the':*"
/// ```
enum SearchText {
    /// Kinds whose content is ciphertext (NIP-04, NIP-59): not indexed, as in SQLite and live.
    static let unsearchableKinds: Set<Kind> = SearchQuery.unindexedKinds

    /// A tsvector holds at most 1 MiB of lexemes; content past this many bytes is not
    /// indexed rather than failing the insert.
    static let maximumDocumentBytes = 256 * 1024

    /// The text given to `to_tsvector('simple', ...)` for `event`, or nil when `kinds`
    /// does not index its kind.
    static func document(for event: Event, kinds: SearchableKinds = .all) -> String? {
        guard kinds.contains(event.kind) else { return nil }
        return document(capped: event.content)
    }

    /// The document of `content`, cut to `maximumDocumentBytes` first.
    static func document(capped content: String) -> String {
        var content = content
        if content.utf8.count > maximumDocumentBytes {
            content = String(decoding: content.utf8.prefix(maximumDocumentBytes), as: UTF8.self)
        }
        return document(content)
    }

    static func document(_ text: String) -> String {
        tokens(text).joined(separator: " ")
    }

    /// A `to_tsquery('simple', ...)` text in which every token of `search` must appear as a
    /// word or, from `SearchQuery.minimumPrefixLength` on, a word prefix (as in SQLite and
    /// live), or nil when the search has no word the index holds.
    static func query(_ search: String) -> String? {
        let tokens = SearchQuery(search).tokens
        guard !tokens.isEmpty else { return nil }
        // Tokens are letters and digits only, so quoting needs no escaping.
        return tokens.map { $0.count < SearchQuery.minimumPrefixLength ? "'\($0)'" : "'\($0)':*" }
            .joined(separator: " & ")
    }

    /// The same tokens live matching uses (`SearchQuery.tokens`).
    private static func tokens(_ text: String) -> [String] { SearchQuery.tokens(text) }
}

/// A stable 32-bit hash (FNV-1a) for advisory lock keys: the same address must give the
/// same key on every node, which rules out Swift's per-process seeded `Hasher`.
struct StableHash {
    private(set) var value: UInt32 = 2_166_136_261

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt32(byte)) &* 16_777_619
        }
    }

    var int32: Int32 { Int32(bitPattern: value) }
}

/// Bind parameters collected while SQL text is written: `bind` appends a value and returns
/// its `$n` placeholder.
struct SQLBinds {
    private(set) var bindings = PostgresBindings()

    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

extension PostgresRowSequence {
    /// Every row's first column as a stored event.
    func storedEvents() async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        for try await json in decode(ByteBuffer.self) {
            events.append(try decodingStored { try StoredEvent(storedJSON: Array(json.readableBytesView)) })
        }
        return events
    }
}

extension Event {
    init(stored json: ByteBuffer) throws {
        self = try decodingStored { try EventDecoder.decode(storedJSON: Array(json.readableBytesView)) }
    }
}

extension PostgresConnection {
    /// Runs a statement whose rows, if any, are not wanted, and waits for it to finish.
    /// postgres-nio returns from `query` once rows start to arrive, so an error later in
    /// the statement (a lock wait timing out) would otherwise surface only at the next one,
    /// as "current transaction is aborted".
    func perform(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension PostgresClient {
    /// `PostgresConnection.perform` on a pooled connection.
    func perform(_ query: PostgresQuery) async throws {
        for try await _ in try await self.query(query) {}
    }
}
