import Foundation
import GRDB
import NostrCore

/// Every term the full-text index has held (`search_terms`), so that a NIP-50 prefix can
/// be spelled out as the terms it stands for.
///
/// FTS5 answers a prefix query (`"relay"*`) by merging the whole list of every matching
/// term into memory before it returns a row: 25-30 ms for a word in 600,000 of a million
/// notes, however few rows are wanted. The same words as exact terms (`"relay" OR
/// "relays"`) are read lazily, newest first, and stop at the limit (under 1 ms).
///
/// The table only grows: a term whose last event is gone stays, and costs an empty branch
/// of the query. It is a superset of the index's terms because every stored event that
/// may be indexed records its terms in the same transaction (`record`), tokenized by the
/// index's own tokenizer, and a rebuild of the index rebuilds it from the index itself.
enum SearchVocabulary {
    /// More terms than this under one prefix (a three-letter prefix of real text can stand
    /// for thousands): the prefix query FTS5 merges itself, slower but bounded by the index.
    static let maxTermsPerPrefix = 64

    /// The tokenizer `events_fts` is declared with (`SQLiteSchema.createSearch`).
    static let tokenizer = FTS5TokenizerDescriptor.unicode61(diacritics: .remove)

    /// Records the terms of `events`' content, those of kinds no index holds left out.
    static func record(_ events: some Sequence<Event>, _ db: Database) throws {
        var terms = Set<String>()
        var tokenizer: (any FTS5Tokenizer)?
        for event in events where !SearchQuery.unindexedKinds.contains(event.kind) && !event.content.isEmpty {
            // ASCII words are read directly: through FTS5's tokenizer every note cost a
            // callback and a string per token, 6% of the relay's CPU during ingest, on its
            // one writer thread. Only words with other characters still go through it.
            let words = SearchQuery.splitWords(event.content)
            terms.formUnion(words.asciiTerms)
            guard !words.otherWords.isEmpty else { continue }
            if tokenizer == nil { tokenizer = try db.makeTokenizer(Self.tokenizer) }
            for token in try tokenizer!.tokenize(document: words.otherWords) { terms.insert(token.token) }
        }
        guard !terms.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_terms(term) VALUES (?)")
        for term in terms {
            statement.setUncheckedArguments([term])
            try statement.execute()
        }
    }

    /// Rebuilds the table from the index's own terms (one pass over the whole index).
    static func rebuild(_ db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM search_terms;
                INSERT OR IGNORE INTO search_terms(term) SELECT term FROM events_fts_vocabulary;
                """)
    }

    /// The FTS5 query of `tokens` (`SearchQuery.tokens`), every token required, with how
    /// many phrases stand for each token (for `SearchRankFunction`).
    static func match(_ tokens: [String], _ db: Database) throws -> (expression: String, phrasesPerToken: [Int]) {
        let statement = try db.cachedStatement(
            sql: "SELECT term FROM search_terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?")
        var groups: [String] = []
        var sizes: [Int] = []
        for token in tokens {
            guard token.count >= SearchQuery.minimumPrefixLength else {
                groups.append(quoted(token))
                sizes.append(1)
                continue
            }
            // Every UTF-8 string starting with `token` sorts before `token` + U+10FFFF.
            let terms = try String.fetchAll(
                statement, arguments: [token, token + "\u{10FFFF}", maxTermsPerPrefix + 1])
            if terms.isEmpty || terms.count > maxTermsPerPrefix {
                groups.append(quoted(token) + "*")
                sizes.append(1)
            } else {
                groups.append(terms.count == 1 ? quoted(terms[0]) : "(" + terms.map(quoted).joined(separator: " OR ") + ")")
                sizes.append(terms.count)
            }
        }
        return (groups.joined(separator: " AND "), sizes)
    }

    private static func quoted(_ term: String) -> String {
        "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
