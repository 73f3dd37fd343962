import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Synchronization
import Testing

/// What the nodes on one PostgreSQL database tell each other besides stored events:
/// ephemeral events and the operator's changes.
@Suite("PostgreSQL: news between nodes", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresNodeNewsTests {
    let factory = PostgresFactory()

    @Test("an ephemeral event published on one node reaches the other node's feed once, small or large, and not its own")
    func ephemeralEventsReachOtherNodes() async throws {
        try await factory.withTwoNodes { nodeA, nodeB in
            let elsewhere = try await factory.makePostgresStore(schema: TestPostgres.freshSchema())
            let onA = Received(nodeA.eventsFromOtherNodes())
            let onB = Received(nodeB.eventsFromOtherNodes())
            let onElsewhere = Received(elsewhere.eventsFromOtherNodes())
            // The feeds listen from the moment they are asked for; let the connections open.
            try await Task.sleep(for: .seconds(1))

            let author = Author()
            let small = author.event(kind: Kind(20001), content: "typing…")
            // Past the 8000 bytes a notification may carry: it goes through the table.
            let large = author.event(kind: Kind(20001), content: String(repeating: "large ", count: 3_000))
            let fromB = author.event(kind: Kind(29999), content: "from B")
            await nodeA.publishEphemeral(small)
            await nodeA.publishEphemeral(large)
            await nodeB.publishEphemeral(fromB)

            #expect(try await onB.first(2, within: .seconds(10)).map(\.id) == [small.id, large.id])
            #expect(try await onB.first(2, within: .seconds(10)).map(\.json) == [small.json, large.json])
            #expect(try await onA.first(1, within: .seconds(10)).map(\.id) == [fromB.id])
            // Longer than the feed's poll interval: nothing comes twice, nothing comes back.
            try await Task.sleep(for: .seconds(1.5))
            #expect(onA.events.map(\.id) == [fromB.id])
            #expect(onB.events.map(\.id) == [small.id, large.id])
            #expect(onElsewhere.events.isEmpty, "a store in another schema hears nothing")
            #expect(try await nodeB.count([Filter(authors: [author.pubkey])], now: testNow) == 0, "nothing is stored")

            onA.stop()
            onB.stop()
            onElsewhere.stop()
            try await factory.dispose(elsewhere)
        }
    }

    @Test("a settings change recorded on one node is announced to the others, and listening starts with a look")
    func settingsChangesAreAnnounced() async throws {
        let schema = TestPostgres.freshSchema()
        let nodeA = try await factory.makePostgresStore(schema: schema)
        let nodeB = try await factory.makePostgresStore(schema: schema)
        let changes = Locked(0)
        let watching = Task {
            for await _ in nodeB.settingsChanges() { changes.withLock { $0 += 1 } }
        }
        try await eventually(within: .seconds(10)) { changes.value >= 1 }
        let before = changes.value

        try await nodeA.recordListEntry(SettingsListEntry(list: "banned_pubkeys", value: Author().pubkey.hex, isListed: true))
        try await eventually(within: .seconds(5)) { changes.value > before }
        let afterEntry = changes.value
        try await nodeA.setSetting("relay.name", to: "Renamed")
        try await eventually(within: .seconds(5)) { changes.value > afterEntry }

        try await nodeA.close()
        try await factory.dispose(nodeB)
        // Closing the store ends the stream.
        await watching.value
    }

    @Test("a node whose listening connection was lost looks at the settings again once it listens again")
    func settingsAreReadAgainAfterReconnecting() async throws {
        let schema = TestPostgres.freshSchema()
        let node = try await factory.makePostgresStore(schema: schema)
        let looks = Locked(0)
        let watching = Task {
            for await _ in node.settingsChanges() { looks.withLock { $0 += 1 } }
        }
        try await eventually(within: .seconds(10)) { looks.value >= 1 }
        let before = looks.value

        // The listening connection's last statement is its LISTEN on this schema's settings channel.
        var hash: UInt32 = 2_166_136_261
        for byte in schema.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let listen = "LISTEN \"martlet_settings_\(String(hash, radix: 16))\";"
        let terminated = try await TestPostgres.withAdminClient { client in
            var count = 0
            let rows = try await client.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = \(listen)")
            for try await done in rows.decode(Bool.self) where done { count += 1 }
            return count
        }
        #expect(terminated == 1)
        try await eventually(within: .seconds(10)) { looks.value > before }

        try await factory.dispose(node)
        await watching.value
    }
}

/// Everything a feed hands out, collected by a task of its own (cancelling a wait on the
/// feed would end it).
final class Received: Sendable {
    private let received = Locked<[Event]>([])
    private let task: Task<Void, Never>

    init(_ feed: AsyncStream<Event>) {
        let received = received
        task = Task {
            for await event in feed { received.withLock { $0.append(event) } }
        }
    }

    var events: [Event] { received.value }

    /// The first `count` events, once they have come.
    func first(_ count: Int, within limit: Duration) async throws -> [Event] {
        try await eventually(within: limit) { events.count >= count }
        return Array(events.prefix(count))
    }

    func stop() { task.cancel() }
}

final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Waits until `condition` holds, looking every 50 ms; throws when `limit` passes first.
func eventually(within limit: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw StoreError("the condition did not hold in time") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
