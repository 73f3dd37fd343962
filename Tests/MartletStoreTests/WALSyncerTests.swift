@testable import MartletStore
import MartletTestSupport
import Testing

/// How commits wait for the WAL's sync: a caller is answered only by a sync that began
/// after it asked, and callers that ask during one sync share the next.
@Suite("WAL syncer")
struct WALSyncerTests {
    @Test("callers that ask while a sync runs are not answered by it, and share the next one")
    func laterCallersShareTheNextSync() async throws {
        let held = HeldSync()
        let syncer = WALSyncer(sync: held.sync)
        let answered = Locked<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await syncer.untilSynced()
                answered.withLock { $0.append("first") }
            }
            #expect(await waitUntil { held.begunCount == 1 })
            for name in ["second", "third", "fourth"] {
                group.addTask {
                    try await syncer.untilSynced()
                    answered.withLock { $0.append(name) }
                }
            }
            #expect(await waitUntil { syncer.waiting == 4 })
            held.finishOne()
            #expect(await waitUntil { answered.value == ["first"] })
            // The three asked after the first sync began: only the second sync covers them.
            #expect(await waitUntil { held.begunCount == 2 })
            #expect(answered.value.count == 1)
            held.finishOne()
            try await group.waitForAll()
        }
        #expect(Set(answered.value) == ["first", "second", "third", "fourth"])
        #expect(syncer.syncsCompleted == 2)
        #expect(held.begunCount == 2)
    }

    @Test("a sync that fails fails the callers it would have answered; the next one can succeed")
    func failedSyncIsReported() async throws {
        let held = HeldSync()
        let syncer = WALSyncer(sync: held.sync)
        held.fail(next: 1)
        held.finishOne()
        await #expect(throws: StoreError.self) { try await syncer.untilSynced() }
        held.finishOne()
        try await syncer.untilSynced()
        #expect(syncer.syncsCompleted == 2)
    }
}
