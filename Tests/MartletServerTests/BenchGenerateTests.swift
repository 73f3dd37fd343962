import Foundation
import MartletBench
import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

/// `martlet bench generate` writes the bench workload as JSONL, and `martlet import` loads it
/// into PostgreSQL through the relay's ingest pipeline: the way a large database is seeded
/// for issue 22's query figures, in miniature.
@Suite("martlet bench generate")
struct BenchGenerateTests {
    @Test("the same seed, anchor and count give the same events, each validly signed, and the queries' authors wrote them")
    func deterministicSignedLines() async throws {
        let arguments = ["bench", "generate", "--events", "250", "--seed", "9", "--anchor", "1760000000"]
        let first = try await MartletCommand.run(arguments)
        let second = try await MartletCommand.run(arguments)
        #expect(first.status == 0 && second.status == 0, "\(first.errors)")
        let lines = first.output.split(separator: "\n")
        #expect(lines.count == 250)
        let events = try lines.map { try EventDecoder.decode(json: Array($0.utf8)) }
        for event in events { try event.validate() }
        #expect(Set(events.map(\.id)).count == 250)
        // The same events in the same order; only the signatures differ, BIP-340 drawing
        // fresh auxiliary randomness for each.
        let again = try second.output.split(separator: "\n").map { try EventDecoder.decode(json: Array($0.utf8)) }
        #expect(again.map(\.id) == events.map(\.id))
        // Over the 30 days before the anchor, by the authors `bench query --seed 9` asks for.
        #expect(events.allSatisfy { (1_760_000_000 - 30 * 86_400)...1_760_000_000 ~= $0.createdAt })
        let authors = Set(Workload(seed: 9).authors.map(\.publicKey))
        #expect(events.allSatisfy { authors.contains($0.pubkey) })

        let other = try await MartletCommand.run(["bench", "generate", "--events", "250", "--seed", "10", "--anchor", "1760000000"])
        let others = try other.output.split(separator: "\n").map { try EventDecoder.decode(json: Array($0.utf8)).id }
        #expect(others.count == 250 && Set(others).isDisjoint(with: events.map(\.id)), "another seed, other events")
    }

    @Test("with --arrival-order, created_at rises from line to line over the 30 days, and the events are the same draws")
    func arrivalOrder() async throws {
        let base = ["bench", "generate", "--events", "300", "--seed", "9", "--anchor", "1760000000"]
        let ordered = try await MartletCommand.run(base + ["--arrival-order"])
        let drawn = try await MartletCommand.run(base)
        #expect(ordered.status == 0 && drawn.status == 0, "\(ordered.errors)")
        let events = try ordered.output.split(separator: "\n").map { try EventDecoder.decode(json: Array($0.utf8)) }
        let drawnEvents = try drawn.output.split(separator: "\n").map { try EventDecoder.decode(json: Array($0.utf8)) }
        #expect(events.count == 300)
        for event in events { try event.validate() }
        let times = events.map(\.createdAt)
        #expect(times == times.sorted(), "never earlier than the line before")
        let (first, last) = (try #require(times.first), try #require(times.last))
        let anchor: Int64 = 1_760_000_000
        #expect(first == anchor - Workload.span, "the first line 30 days before the anchor")
        #expect(last > anchor - 86_400 && last < anchor, "the last within the day before it")
        #expect(Set(times).count == 300, "spread evenly: 300 lines over 30 days never share a second")
        // Only the time moved: the same authors, kinds, tags and content as the drawn lines.
        #expect(events.map(\.pubkey) == drawnEvents.map(\.pubkey))
        #expect(events.map(\.kind) == drawnEvents.map(\.kind))
        #expect(events.map(\.content) == drawnEvents.map(\.content))
    }

    @Test("more events than one signing chunk: every chunk draws new events", .timeLimit(.minutes(2)))
    func chunksDoNotRepeat() async throws {
        var ids: [EventID] = []
        let count = WorkloadLines.chunkSize + 50
        try await WorkloadLines(seed: 3, count: count, now: 1_760_000_000).write { bytes in
            for line in bytes.split(separator: 0x0a) { ids.append(try EventDecoder.decode(json: Array(line)).id) }
        }
        #expect(ids.count == count)
        #expect(Set(ids).count == count)
    }

    @Test(
        "generated lines imported into PostgreSQL with martlet import: the store holds every event the replaceable rules keep",
        .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func importIntoPostgres() async throws {
        try await withDatabase { url in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-generate-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("workload.jsonl").path
            let generated = try await MartletCommand.run(["bench", "generate", "--events", "400", "--seed", "4", "--output", file])
            #expect(generated.status == 0 && generated.output.isEmpty, "\(generated.errors)")
            let events = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
                .map { try EventDecoder.decode(json: Array($0.utf8)) }
            #expect(events.count == 400)

            let imported = try await MartletCommand.run(["import", file, "--database", url, "--batch-size", "64"])
            #expect(imported.status == 0, "\(imported.errors)")
            // NIP-01: "for replaceable events ... only the latest event MUST be stored by relays,
            // older versions MAY be discarded". An older profile or follow list arriving after a
            // newer one is refused as a duplicate; one arriving before is saved, then replaced.
            // A batch is ingested concurrently, so which of the two happens is not fixed.
            let pattern = /import: 400 lines, (\d+) saved, 0 already stored, (\d+) rejected(?: \(duplicate: (\d+)\))?\n/
            let summary = try #require(imported.output.wholeMatch(of: pattern))
            let saved = try #require(Int(summary.1))
            let rejected = try #require(Int(summary.2))
            #expect(saved + rejected == 400)
            #expect(rejected == (summary.3.flatMap { Int($0) } ?? 0), "only older replaceable versions are refused")
            let kept = Self.survivors(of: events)

            let store = try await TestPostgres.store(url: url, schema: "public")
            let stored = try await store.query([Filter(limit: 1_000)], maxLimit: 1_000, now: Int64(Date().timeIntervalSince1970))
            try await store.close()
            #expect(Set(stored.map(\.id)) == Set(kept.map(\.id)))
            #expect(stored.count < events.count, "the workload has profiles and follow lists to replace")
        }
    }

    /// The events a store keeps of `events`: every regular one, and the newest of each
    /// replaceable (kinds 0, 3) or addressable (30023, by `d`) slot; NIP-01: "in case of
    /// replaceable events with the same timestamp, the event with the lowest id (first in
    /// lexical order) should be retained".
    static func survivors(of events: [Event]) -> [Event] {
        var newest: [String: Event] = [:]
        var regular: [Event] = []
        for event in events {
            guard let slot = slot(of: event) else {
                regular.append(event)
                continue
            }
            if let held = newest[slot], !isNewer(event, than: held) { continue }
            newest[slot] = event
        }
        return regular + newest.values
    }

    private static func isNewer(_ event: Event, than held: Event) -> Bool {
        event.createdAt > held.createdAt || (event.createdAt == held.createdAt && event.id.hex < held.id.hex)
    }

    private static func slot(of event: Event) -> String? {
        switch event.kind.rawValue {
        case 0, 3, 10_000..<20_000: return "\(event.kind.rawValue):\(event.pubkey.hex)"
        case 30_000..<40_000:
            let d = event.tags.first { $0.name == "d" }?.value ?? ""
            return "\(event.kind.rawValue):\(event.pubkey.hex):\(d)"
        default: return nil
        }
    }

    /// A database of the test's own (the CLI's store lives in schema `public`), dropped after.
    private func withDatabase(_ body: (String) async throws -> Void) async throws {
        try await TestPostgres.withDatabase(prefix: "martlet_generate_", body)
    }
}
