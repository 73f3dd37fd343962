import Foundation
import MartletRelay
import MartletReplication
import MartletServer
import NostrCore
import Testing

/// Every way an event gets into a relay meets the same rules: a client's EVENT, a mesh
/// peer's catch-up, `martlet sync` and `martlet import` each refuse a banned pubkey, a
/// denied kind and an event under the PoW minimum, and store the event that breaks none.
@Suite("One ingest pipeline for every path")
struct IngestPathsTests {
    /// Three events the configuration refuses, each for one reason, and one it takes.
    struct Events {
        let banned = Author()
        let good: Event
        let fromBanned: Event
        let deniedKind: Event
        let weak: Event

        init() {
            // Mined, so that the ban and the kind are what refuse them, not the PoW minimum.
            good = Author().minedEvent(difficulty: Self.difficulty, content: "breaks no rule")
            fromBanned = banned.minedEvent(difficulty: Self.difficulty, content: "from a banned pubkey")
            deniedKind = Author().minedEvent(difficulty: Self.difficulty, kind: 4, content: "a denied kind")
            let author = Author()
            var weak = author.event(content: "under the PoW minimum")
            while ProofOfWork.difficulty(of: weak.id) >= Self.difficulty { weak = author.event(content: weak.content + ".") }
            self.weak = weak
        }

        static let difficulty = 8
        var all: [Event] { [good, fromBanned, deniedKind, weak] }
        var refused: [Event] { [fromBanned, deniedKind, weak] }

        /// NIP-01's prefix each refused event must get.
        var expectedPrefixes: [EventID: String] {
            [fromBanned.id: "blocked:", deniedKind.id: "blocked:", weak.id: "pow:"]
        }

        func configure(_ configuration: inout RelayConfiguration) {
            configuration.access.bannedPubkeys = [banned.pubkey]
            configuration.access.deniedKinds = [4]
            configuration.access.minPowDifficulty = Self.difficulty
        }

        /// The same rules as `martlet.yaml`, for the command line.
        var yaml: String {
            """
            access:
              banned_pubkeys: [\(banned.pubkey.hex)]
              denied_kinds: [4]
              min_pow_difficulty: \(Self.difficulty)

            """
        }

        /// Expects `store` to hold the good event and none of the refused ones.
        func expectOnlyGoodStored(in relay: Relay) async throws {
            #expect(try await relay.store.contains(good.id), "the event that breaks no rule is stored")
            for event in refused {
                #expect(try await relay.store.contains(event.id) == false, "\(event.content) is not stored")
            }
        }
    }

    @Test("a client's EVENT: banned pubkey and denied kind are blocked:, weak PoW is pow:")
    func client() async throws {
        let events = Events()
        try await TestRelay.with(configure: events.configure) { relay in
            let client = try await relay.connect()
            for event in events.all {
                let answer = try await client.publishAndWait(event)
                if let prefix = events.expectedPrefixes[event.id] {
                    #expect(!answer.accepted && answer.message.hasPrefix(prefix), "\(event.content): \(answer)")
                } else {
                    #expect(answer.accepted && answer.message.isEmpty, "\(answer)")
                }
            }
            await client.close()
            try await events.expectOnlyGoodStored(in: relay.relay)
        }
    }

    @Test("a mesh peer's catch-up refuses the same three events and replicates the fourth")
    func mesh() async throws {
        let events = Events()
        try await TestRelay.with { source in
            _ = try await source.relay.store.save(events.all)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-paths-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let here = try await RunningRelay.start(
                configure: events.configure, directory: folder, mesh: MeshOfThree.configuration(peers: [source.url]))
            do {
                try await MeshOfThree.waitUntil("the catch-up is done", detail: MeshOfThree.statuses([here])) {
                    here.mesh?.status.peers.first?.lastCatchUp != nil
                }
                let report = try #require(here.mesh?.status.peers.first?.lastCatchUp)
                #expect(report.need == 4 && report.downloaded == 1 && report.rejected == 3, "\(report)")
                try await events.expectOnlyGoodStored(in: here.relay)
            } catch {
                try? await here.stop()
                throw error
            }
            try await here.stop()
        }
    }

    @Test("martlet sync, as a library and as the command, refuses the same three events")
    func sync() async throws {
        let events = Events()
        try await TestRelay.with { source in
            _ = try await source.relay.store.save(events.all)
            try await TestRelay.with(configure: events.configure) { here in
                let refusals = Locked<[EventID: String]>([:])
                let report = try await RelaySync(relay: here.relay, remote: source.url).run { progress in
                    if case .rejected(let id, let reason) = progress { refusals.withLock { $0[id] = reason } }
                }
                #expect(report.need == 4 && report.downloaded == 1 && report.rejected == 3, "\(report)")
                for (id, prefix) in events.expectedPrefixes {
                    #expect(refusals.value[id]?.hasPrefix(prefix) == true, "\(refusals.value[id] ?? "not refused")")
                }
                try await events.expectOnlyGoodStored(in: here.relay)
            }

            try await withCommandFolder(yaml: events.yaml) { folder, config in
                let run = try await MartletCommand.run([
                    "sync", source.url, "--direction", "down", "--config", config, "--data", folder.path + "/data",
                ])
                #expect(run.status == 0, "\(run.errors)")
                #expect(run.output == "sync: have 0, need 4, downloaded 1, uploaded 0, rejected 3\n", "\(run.errors)")
                #expect(run.errors.contains("rejected \(events.fromBanned.id): blocked: this pubkey is banned"))
                #expect(run.errors.contains("rejected \(events.deniedKind.id): blocked: kind 4 is not accepted here"))
                #expect(run.errors.contains("rejected \(events.weak.id): pow:"))
            }
        }
    }

    @Test("martlet import, as a library and as the command, refuses the same three events line by line")
    func importFile() async throws {
        let events = Events()
        let lines = events.all.map(\.jsonString)
        try await TestRelay.with(configure: events.configure) { relay throws in
            var refusals: [Int: String] = [:]
            let report = await EventImport(relay: relay.relay).run(lines.map { Array($0.utf8) }) { progress in
                if case .rejected(let line, let reason) = progress { refusals[line] = reason }
            }
            #expect(report.saved == 1 && report.rejectedByPrefix == ["blocked": 2, "pow": 1], "\(report)")
            #expect(refusals[2]?.hasPrefix("blocked:") == true && refusals[3]?.hasPrefix("blocked:") == true)
            #expect(refusals[4]?.hasPrefix("pow:") == true)
            try await events.expectOnlyGoodStored(in: relay.relay)
        }

        try await withCommandFolder(yaml: events.yaml) { folder, config in
            let file = folder.appendingPathComponent("events.jsonl")
            try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
            let run = try await MartletCommand.run(["import", file.path, "--config", config, "--data", folder.path + "/data"])
            #expect(run.status == 0, "\(run.errors)")
            #expect(run.output == "import: 4 lines, 1 saved, 0 already stored, 3 rejected (blocked: 2, pow: 1)\n")
            #expect(run.errors.contains("line 2: blocked: this pubkey is banned"))
            #expect(run.errors.contains("line 3: blocked: kind 4 is not accepted here"))
            #expect(run.errors.contains("line 4: pow:"))
        }
    }

    /// A folder with `martlet.yaml` holding `yaml`, removed afterwards.
    private func withCommandFolder(yaml: String, _ body: (URL, String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("martlet.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        try await body(folder, config.path)
    }
}
