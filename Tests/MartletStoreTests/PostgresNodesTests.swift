import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

/// What only a database shared by several nodes has: migrations racing, writers on two
/// nodes, the live feed between them.
@Suite("PostgreSQL with several nodes", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresNodesTests {
    let factory = PostgresFactory()

    @Test("nodes starting at once on a new database apply each schema step exactly once")
    func concurrentMigrations() async throws {
        let schema = TestPostgres.freshSchema()
        let stores = try await withThrowingTaskGroup(of: PostgresEventStore.self) { group in
            for _ in 0..<4 { group.addTask { try await factory.makePostgresStore(schema: schema) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let (steps, distinct) = try await TestPostgres.withAdminClient { client in
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT count(*), count(DISTINCT name) FROM \"\(schema)\".schema_migrations"))
            for try await counts in rows.decode((Int64, Int64).self) { return counts }
            return (0, 0)
        }
        #expect(steps > 0)
        #expect(steps == distinct)
        for store in stores { try await store.close() }
        try await TestPostgres.dropSchema(schema)
    }

    @Test("versions of one addressable event saved on two nodes at once leave exactly the newest")
    func replacementRaceBetweenNodes() async throws {
        try await factory.withTwoNodes { nodeA, nodeB in
            let author = Author()
            let versions = (0..<60).map {
                author.event(kind: 30000, content: "\($0)", tags: [["d", "list"]], createdAt: 1_700_000_000 + Int64($0 % 9))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, version) in versions.enumerated() {
                    let node = index.isMultiple(of: 2) ? nodeA : nodeB
                    group.addTask { _ = try await node.save([version]) }
                }
                try await group.waitForAll()
            }
            let winner = newestOrder(versions)[0]
            #expect(try await nodeA.query(Filter(kinds: [30000])).map(\.id) == [winner.id])
            #expect(try await nodeB.count([Filter()], now: testNow) == 1)
        }
    }

    @Test("the live feed carries what other nodes save, once each, and not the node's own writes")
    func feedCarriesOtherNodesEvents() async throws {
        try await factory.withTwoNodes { nodeA, nodeB in
            let feed = nodeA.eventsFromOtherNodes()
            // The feed starts from the moment it is first read; let it take its bearings.
            try await Task.sleep(for: .seconds(1))
            let author = Author()
            let own = author.event(content: "saved on A")
            _ = try await nodeA.save([own])
            let others = (0..<700).map { author.event(content: "saved on B \($0)", createdAt: 1_700_000_000 + Int64($0)) }
            for batch in stride(from: 0, to: others.count, by: 100) {
                _ = try await nodeB.save(Array(others[batch..<batch + 100]))
            }
            let received = try await withThrowingTaskGroup(of: [EventID].self) { group in
                group.addTask {
                    var ids: [EventID] = []
                    for await event in feed {
                        ids.append(event.id)
                        if ids.count == others.count { break }
                    }
                    return ids
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    throw StoreError("the feed delivered too little in time")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            #expect(received == others.map(\.id))
            #expect(!received.contains(own.id))
        }
    }

    @Test("an operator's list entries and settings (NIP-86) saved on one node are read on another, last change last")
    func settingsAreShared() async throws {
        try await factory.withTwoNodes { nodeA, nodeB in
            let key = Author().pubkey.hex
            try await nodeA.recordListEntry(SettingsListEntry(list: "banned_pubkeys", value: key, isListed: true, reason: "spam"))
            try await nodeA.recordListEntry(SettingsListEntry(list: "blocked_ips", value: "192.0.2.1", isListed: true))
            try await nodeB.recordListEntry(SettingsListEntry(list: "banned_pubkeys", value: key, isListed: false))
            try await nodeA.setSetting("relay.name", to: "Shared")
            #expect(
                try await nodeB.listEntries() == [
                    SettingsListEntry(list: "blocked_ips", value: "192.0.2.1", isListed: true),
                    SettingsListEntry(list: "banned_pubkeys", value: key, isListed: false),
                ])
            #expect(try await nodeB.settings() == ["relay.name": "Shared"])
            try await nodeB.setSetting("relay.name", to: nil)
            #expect(try await nodeA.settings().isEmpty)
            let event = Author().event(content: "taken down")
            _ = try await nodeA.save([event])
            #expect(try await nodeB.removeEvent(event.id))
            #expect(try await nodeA.contains(event.id) == false)
        }
    }

    @Test("a store whose database cannot be reached fails within its time limits")
    func unreachableDatabaseFailsInTime() async throws {
        var options = TestPostgres.options
        options.timeout = .seconds(1)
        options.connectTimeout = .seconds(1)
        let started = ContinuousClock.now
        await #expect(throws: StoreError.self) {
            _ = try await PostgresEventStore(url: "postgres://martlet@127.0.0.1:1/none", options: options)
        }
        // Bounded, not precise: a loaded CI machine may run the timer late.
        #expect(ContinuousClock.now - started < .seconds(15))
    }
}
