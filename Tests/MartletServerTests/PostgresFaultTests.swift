import Foundation
import Logging
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

/// Faults injected into a relay on PostgreSQL: a query stuck behind a lock, its
/// connections killed under it, the relay process itself killed mid-ingest. (The database
/// restarted is `PostgresRestartTests`.)
@Suite("PostgreSQL faults", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresFaultTests {
    static let logger = Logger(label: "martlet.test.faults") { _ in SwiftLogNoOpLogHandler() }

    /// The schema of the relay's PostgreSQL store.
    static func schema(of relay: TestRelay) throws -> String {
        try #require((relay.relay.store as? PostgresEventStore)?.schema)
    }

    @Test("a query stuck behind a lock is CLOSED error: within query_timeout while other queries go on")
    func slowQuery() async throws {
        // A budget a loaded two-core machine meets for an ordinary query, far below the lock's hold.
        try await TestRelay.withPostgres(configure: { $0.limits.queryTimeout = .seconds(2) }) { relay in
            let schema = try Self.schema(of: relay)
            let author = Author()
            // Older than any period: in the history partition. The recent one is in this month's.
            let old = author.event(content: "old", createdAt: 1_600_000_000)
            let recent = author.event(content: "recent", createdAt: now() - 10)
            _ = try await relay.relay.store.save([old, recent])
            try await TestPostgres.withAdminClient { admin in
                try await admin.withConnection { locker in
                    // A maintenance job holding the old partition, as a long DDL or VACUUM FULL would.
                    try await locker.query("BEGIN", logger: Self.logger)
                    try await locker.query(
                        PostgresQuery(unsafeSQL: "LOCK TABLE \"\(schema)\".events_history IN ACCESS EXCLUSIVE MODE"),
                        logger: Self.logger)
                    let stuck = try await relay.connect()
                    let other = try await relay.connect()
                    let asked = ContinuousClock.now
                    try await stuck.request("old", #"{"authors":["\#(author.pubkey.hex)"],"until":1600000100}"#)
                    // Pruned to this month's partition, this one never meets the lock.
                    let recentIDs = try await other.query(
                        "recent", #"{"authors":["\#(author.pubkey.hex)"],"since":\#(now() - 3600)}"#
                    ).ids
                    #expect(recentIDs == [recent.id.hex])
                    let reason = try await stuck.closedReason("old")
                    let waited = ContinuousClock.now - asked
                    #expect(reason.hasPrefix("error:"), "\(reason)")
                    #expect(waited < .seconds(10), "answered within its budget, not after the lock: \(waited)")
                    try await locker.query("ROLLBACK", logger: Self.logger)
                    // The lock gone, the same query is answered.
                    #expect(
                        try await stuck.query("again", #"{"authors":["\#(author.pubkey.hex)"],"until":1600000100}"#).ids
                            == [old.id.hex])
                    await stuck.close()
                    await other.close()
                }
            }
        }
    }

    @Test("connections terminated under the relay: it reconnects, and every event acknowledged is stored")
    func connectionChurn() async throws {
        try await TestRelay.withPostgres { relay in
            let schema = try Self.schema(of: relay)
            let author = Author()
            let client = try await relay.connect()
            var acknowledged: [Event] = []
            var refused = 0
            for round in 0..<5 {
                for index in 0..<20 {
                    let event = author.event(content: "round \(round) event \(index)")
                    let sent = ContinuousClock.now
                    let answer: (accepted: Bool, message: String)
                    do {
                        answer = try await client.publishAndWait(event)
                    } catch {
                        // Every event must be answered (OK true, or error: within the store's
                        // 3 s budget); say which one was not, for the next look at the relay.
                        Issue.record("round \(round), event \(index): no OK after \(ContinuousClock.now - sent): \(error)")
                        throw error
                    }
                    let (accepted, message) = answer
                    if accepted {
                        acknowledged.append(event)
                    } else {
                        #expect(message.hasPrefix("error:"), "\(message)")
                        refused += 1
                    }
                }
                let terminated = try await TestPostgres.withAdminClient { admin in
                    var count = 0
                    let rows = try await admin.query(
                        """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE application_name = \("martlet/" + schema)
                        """)
                    for try await _ in rows { count += 1 }
                    return count
                }
                #expect(terminated > 0, "the relay's connections were found and terminated")
            }
            // Recovered: a new event is acknowledged and read back within seconds.
            let last = author.event(content: "after the churn")
            let accepted = await waitUntil(timeout: .seconds(20)) {
                guard let (accepted, _) = try? await client.publishAndWait(last) else { return false }
                return accepted
            }
            #expect(accepted, "ingest recovered")
            acknowledged.append(last)
            let expected = Set(acknowledged.map(\.id.hex))
            let allStored = await waitUntil(timeout: .seconds(20)) {
                let ids = try? await client.query("all", #"{"authors":["\#(author.pubkey.hex)"],"limit":500}"#).ids
                return ids.map { Set($0) == expected } ?? false
            }
            #expect(allStored, "every acknowledged event is stored and readable")
            #expect(refused < 100, "most events went through")
            await client.close()
        }
    }

    @Test("kill -9 of a relay on PostgreSQL during ingest: every event answered OK true is there after a restart")
    func killDuringIngest() async throws {
        let database = "martlet_kill_" + TestPostgres.freshSchema().dropFirst(5)
        let base = try #require(TestPostgres.url.flatMap(URLComponents.init(string:)))
        var components = base
        components.path = "/" + database
        let url = try #require(components.string)
        try await TestPostgres.withAdminClient { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
        }
        do {
            try await withTemporaryFolder("martlet-pg-crash") { data in
                let durability = DurabilityTests()
                let relay = try await RelayProcess.start(data: data, arguments: ["--database", url])
                let events = durability.makeEvents(3000)
                let acknowledged = try await durability.ingestAndInterrupt(
                    relay, events: events, connections: 3, stopAfter: 600
                ) {
                    await relay.stop(signal: SIGKILL)
                }
                #expect(acknowledged.count >= 600)
                let restarted = try await RelayProcess.start(data: data, arguments: ["--database", url])
                try await durability.assertAllStored(acknowledged, in: restarted)
                #expect(await restarted.stop(signal: SIGTERM) == 0)
            }
        } catch {
            _ = try? await TestPostgres.withAdminClient { admin in
                try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"))
            }
            throw error
        }
        try await TestPostgres.withAdminClient { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"))
        }
    }
}

/// Retention at scale: a rule's purge round drops whole partitions past its cutoff.
@Suite("PostgreSQL retention by partition", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresRetentionTests {
    @Test("a time retention rule drops the old partition whole and keeps this month's events")
    func retentionDropsPartition() async throws {
        try await TestRelay.withPostgres(configure: {
            $0.purgeInterval = .milliseconds(200)
            $0.retention = [RetentionRule(time: 60)]
        }) { relay in
            let schema = try PostgresFaultTests.schema(of: relay)
            let author = Author()
            // Older than any period: the history partition, which ends at this month's start.
            let old = (0..<3).map { author.event(content: "old \($0)", createdAt: 1_600_000_000 + Int64($0)) }
            let fresh = author.event(content: "fresh", createdAt: now() - 5)
            _ = try await relay.relay.store.save(old + [fresh])
            func partitions() async throws -> [String] {
                try await TestPostgres.withAdminClient { admin in
                    var names: [String] = []
                    let rows = try await admin.query(
                        PostgresQuery(unsafeSQL: "SELECT suffix FROM \"\(schema)\".event_partitions"))
                    for try await name in rows.decode(String.self) { names.append(name) }
                    return names
                }
            }
            let dropped = await waitUntil(timeout: .seconds(20)) {
                (try? await partitions()).map { !$0.contains("history") } ?? false
            }
            #expect(dropped, "the history partition was dropped whole")
            let left = try await relay.relay.store.query([Filter(authors: [author.pubkey])], maxLimit: 10, now: now())
            #expect(left.map(\.id) == [fresh.id])
        }
    }
}
