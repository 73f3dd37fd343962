import Foundation
import MartletStore
import NostrCore

/// A fresh SQLite store in a temporary directory of its own and the distinct notes one store
/// benchmark saves into it, batch by batch. The benchmark's setup opens it; its teardown
/// closes the store and removes the directory (database, WAL and shared-memory files).
///
/// ```swift
/// let fixture = StoreFixture(batchSize: 64, batchCount: 501)
/// try await fixture.open()
/// _ = try await fixture.store.save(fixture.batch(0))
/// try await fixture.remove()
/// ```
final class StoreFixture {
    let batchSize: Int
    let batchCount: Int
    private var notes: [Event] = []
    private var opened: (store: SQLiteEventStore, directory: URL)?

    init(batchSize: Int, batchCount: Int) {
        self.batchSize = batchSize
        self.batchCount = batchCount
    }

    var store: SQLiteEventStore {
        guard let opened else { preconditionFailure("the benchmark's setup opens the store") }
        return opened.store
    }

    func open() async throws {
        notes = await Notes.signed(count: batchSize * batchCount)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-bench-\(UUID().uuidString)", isDirectory: true)
        let store = try SQLiteEventStore(path: directory.appendingPathComponent("events.sqlite").path)
        opened = (store, directory)
    }

    /// The notes of batch `index`, none of them saved before.
    func batch(_ index: Int) -> [Event] {
        precondition(index < batchCount, "more batches than were signed")
        return Array(notes[index * batchSize..<(index + 1) * batchSize])
    }

    func remove() async throws {
        guard let opened else { return }
        self.opened = nil
        notes = []
        try await opened.store.close()
        try FileManager.default.removeItem(at: opened.directory)
    }
}

/// Distinct regular events of a realistic shape, every one of which a store keeps: kind-1
/// notes (85%) with one to five `e`/`p`/`t` tags and 40-400 bytes of content, and kind-7
/// reactions (15%) with an `e` and a `p` tag, by 100 authors.
enum Notes {
    static func signed(count: Int) async -> [Event] {
        var random = SeededRandom(seed: 7)
        let authors = (0..<100).map { _ in random.secretKey() }
        let blueprints = (0..<count).map { Blueprint(number: $0, authorCount: authors.count, random: &random) }
        // Signing is most of the setup (tens of µs a note), so both cores share it.
        let chunkSize = max(1, (count + 1) / 2)
        let chunks = await withTaskGroup(of: (Int, [Event]).self) { group in
            for start in stride(from: 0, to: count, by: chunkSize) {
                let slice = blueprints[start..<min(count, start + chunkSize)]
                group.addTask { (start, slice.map { $0.signed(by: authors[$0.author]) }) }
            }
            return await group.reduce(into: [(Int, [Event])]()) { $0.append($1) }
        }
        return chunks.sorted { $0.0 < $1.0 }.flatMap { $0.1 }
    }

    /// An event before signing.
    struct Blueprint: Sendable {
        var author: Int
        var kind: Kind
        var createdAt: Int64
        var tags: [Tag]
        var content: String

        init(number: Int, authorCount: Int, random: inout SeededRandom) {
            author = Int.random(in: 0..<authorCount, using: &random)
            createdAt = 1_700_000_000 - Int64(number)
            let event = Hex.encode(random.bytes32().bytes)
            let mention = Hex.encode(random.bytes32().bytes)
            if Int.random(in: 0..<100, using: &random) < 15 {
                kind = .reaction
                tags = [["e", event], ["p", mention]]
                content = "+"
                return
            }
            kind = .textNote
            var tags: [Tag] = [["e", event, "", "root"], ["p", mention]]
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                tags.append(["t", Notes.topics.randomElement(using: &random)!])
            }
            self.tags = Array(tags.prefix(Int.random(in: 1...tags.count, using: &random)))
            var text = "note \(number):"
            let length = Int.random(in: 40...400, using: &random)
            while text.utf8.count < length { text += " " + Notes.words.randomElement(using: &random)! }
            content = text
        }

        func signed(by secret: SecretKey) -> Event {
            Event.signed(by: secret, kind: kind, createdAt: createdAt, tags: tags, content: content)
        }
    }

    static let topics = ["nostr", "bitcoin", "swift", "photography", "music", "running", "coffee", "books"]
    static let words = [
        "relay", "event", "signature", "gm", "the", "a", "of", "is", "and", "zap", "note", "client", "today",
        "working", "on", "new", "release", "thanks", "for", "sharing", "this", "🤙", "⚡️", "everyone",
    ]
}
