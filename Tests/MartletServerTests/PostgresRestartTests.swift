import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// "PostgreSQL down or slow: EVENT gets OK false error:, REQ gets CLOSED error:, nothing
/// crashes, and the store recovers by itself when the database is back."
@Suite(
    "PostgreSQL restart during ingest", .enabled(if: TestPostgres.restartable != nil, TestPostgres.restartSkipNote))
struct PostgresRestartTests {
    @Test("with the database stopped EVENT and REQ get error:, and every event acknowledged OK true survives")
    func restartDuringIngest() async throws {
        let server = try #require(TestPostgres.restartable)
        let schema = TestPostgres.freshSchema()
        let acknowledged = Locked(Set<EventID>())
        let refusals = Locked([String]())
        let stopping = Locked(false)
        try await TestRelay.with(
            store: { try await TestPostgres.store(url: server.url, schema: schema, timeout: .seconds(3)) }
        ) { relay in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for publisher in 0..<3 {
                    group.addTask {
                        let client = try await relay.connect()
                        let author = Author()
                        var sequence = 0
                        while !stopping.value {
                            sequence += 1
                            let event = author.event(content: "publisher \(publisher) event \(sequence)")
                            let (accepted, message) = try await client.publishAndWait(event)
                            if accepted {
                                acknowledged.withLock { _ = $0.insert(event.id) }
                            } else {
                                refusals.withLock { $0.append(message) }
                            }
                        }
                        await client.close()
                    }
                }
                group.addTask {
                    defer { stopping.withLock { $0 = true } }
                    try await Task.sleep(for: .seconds(2))
                    try await server.stop()
                    let reader = try await relay.connect()
                    try await reader.request("during", #"{"kinds":[1]}"#)
                    let answer = try await reader.next(timeout: .seconds(10))
                    #expect(answer.type == "CLOSED")
                    #expect(answer.string(2)?.hasPrefix("error:") == true, "\(answer)")
                    await reader.close()
                    try await Task.sleep(for: .seconds(1))
                    try await server.start()
                    // Recovered: new events are acknowledged again, without restarting the relay.
                    let before = acknowledged.value.count
                    let deadline = ContinuousClock.now + .seconds(30)
                    while acknowledged.value.count < before + 30, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    #expect(acknowledged.value.count >= before + 30, "ingest resumed after the restart")
                }
                try await group.waitForAll()
            }
            #expect(!refusals.value.isEmpty, "some EVENTs were refused while the database was down")
            #expect(refusals.value.allSatisfy { $0.hasPrefix("error:") }, "\(refusals.value.prefix(5))")

            let ids = acknowledged.value.sorted()
            var stored = Set<EventID>()
            for start in stride(from: 0, to: ids.count, by: 200) {
                let batch = Set(ids[start..<min(start + 200, ids.count)])
                let found = try await relay.relay.store.query([Filter(ids: batch)], maxLimit: 200, now: now())
                stored.formUnion(found.map(\.id))
            }
            #expect(stored.count == ids.count, "every event answered OK true is stored")
        }
        try await TestPostgres.dropSchema(schema, url: server.url)
    }
}
