import MartletRelay
@testable import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The one writer's group commit on a real SQLite store whose WAL sync the test holds.
@Suite("Batching writer")
struct BatchingWriterTests {
    @Test("the next batch commits while the one before it waits for its sync, and each writer is answered once its batch is durable")
    func nextBatchCommitsDuringSync() async throws {
        try await withTemporaryFolder("martlet-batching-writer") { folder in
            let held = HeldSync()
            var options = SQLiteEventStore.Options()
            options.syncWAL = held.sync
            let store = try SQLiteEventStore(path: folder.appendingPathComponent("martlet.sqlite").path, options: options)
            let writer = BatchingWriter(store: store, batchSize: 512)
            let loop = Task { await writer.run() }
            let author = Author()
            let first = author.event(content: "first", createdAt: 1_700_000_001)
            let second = author.event(content: "second", createdAt: 1_700_000_002)

            let firstWrite = Task { try await writer.write(first) }
            #expect(await waitUntil { held.begunCount == 1 })
            #expect(try await store.contains(first.id))
            let secondWrite = Task { try await writer.write(second) }
            // Committed while the first batch's sync is still held: the writer did not wait for it.
            #expect(try await waitUntil { try await store.contains(second.id) })
            #expect(held.begunCount == 1)

            held.finishOne()
            #expect(try await firstWrite.value == .saved)
            // The held sync began before the second batch committed, so it could not answer it.
            #expect(await waitUntil { held.begunCount == 2 })
            held.finishOne()
            #expect(try await secondWrite.value == .saved)

            writer.stop()
            await loop.value
            try await store.close()
        }
    }
}
