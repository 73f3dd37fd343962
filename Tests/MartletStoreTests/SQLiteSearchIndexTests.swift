import Foundation
import GRDB
@testable import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The full-text index caught up at the end of each write (`SQLiteSearchIndex`): whatever a
/// batch stores, replaces and deletes, the index holds exactly the searchable events stored.
@Suite("SQLite search index, caught up per batch")
struct SQLiteSearchIndexTests {
    /// Entries in the index against searchable rows in `events`: a removal applied to an
    /// entry never made, or an entry never removed, makes them differ.
    static func entriesAndRows(_ store: SQLiteEventStore) async throws -> (entries: Int, rows: Int, behind: Int) {
        try await store.read { db in
            let entries = try Int.fetchOne(db, sql: "SELECT count(*) FROM events_fts_docsize") ?? -1
            let rows = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM events WHERE \(SearchableKinds.all.sqlCondition("kind"))") ?? -1
            let behind = try Int.fetchOne(
                db, sql: "SELECT (SELECT count(*) FROM search_pending) + (SELECT count(*) FROM search_removed)") ?? -1
            return (entries, rows, behind)
        }
    }

    /// As many entries as searchable rows, and nothing left to catch up.
    static func expectIndexMatchesTable(
        _ store: SQLiteEventStore, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let counts = try await entriesAndRows(store)
        #expect(counts.entries == counts.rows && counts.behind == 0, "\(counts)", sourceLocation: sourceLocation)
    }

    func search(_ store: SQLiteEventStore, _ words: String) async throws -> [EventID] {
        try await store.query([Filter(search: words)], maxLimit: 100, now: testNow).map(\.id)
    }

    @Test("an event stored and deleted in one batch is never indexed; the deletion is")
    func storedAndDeletedInOneBatch() async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        let note = author.event(content: "charlie was here", createdAt: testTime)
        let kept = author.event(content: "delta stays", createdAt: testTime + 1)
        #expect(try await store.save([note, kept, author.deletion(of: [note])]) == [.saved, .saved, .saved])
        #expect(try await search(store, "charlie").isEmpty)
        #expect(try await search(store, "delta") == [kept.id])
        try await Self.expectIndexMatchesTable(store)
        try await SQLiteFactory().dispose(store)
    }

    /// SQLite gives a new row the rowid of the last one when that one was just deleted: the
    /// old entry must leave the index before the new one enters it under the same rowid.
    @Test("a replaced event's words leave the index, its successor's enter it, even under the same rowid")
    func replacementReusingTheRowid() async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        let first = author.event(kind: .metadata, content: "alpha profile", createdAt: testTime)
        #expect(try await store.save([first]) == [.saved])
        #expect(try await search(store, "alpha") == [first.id])
        let second = author.event(kind: .metadata, content: "bravo profile", createdAt: testTime + 1)
        let third = author.event(kind: .metadata, content: "echo profile", createdAt: testTime + 2)
        // One batch replaces twice; another batch replaces again.
        #expect(try await store.save([second, third]) == [.saved, .saved])
        let fourth = author.event(kind: .metadata, content: "foxtrot profile", createdAt: testTime + 3)
        #expect(try await store.save([fourth]) == [.saved])
        for gone in ["alpha", "bravo", "echo"] { #expect(try await search(store, gone).isEmpty, "\(gone)") }
        #expect(try await search(store, "profile") == [fourth.id])
        try await Self.expectIndexMatchesTable(store)
        try await SQLiteFactory().dispose(store)
    }

    @Test("every way of removing events keeps the index and the table the same size")
    func removalsKeepTheIndexExact() async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        let notes = (0..<20).map { index in
            author.event(
                content: "golf note \(index)", tags: index % 4 == 0 ? [["expiration", "\(testTime + 5)"]] : [],
                createdAt: testTime + Int64(index))
        }
        _ = try await store.save(notes)
        _ = try await store.remove([notes[1].id, notes[2].id])
        _ = try await store.purgeExpired(now: testTime + 10)
        _ = try await store.save([author.deletion(of: [notes[3]], at: testTime + 30)])
        try await Self.expectIndexMatchesTable(store)
        #expect(try await search(store, "golf").count == 20 - 2 - 5 - 1)
        _ = try await store.vanish(pubkey: author.pubkey, until: testTime + 100)
        #expect(try await search(store, "golf").isEmpty)
        try await Self.expectIndexMatchesTable(store)
        try await SQLiteFactory().dispose(store)
    }
}

@Suite("search vocabulary")
struct SearchVocabularyTests {
    /// ASCII text of every kind: words, digits, punctuation, controls, URLs, hashtags.
    static let samples: [String] = {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "GM nostr! Relays_and-clients: 2026 #Nostr https://example.com/a?b=c&d=1",
            "line\nbreak\ttab\u{01}control ÿ", "", "   ", "a", "CamelCase snake_case kebab-case x1y2z3 007",
            "quotes \"inside\" and 'single' (parens) [brackets] {braces} <tags> ~!@#$%^&*+=|\\/;:,.?`",
        ]
        for _ in 0..<300 {
            let count = Int.random(in: 0..<80, using: &generator)
            texts.append(String(decoding: (0..<count).map { _ in UInt8.random(in: 0..<0x80, using: &generator) }, as: UTF8.self))
        }
        return texts
    }()

    @Test("any text split into ASCII terms and other words gives the terms FTS5's tokenizer gives the whole text")
    func splitWordsMatchTheTokenizer() throws {
        var generator = SystemRandomNumberGenerator()
        // The bench's words (accents, CJK, emoji, quotes) and characters unicode61 folds,
        // splits on or keeps: combining marks, a non-breaking space, Greek, a digit of
        // another script, a private-use character.
        let pieces = [
            "café", "naïve", "日本語", "🚀", "⚡️", "ñandú", "\"quoted\"", "back\\slash", "tab\there", "über",
            "e\u{301}", "\u{a0}", "ΣΊΣΥΦΟΣ", "٣", "\u{e000}", "Relay", "GM", "x1", "_", "-", ".", " ", "\n", "ß",
        ]
        var texts = Self.samples + ["Café-Bar ÜBER", "über.relay", "a⚡b", "日本語のnostr"]
        for _ in 0..<400 {
            let count = Int.random(in: 0..<30, using: &generator)
            texts.append((0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        let database = try DatabaseQueue()
        try database.read { db in
            let tokenizer = try db.makeTokenizer(SearchVocabulary.tokenizer)
            for text in texts {
                let words = SearchQuery.splitWords(text)
                let split = words.asciiTerms + (try tokenizer.tokenize(document: words.otherWords).map(\.token))
                let whole = try tokenizer.tokenize(document: text).map(\.token)
                #expect(split.sorted() == whole.sorted(), "\(text.debugDescription)")
            }
        }
    }

    @Test("ASCII text gives the tokens FTS5's own unicode61 tokenizer gives, in order; other text is left to it")
    func asciiTermsMatchTheTokenizer() throws {
        let database = try DatabaseQueue()
        try database.read { db in
            let tokenizer = try db.makeTokenizer(SearchVocabulary.tokenizer)
            for text in Self.samples {
                let tokens = SearchQuery.asciiTokens(text)
                // ÿ is not ASCII: that sample goes to the tokenizer.
                guard !text.contains("ÿ") else {
                    #expect(tokens == nil)
                    continue
                }
                let expected = try tokenizer.tokenize(document: text).map(\.token)
                #expect(tokens == expected, "\(text.debugDescription)")
            }
        }
    }
}
