import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The mesh: configured peers kept in step by a NIP-77 catch-up on every connection and a
/// live stream both ways, healing after restarts.
@Suite("Relay mesh replication")
struct MeshTests {
    @Test("a write on any of three meshed relays appears on all, stored once each and delivered once")
    func threeRelays() async throws {
        try await MeshOfThree.with { relays in
            let watcher = try await relays[1].testRelay.connect()
            try await watcher.request("watch", #"{"kinds":[1,20001]}"#)
            _ = try await watcher.eventsUntilEOSE("watch")

            let author = Author()
            var notes: [Event] = []
            for round in 0..<9 {
                let note = author.event(content: "note \(round)")
                try await MeshOfThree.publish(note, to: relays[round % 3])
                notes.append(note)
            }
            try await MeshOfThree.publish(author.event(kind: 20001, content: "typing"), to: relays[2])

            try await MeshOfThree.waitUntil("all three relays hold the 9 notes") {
                try await MeshOfThree.allHold(notes, relays)
            }
            // Each event reaches a subscriber of the middle relay once, the ephemeral one too:
            // the copies that came back around the triangle went no further.
            var deliveries: [String: Int] = [:]
            while let message = try await watcher.silence(for: .milliseconds(800)) {
                if message.type == "EVENT", let id = message.object(2)?["id"] as? String { deliveries[id, default: 0] += 1 }
            }
            #expect(deliveries.count == 10)
            #expect(deliveries.values.allSatisfy { $0 == 1 }, "\(deliveries)")
            for relay in relays {
                #expect(try await relay.relay.store.count([Filter()], now: now()) == notes.count)
            }
            await watcher.close()
        }
    }

    @Test("a relay stopped while the others take writes catches up when started again on its folder and port")
    func restartCatchesUp() async throws {
        try await MeshOfThree.with { relays in
            let author = Author()
            var notes: [Event] = []
            func publish(_ count: Int, to targets: [RunningRelay]) async throws {
                for index in 0..<count {
                    // Older created_at than the live stream would ever ask for with `since`.
                    let note = author.event(content: "note \(notes.count)", createdAt: now() - 3600 - Int64(notes.count))
                    try await MeshOfThree.publish(note, to: targets[index % targets.count])
                    notes.append(note)
                }
            }
            try await publish(6, to: relays)
            try await MeshOfThree.waitUntil("the first 6 notes are everywhere") { try await MeshOfThree.allHold(notes, relays) }

            let stopped = relays[2]
            try await stopped.stop()
            try await publish(20, to: [relays[0], relays[1]])
            let restarted = try await RunningRelay.start(
                port: stopped.port, directory: stopped.directory,
                mesh: MeshOfThree.configuration(peers: [relays[0].url, relays[1].url]))
            do {
                let all = [relays[0], relays[1], restarted]
                try await publish(2, to: [restarted])
                try await MeshOfThree.waitUntil(
                    "all 28 notes are everywhere and every peer is live again", detail: MeshOfThree.statuses(all)
                ) {
                    try await MeshOfThree.allHold(notes, all) && MeshOfThree.allLive(all)
                }
                for relay in all {
                    #expect(try await relay.relay.store.count([Filter()], now: now()) == notes.count)
                }
                // The 20 missed notes came by negentropy: the restarted relay's downloads, or
                // what its peers uploaded when they reconnected.
                let downloaded = restarted.mesh?.status.peers.reduce(0) { $0 + ($1.lastCatchUp?.need ?? 0) } ?? 0
                let uploaded = relays[0..<2].reduce(0) { total, relay in
                    total + (relay.mesh?.status.peers.first { $0.url == restarted.url }?.lastCatchUp?.have ?? 0)
                }
                #expect(downloaded + uploaded >= 20, "downloaded \(downloaded), uploaded \(uploaded)")
                try await restarted.stop()
            } catch {
                try? await restarted.stop()
                throw error
            }
        }
    }

    @Test("a peer that requires NIP-42 AUTH is answered with mesh.secret_key, and both directions replicate")
    func authenticatesToPrivatePeer() async throws {
        let meshKey = SecretKey.generate()
        let author = Author()
        let before = author.event(content: "on the private relay before the mesh started")
        try await TestRelay.with(configure: { configuration in
            configuration.access.mode = .privateRelay
            configuration.access.allowedPubkeys = [meshKey.publicKey]
        }) { privateRelay in
            _ = try await privateRelay.relay.store.save([before])
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var configuration = MeshOfThree.configuration(peers: [privateRelay.url])
            configuration.secretKey = meshKey
            let open = try await RunningRelay.start(directory: folder, mesh: configuration)
            do {
                // The catch-up's NEG-OPEN is refused auth-required: until the challenge is answered.
                // Longer than the mesh's 30 s reply timeout: on a loaded machine a first attempt
                // may lose the race with AUTH and be retried.
                try await MeshOfThree.waitUntil(
                    "the private relay's event arrived by the catch-up", timeout: .seconds(75),
                    detail: MeshOfThree.statuses([open])
                ) {
                    try await MeshOfThree.allHold([before], [open])
                }
                let after = author.event(content: "published on the open relay")
                try await MeshOfThree.publish(after, to: open)
                try await MeshOfThree.waitUntil(
                    "the new event reached the private relay, and its OK came back", detail: MeshOfThree.statuses([open])
                ) {
                    let stored = try await privateRelay.relay.store.contains(after.id)
                    return stored && open.mesh?.status.peers.first?.eventsOut == 1
                }
                let status = try #require(open.mesh?.status.peers.first)
                #expect(status.state == .live && status.eventsIn == 1 && status.eventsOut == 1, "\(status)")
                try await open.stop()
            } catch {
                try? await open.stop()
                throw error
            }
        }
    }

    @Test("a peer that refuses NIP-77 is still streamed live both ways, without the catch-up")
    func peerWithoutNegentropy() async throws {
        try await TestRelay.with(configure: { $0.negentropy.maxSessionsPerConnection = 0 }) { plain in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let meshed = try await RunningRelay.start(directory: folder, mesh: MeshOfThree.configuration(peers: [plain.url]))
            do {
                try await MeshOfThree.waitUntil("the peer is live") { MeshOfThree.allLive([meshed]) }
                let status = try #require(meshed.mesh?.status.peers.first)
                #expect(status.lastError?.contains("no catch-up") == true, "\(status)")
                let here = Author().event(content: "published here")
                let there = Author().event(content: "published on the peer")
                try await MeshOfThree.publish(here, to: meshed)
                let client = try await plain.connect()
                #expect(try await client.publishAndWait(there).accepted)
                await client.close()
                try await MeshOfThree.waitUntil("each event reached the other relay") {
                    let arrived = try await plain.relay.store.contains(here.id)
                    let fetched = try await meshed.relay.store.contains(there.id)
                    return arrived && fetched
                }
                try await meshed.stop()
            } catch {
                try? await meshed.stop()
                throw error
            }
        }
    }

    @Test("a relay whose peers refuse it or cannot be reached still stops within seconds")
    func stopsWhilePeersFail() async throws {
        try await TestRelay.with(configure: { $0.access.mode = .privateRelay }) { privateRelay in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            // The key authenticates, but it is no member of the private relay; nothing listens on port 9.
            var configuration = MeshOfThree.configuration(peers: [privateRelay.url, "ws://127.0.0.1:9/"])
            configuration.secretKey = SecretKey.generate()
            // Both peers fail at once (refused, restricted), so no reply is ever awaited. A
            // reply timeout far beyond the bound below tells "stops promptly" from "waits out
            // the timeout" on a machine however loaded: a 15 s bound against a 10 s timeout
            // once failed at 16.9 s while the full suite and a bulk import shared two cores.
            configuration.replyTimeout = .seconds(600)
            let open = try await RunningRelay.start(directory: folder, mesh: configuration)
            do {
                try await MeshOfThree.waitUntil("both peers failed twice") {
                    open.mesh?.status.peers.allSatisfy { $0.connections >= 2 } ?? false
                }
                let refused = try #require(open.mesh?.status.peers.first)
                #expect(refused.lastError?.contains("restricted:") == true, "\(refused)")
                let start = ContinuousClock.now
                try await open.stop()
                // Seconds, a minute at worst on a loaded machine; never the reply timeout or a hang.
                #expect(ContinuousClock.now - start < .seconds(60))
            } catch {
                try? await open.stop()
                throw error
            }
        }
    }

    @Test("martlet serve reads MARTLET_MESH_PEERS as a comma-separated list and replicates to the peers")
    func serveReadsPeersFromTheEnvironment() async throws {
        try await TestRelay.with { first in
            try await TestRelay.with { second in
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: folder) }
                let served = try await RelayProcess.start(
                    data: folder, environment: ["MARTLET_MESH_PEERS": "\(first.url), \(second.url)"])
                // The note is published once both catch-ups are done, so it goes out by the
                // live stream alone. Published during a catch-up, it can be in the catch-up's
                // upload as well (by design: nothing falls between the two), and the peer's
                // `duplicate:` answer to the second copy counts as sent too: two out, not one.
                try await MeshOfThree.waitUntil("/metrics shows both peers live") {
                    let metrics = URLRequest(url: URL(string: "http://127.0.0.1:\(served.port)/metrics")!)
                    let text = String(decoding: try await HTTPGet.run(metrics).body, as: UTF8.self)
                    return text.contains(#"martlet_mesh_peers{state="live"} 2"#)
                }
                let note = Author().event(content: "from the martlet process")
                let client = try await served.connect()
                #expect(try await client.publishAndWait(note).accepted)
                await client.close()
                try await MeshOfThree.waitUntil("both peers hold the note") {
                    let onFirst = try await first.relay.store.contains(note.id)
                    let onSecond = try await second.relay.store.contains(note.id)
                    return onFirst && onSecond
                }
                // The status page's figures list the same peers, live, with the note sent to each.
                let status = URLRequest(url: URL(string: "http://127.0.0.1:\(served.port)/status.json")!)
                var peers: [[String: Any]] = []
                try await MeshOfThree.waitUntil("/status.json lists both peers live, one event out each", detail: "\(peers)") {
                    let document = try JSONSerialization.jsonObject(with: try await HTTPGet.run(status).body) as? [String: Any]
                    peers = document?["mesh"] as? [[String: Any]] ?? []
                    return Set(peers.compactMap { $0["url"] as? String }) == [first.url, second.url]
                        && peers.allSatisfy { $0["state"] as? String == "live" && $0["events_out"] as? Int == 1 }
                }
                // And the page a browser renders shows them.
                let chromium = try #require(Chromium.path, "Chromium is not installed: run `make browser-deps`")
                let dom = try await Chromium.run(
                    chromium, ["--virtual-time-budget=3000", "--dump-dom", "http://127.0.0.1:\(served.port)/"])
                #expect(dom.components(separatedBy: #"<tr data-state="live">"#).count == 3, "two live peer rows")
                #expect(dom.contains(first.url) && dom.contains(second.url))
                #expect(await served.stop(signal: SIGTERM) == 0)
            }
        }
    }

    @Test("three martlet serve processes: a write on any reaches all; one killed with SIGKILL misses writes, restarts and converges; nothing loops")
    func threeProcessesSurviveAKill() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let ports = try (0..<3).map { _ in try unusedPort() }
        let folders = (0..<3).map { root.appendingPathComponent("relay\($0)") }
        func start(_ index: Int) async throws -> RelayProcess {
            let peers = ports.indices.filter { $0 != index }.map { "ws://127.0.0.1:\(ports[$0])/" }
            return try await RelayProcess.start(
                data: folders[index], port: ports[index], environment: ["MARTLET_MESH_PEERS": peers.joined(separator: ",")])
        }
        var relays = [RelayProcess]()
        do {
            for index in 0..<3 { relays.append(try await start(index)) }
            let author = Author()
            let first = author.event(content: "written before the kill")
            try await Self.publish(first, to: relays[0])
            try await Self.waitUntilAllHold([first], relays)

            await relays[2].stop(signal: SIGKILL)
            let missed = [author.event(content: "missed by the killed relay, via 0"), author.event(content: "via 1")]
            try await Self.publish(missed[0], to: relays[0])
            try await Self.publish(missed[1], to: relays[1])
            try await Self.waitUntilAllHold([first] + missed, Array(relays[0..<2]))

            relays[2] = try await start(2)
            let after = author.event(content: "written on the restarted relay")
            try await Self.publish(after, to: relays[2])
            let all = [first] + missed + [after]
            try await Self.waitUntilAllHold(all, relays)
            // No loop: a second later each relay still holds each event once, and nothing more.
            try await Task.sleep(for: .seconds(1))
            try await Self.waitUntilAllHold(all, relays)
        } catch {
            for relay in relays { await relay.stop(signal: SIGKILL) }
            throw error
        }
        for relay in relays { #expect(await relay.stop(signal: SIGTERM) == 0) }
    }

    private static func publish(_ event: Event, to relay: RelayProcess) async throws {
        let client = try await relay.connect()
        let answer = try await client.publishAndWait(event)
        await client.close()
        #expect(answer.accepted, "\(answer.message)")
    }

    /// Until every relay returns exactly `events` for `{}`: each once, and nothing else.
    private static func waitUntilAllHold(_ events: [Event], _ relays: [RelayProcess]) async throws {
        let wanted = events.map(\.id.hex).sorted()
        var seen: [[String]] = []
        try await MeshOfThree.waitUntil("every relay holds exactly the \(events.count) notes", timeout: .seconds(60), detail: "\(seen)") {
            seen = []
            for relay in relays {
                let client = try await relay.connect()
                let ids = try await client.query("all", "{}").compactMap { $0["id"] as? String }.sorted()
                await client.close()
                seen.append(ids)
            }
            return seen.allSatisfy { $0 == wanted }
        }
    }

    @Test("reconnect waits double after each failure, from 0.5 s up to 30 s, shortened by at most the jitter")
    func backoffSchedule() {
        let backoff = Backoff()
        let ceilings = (0..<9).map { backoff.ceiling(afterFailures: $0) }
        #expect(
            ceilings == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30),
                .seconds(30), .seconds(30),
            ])
        #expect(backoff.ceiling(afterFailures: 10_000) == .seconds(30))
        #expect(backoff.delay(afterFailures: 3, random: 0) == .seconds(4))
        #expect(backoff.delay(afterFailures: 3, random: 0.5) == .milliseconds(3600))
        var generator = SystemRandomNumberGenerator()
        for failures in 0..<12 {
            let delay = backoff.delay(afterFailures: failures, using: &generator)
            let ceiling = backoff.ceiling(afterFailures: failures)
            #expect(delay <= ceiling && delay >= ceiling * 0.8)
        }
    }
}

/// Three relays on 127.0.0.1, each with the other two as mesh peers (added once all three
/// ports are known), reconnecting fast so that a test sees a restart heal within a second.
enum MeshOfThree {
    static func configuration(peers: [String]) -> MeshConfiguration {
        var configuration = MeshConfiguration()
        configuration.peers = peers
        configuration.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(400))
        configuration.replyTimeout = .seconds(10)
        return configuration
    }

    static func with(_ body: ([RunningRelay]) async throws -> Void) async throws {
        let folders = (0..<3).map { _ in
            FileManager.default.temporaryDirectory.appendingPathComponent("martlet-mesh-\(UUID().uuidString)")
        }
        defer { for folder in folders { try? FileManager.default.removeItem(at: folder) } }
        var relays: [RunningRelay] = []
        do {
            for folder in folders {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                relays.append(try await RunningRelay.start(directory: folder))
            }
            for relay in relays {
                let peers = relays.filter { $0 !== relay }.map(\.url)
                relay.startMesh(peers: peers) { $0 = configuration(peers: peers) }
            }
            try await waitUntil("every peer is live", detail: statuses(relays)) { allLive(relays) }
            try await body(relays)
        } catch {
            for relay in relays { try? await relay.stop() }
            throw error
        }
        for relay in relays { try await relay.stop() }
    }

    static func publish(_ event: Event, to relay: RunningRelay) async throws {
        let client = try await relay.testRelay.connect()
        let answer = try await client.publishAndWait(event)
        await client.close()
        #expect(answer.accepted && answer.message.isEmpty, "\(answer)")
    }

    static func allHold(_ events: [Event], _ relays: [RunningRelay]) async throws -> Bool {
        let wanted = Set(events.map(\.id))
        for relay in relays where Set(try await relay.relay.store.negentropyItems(Filter(), now: now()).map(\.id)) != wanted {
            return false
        }
        return true
    }

    static func allLive(_ relays: [RunningRelay]) -> Bool {
        relays.allSatisfy { relay in relay.mesh.map { $0.status.count(.live) == $0.peers.count } ?? false }
    }

    /// Polls `condition` until it holds; fails the test after `timeout`, saying `detail`.
    static func waitUntil(
        _ what: String, timeout: Duration = .seconds(20), detail: @autoclosure () -> String = "",
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting until \(what) \(detail())")
    }

    /// Every peer's status, for a failure message.
    static func statuses(_ relays: [RunningRelay]) -> String {
        relays.map { "\($0.port): \($0.mesh.map { "\($0.status.peers)" } ?? "no mesh")" }.joined(separator: "; ")
    }
}
