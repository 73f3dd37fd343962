import Foundation
@testable import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The duplicate check before any cryptography: an event the store holds is answered
/// `duplicate:` without a verify (so a copy with a broken signature is a duplicate too),
/// whether the relay stored it in this run or before a restart; and the memory of stored ids
/// that lets a distinct event skip the store lookup never turns a duplicate into anything
/// else, even one it cannot know of (written into the store behind the relay's back).
@Suite("Duplicate check")
struct DuplicateCheckTests {
    /// `event` with its signature's last digit changed: same id, a signature that fails.
    private static func brokenSignature(_ event: Event) -> String {
        let sig = event.sig.hex
        return event.jsonString.replacingOccurrences(
            of: sig, with: String(sig.prefix(127)) + (sig.last == "0" ? "1" : "0"))
    }

    /// Waits until the relay's memory of stored ids has read the store, so that it may rule
    /// ids out: what the checks below must meet.
    private static func waitForStoredIDs(_ relay: TestRelay) async throws {
        guard await waitUntil({ relay.relay.pipeline.hasLoadedStoredIDs }) else {
            throw TestFailure("the stored ids were not loaded")
        }
    }

    /// Sends `json` and returns the answer to `id`.
    private static func answer(_ client: NostrTestClient, json: String, id: EventID) async throws -> (
        accepted: Bool, message: String
    ) {
        try await client.send(#"["EVENT","# + json + "]")
        return try await client.ok(for: id)
    }

    @Test("a stored event's copy with a broken signature is a duplicate, in the same run and after a restart")
    func knownDuplicateSkipsTheVerify() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-dup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let stored = Author().event(content: "stored before the restart")
        try await TestRelay.with(directory: folder) { relay in
            try await Self.waitForStoredIDs(relay)
            let client = try await relay.connect()
            #expect(try await client.publishAndWait(stored).accepted)
            let copy = try await Self.answer(client, json: Self.brokenSignature(stored), id: stored.id)
            #expect(copy.accepted && copy.message.hasPrefix("duplicate:"))
            await client.close()
        }
        try await TestRelay.with(directory: folder) { relay in
            try await Self.waitForStoredIDs(relay)
            let client = try await relay.connect()
            let copy = try await Self.answer(client, json: Self.brokenSignature(stored), id: stored.id)
            #expect(copy.accepted && copy.message.hasPrefix("duplicate:"))
            // The verify does run for an id the store lacks.
            let fresh = Author().event(content: "never stored")
            let refused = try await Self.answer(client, json: Self.brokenSignature(fresh), id: fresh.id)
            #expect(!refused.accepted && refused.message.hasPrefix("invalid:"))
            await client.close()
        }
    }

    /// The stores a relay may run on here: SQLite always, PostgreSQL when a server is given.
    enum Storage: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        static var available: [Storage] { TestPostgres.url == nil ? [.sqlite] : allCases }
        var testDescription: String { rawValue }
    }

    @Test("an event written into the store behind the relay's back is answered duplicate: by the writer",
        arguments: Storage.available)
    func unknownDuplicateIsAnsweredByTheWriter(_ storage: Storage) async throws {
        let schema = TestPostgres.freshSchema()
        let makeStore: (() async throws -> any EventStore)? =
            storage == .postgres ? { try await TestPostgres.store(schema: schema) } : nil
        try await TestRelay.with(store: makeStore) { relay in
            try await Self.waitForStoredIDs(relay)
            let author = Author()
            // Stored as another node or process would: the pipeline never hears of it.
            let behind = author.event(content: "written into the store directly")
            #expect(try await relay.relay.store.save([behind]) == [.saved])
            let client = try await relay.connect()
            let answer = try await client.publishAndWait(behind)
            #expect(answer.accepted && answer.message.hasPrefix("duplicate:"))
            // Once answered, it is known: a copy with a broken signature is a duplicate too.
            let copy = try await Self.answer(client, json: Self.brokenSignature(behind), id: behind.id)
            #expect(copy.accepted && copy.message.hasPrefix("duplicate:"))
            let found = try await client.query("q", #"{"authors":["\#(author.pubkey.hex)"]}"#)
            #expect(found.ids == [behind.id.hex])
            await client.close()
        }
        if storage == .postgres { try await TestPostgres.dropSchema(schema) }
    }
}
