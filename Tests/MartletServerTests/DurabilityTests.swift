import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// "Nothing already acknowledged is ever lost, also across crashes and restarts."
@Suite("Durability", .serialized)
struct DurabilityTests {
    /// Publishes `events` pipelined on `connections` clients and records every id answered
    /// OK true, until `stopAfter` acknowledgements have been seen (then `interrupt` runs).
    func ingestAndInterrupt(
        _ relay: RelayProcess, events: [Event], connections: Int, stopAfter: Int,
        interrupt: @escaping @Sendable () async -> Void
    ) async throws -> Set<EventID> {
        let acknowledged = Locked(Set<EventID>())
        let interrupted = Locked(false)
        let clients = try await (0..<connections).asyncMap { _ in try await relay.connect() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                let share = events.enumerated().filter { $0.offset % connections == index }.map(\.element)
                group.addTask {
                    for event in share { try? await client.publish(event) }
                }
                group.addTask {
                    while true {
                        guard let message = try? await client.next(timeout: .seconds(20)) else { return }
                        guard message.type == "OK", message.bool(2) == true, let hex = message.string(1),
                            let id = EventID(hex: hex)
                        else { continue }
                        let count = acknowledged.withLock { $0.insert(id); return $0.count }
                        let first = count >= stopAfter && interrupted.withLock { done in
                            defer { done = true }
                            return !done
                        }
                        if first { await interrupt() }
                    }
                }
            }
            try await group.waitForAll()
        }
        return acknowledged.withLock { $0 }
    }

    func assertAllStored(_ ids: Set<EventID>, in relay: RelayProcess) async throws {
        let client = try await relay.connect()
        var found = Set<String>()
        let sorted = ids.sorted()
        for start in stride(from: 0, to: sorted.count, by: 400) {
            let batch = sorted[start..<min(start + 400, sorted.count)]
            let list = batch.map { "\"\($0.hex)\"" }.joined(separator: ",")
            let events = try await client.query("b\(start)", #"{"ids":[\#(list)],"limit":400}"#)
            found.formUnion(events.ids)
        }
        #expect(found.count == ids.count, "every acknowledged event is stored after the restart")
        #expect(Set(ids.map(\.hex)).subtracting(found).isEmpty)
        await client.close()
    }

    func makeEvents(_ count: Int) -> [Event] {
        let authors = (0..<20).map { _ in Author() }
        return (0..<count).map { index in
            authors[index % authors.count].event(content: "durable \(index) " + String(repeating: "z", count: index % 300))
        }
    }

    @Test("kill -9 during ingest: every event answered OK true is there after a restart")
    func killDuringIngest() async throws {
        try await withTemporaryFolder("martlet-crash") { data in
            let relay = try await RelayProcess.start(data: data)
            let events = makeEvents(3000)
            let acknowledged = try await ingestAndInterrupt(relay, events: events, connections: 3, stopAfter: 600) {
                await relay.stop(signal: SIGKILL)
            }
            #expect(acknowledged.count >= 600)
            let restarted = try await RelayProcess.start(data: data)
            try await assertAllStored(acknowledged, in: restarted)
            #expect(await restarted.stop(signal: SIGTERM) == 0)
        }
    }

    @Test("SIGTERM during ingest shuts down gracefully and loses no acknowledged event")
    func gracefulShutdownDuringIngest() async throws {
        try await withTemporaryFolder("martlet-term") { data in
            let relay = try await RelayProcess.start(data: data)
            let events = makeEvents(2000)
            let status = Locked<Int32>(-1)
            let acknowledged = try await ingestAndInterrupt(relay, events: events, connections: 2, stopAfter: 400) {
                let code = await relay.stop(signal: SIGTERM)
                status.withLock { $0 = code }
            }
            #expect(status.withLock { $0 } == 0, "martlet exits 0 on SIGTERM")
            let restarted = try await RelayProcess.start(data: data)
            try await assertAllStored(acknowledged, in: restarted)
            await restarted.stop(signal: SIGTERM)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
