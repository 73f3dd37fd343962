import DHTTestSupport
import Foundation
import MartletDHT
import MartletDiscovery
import MartletTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NostrCore
import Testing

/// Relays that find each other through the Mainline DHT (issue 17), as `martlet serve`
/// runs it: libtorrent 2.x nodes on 127.0.0.1 are the DHT's other members, and no packet
/// leaves loopback (every relay's `discovery.bootstrap` names only them).
@Suite(
    "Relay discovery over the DHT",
    .enabled(
        if: LibtorrentPeers.python != nil,
        "python3-libtorrent is not installed (apt-get install python3-libtorrent, or `make dht-deps`)"),
    .serialized)
struct DiscoveryTests {
    @Test(
        "relay B, with no mesh peers, finds relay A in the DHT, syncs A's note under its sync filter, and fetches a missing note from its author's relay"
    )
    func discoversAndSyncs() async throws {
        let peers = try LibtorrentPeers(python: LibtorrentPeers.python!, sessions: 3)
        defer { peers.stop() }
        let libtorrent = try await peers.ready()
        let bootstrap = libtorrent.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-discovery-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        func start(_ name: String, _ extra: [String: String] = [:]) async throws -> RelayProcess {
            let port = try unusedPort()
            return try await RelayProcess.start(
                data: root.appendingPathComponent(name), port: port,
                environment: [
                    "MARTLET_RELAY_URL": "ws://127.0.0.1:\(port)/",
                    "MARTLET_DISCOVERY_ENABLED": "true",
                    "MARTLET_DISCOVERY_HOST": "127.0.0.1",
                    "MARTLET_DISCOVERY_PORT": "0",
                    "MARTLET_DISCOVERY_BOOTSTRAP": bootstrap,
                    // Short search rounds, so the test waits seconds; the hour-long republish
                    // means a list put in the test was put because it was just accepted.
                    "MARTLET_DISCOVERY_SYNC_INTERVAL": "2",
                    "MARTLET_DISCOVERY_REPUBLISH_INTERVAL": "3600",
                ].merging(extra) { _, new in new })
        }
        var relays: [RelayProcess] = []
        do {
            // Both relays replicate only the first author's notes with the relays they
            // discover (`discovery.sync_filter`; the mesh runs both ways, so A's side counts too).
            let note = Author().event(content: "found through the DHT")
            let syncFilter = ["MARTLET_DISCOVERY_SYNC_FILTER": #"{"authors":["\#(note.pubkey.hex)"]}"#]
            let a = try await start("a", syncFilter)
            relays.append(a)
            let client = try await a.connect()
            let answer = try await client.publishAndWait(note)
            await client.close()
            #expect(answer.accepted, "\(answer.message)")

            // A user whose NIP-65 list names A, sent after A's first round (which put the lists
            // it served then: none): A puts it at its next round, where it is found from the
            // pubkey alone (here by libtorrent, an independent node).
            #expect(try await waitUntil(timeout: .seconds(60)) { try await Self.metric("martlet_discovery_announced 1", of: a) })
            let user = Author()
            // The second relay is one the user reads from: nobody fetches the user's notes
            // there (NIP-65), so no test connects beyond 127.0.0.1.
            let relayList = user.event(
                kind: 10002, content: "", tags: [["r", a.url], ["r", "wss://elsewhere.example", "read"]])
            // Two notes of the user's that B's sync filter leaves on A: B fetches the first
            // when a REQ asks for it, `martlet fetch` the second.
            let missing = user.event(content: "only on my own relay")
            let fetched = user.event(content: "fetched from the command line")
            let writer = try await a.connect()
            for event in [relayList, missing, fetched] { #expect(try await writer.publishAndWait(event).accepted) }
            await writer.close()

            // B also looks elsewhere for notes asked by id that it lacks.
            let b = try await start(
                "b",
                syncFilter.merging([
                    "MARTLET_DISCOVERY_FETCH_MISSING": "true", "MARTLET_DISCOVERY_FETCH_TIMEOUT_MS": "15000",
                ]) { _, new in new })
            relays.append(b)
            var held: [String] = []
            let found = try await waitUntil(timeout: .seconds(120)) {
                let reader = try await b.connect()
                held = try await reader.query("note", #"{"ids":["\#(note.id.hex)"]}"#).compactMap { $0["id"] as? String }
                await reader.close()
                return held == [note.id.hex]
            }
            #expect(found, "B never held A's note")

            let slot = DHTHex.encode(UserRelayList.publicKey(for: user.secret.publicKey))
            var got: [String: Any] = [:]
            let listed = try await waitUntil(timeout: .seconds(60)) {
                got = try await peers.send(["op": "get", "session": 1, "public_key": slot, "salt": "", "timeout": 10])
                return got["found"] as? Bool == true
            }
            #expect(listed, "the list was not found in the DHT")
            let value = try #require(got["value"] as? String)
            let stored = try #require(UserRelayList.verified(json: Array(value.utf8), author: user.pubkey))
            #expect(stored.id == relayList.id)
            #expect(UserRelayList.relays(stored) == [a.url, "wss://elsewhere.example"])

            // The sync filter held: B synced A's note, not the user's.
            let reader = try await b.connect()
            #expect(try await reader.query("theirs", #"{"authors":["\#(user.pubkey.hex)"]}"#).isEmpty)
            await reader.close()

            // Missing-note retrieval: B holds no list of the user's (the sync filter kept it on
            // A), so a REQ naming the note and its author makes B find the user's relays in
            // the DHT from the pubkey alone, ask A, and answer with the note before EOSE.
            var fetchedIDs: [String] = []
            let retrieved = try await waitUntil(timeout: .seconds(120)) {
                let client = try await b.connect()
                fetchedIDs = try await client.query(
                    "missing", #"{"ids":["\#(missing.id.hex)"],"authors":["\#(user.pubkey.hex)"]}"#
                ).compactMap { $0["id"] as? String }
                await client.close()
                return fetchedIDs == [missing.id.hex]
            }
            #expect(retrieved, "B never fetched the missing note from A")
            // It went through B's ingest pipeline: stored, so a REQ not by id (which looks
            // nowhere else) finds it now, and it alone.
            let again = try await b.connect()
            let kept = try await again.query("stored", #"{"authors":["\#(user.pubkey.hex)"],"kinds":[1]}"#)
            #expect(kept.compactMap { $0["id"] as? String } == [missing.id.hex])
            await again.close()

            // `martlet fetch <id> --author <pubkey>` into a store of its own, finding the
            // user's relays in the DHT through the same libtorrent nodes.
            let tool = [
                "MARTLET_DISCOVERY_HOST": "127.0.0.1", "MARTLET_DISCOVERY_BOOTSTRAP": bootstrap,
                "MARTLET_LOG_LEVEL": "warning",
            ]
            let data = root.appendingPathComponent("c").path
            let fetch = ["fetch", fetched.id.hex, "--author", user.pubkey.hex, "--data", data, "--timeout", "30"]
            var run = try await MartletCommand.run(fetch, environment: tool)
            if run.status != 0 {
                // A lookup on a loaded machine can miss the nodes holding the list; once more.
                run = try await MartletCommand.run(fetch, environment: tool)
            }
            #expect(run.status == 0, "\(run.output)\(run.errors)")
            #expect(run.output == "fetch: \(fetched.id.hex) stored from \(a.url)\n")
            let repeated = try await MartletCommand.run(fetch, environment: tool)
            #expect(repeated.output == "fetch: \(fetched.id.hex) already stored\n")
            let unknown = Author().event(content: "never published")
            let nowhere = try await MartletCommand.run(
                ["fetch", unknown.id.hex, "--relay", a.url, "--data", data, "--timeout", "10"], environment: tool)
            #expect(nowhere.status != 0)
            #expect(nowhere.output == "fetch: \(unknown.id.hex) not found on 1 relays\n")

            // B's /metrics counts the relay it found (recorded at the end of each round).
            #expect(try await waitUntil(timeout: .seconds(30)) { try await Self.metric("martlet_discovery_relays 1", of: b) })
            #expect(try await Self.metric(#"martlet_dht_dropped_packets{reason="malformed"}"#, of: b))
            // The sync store: B remembers A (found in the DHT, and synced with), A the user
            // whose list it put; both in /metrics, and B's on its status page.
            #expect(try await waitUntil(timeout: .seconds(30)) { try await Self.metric("martlet_sync_relays 1", of: b) })
            #expect(try await waitUntil(timeout: .seconds(30)) { try await Self.metric("martlet_sync_authors 1", of: a) })
            let (_, _, body) = try await HTTPGet.run(URLRequest(url: URL(string: "http://127.0.0.1:\(b.port)/status.json")!))
            let status = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let known = try #require(status["sync_relays"] as? [[String: Any]])
            #expect(known.compactMap { $0["url"] as? String } == [a.url])
            #expect(known.first?["last_sync"] is Int)

            // NIP-11 `self`: the relay's own key, made on first start and kept in relay.key (0600).
            let document = try await Self.information(of: a)
            let me = try #require(document["self"] as? String)
            #expect(PublicKey(hex: me) != nil)
            let keyFile = root.appendingPathComponent("a/relay.key").path
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        } catch {
            for relay in relays { await relay.stop(signal: SIGKILL) }
            throw error
        }
        for relay in relays { #expect(await relay.stop(signal: SIGTERM) == 0) }
    }

    static func information(of relay: RelayProcess) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let (_, _, body) = try await HTTPGet.run(request)
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    /// Whether a line of the relay's `/metrics` starts with `prefix`.
    static func metric(_ prefix: String, of relay: RelayProcess) async throws -> Bool {
        let (_, _, body) = try await HTTPGet.run(URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/metrics")!))
        return String(decoding: body, as: UTF8.self).split(separator: "\n").contains { $0.hasPrefix(prefix) }
    }
}
