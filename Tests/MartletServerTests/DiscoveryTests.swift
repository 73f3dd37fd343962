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
    @Test("relay B, with no mesh peers, finds relay A's announcement in the DHT and syncs A's note")
    func discoversAndSyncs() async throws {
        let peers = try LibtorrentPeers(python: LibtorrentPeers.python!, sessions: 3)
        defer { peers.stop() }
        let libtorrent = try await peers.ready()
        let bootstrap = libtorrent.map { "127.0.0.1:\($0.port)" }.joined(separator: ",")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-discovery-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        func start(_ name: String) async throws -> RelayProcess {
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
                ])
        }
        var relays: [RelayProcess] = []
        do {
            let a = try await start("a")
            relays.append(a)
            let note = Author().event(content: "found through the DHT")
            let client = try await a.connect()
            let answer = try await client.publishAndWait(note)
            await client.close()
            #expect(answer.accepted, "\(answer.message)")

            // A user whose NIP-65 list names A, sent after A's first round (which put the lists
            // it served then: none): A puts it at its next round, where it is found from the
            // pubkey alone (here by libtorrent, an independent node).
            #expect(try await waitUntil(timeout: .seconds(60)) { try await Self.metric("martlet_discovery_announced 1", of: a) })
            let user = Author()
            let relayList = user.event(kind: 10002, content: "", tags: [["r", a.url], ["r", "wss://elsewhere.example"]])
            let writer = try await a.connect()
            #expect(try await writer.publishAndWait(relayList).accepted)
            await writer.close()

            let b = try await start("b")
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

            // B's /metrics counts the relay it found (recorded at the end of each round).
            #expect(try await waitUntil(timeout: .seconds(30)) { try await Self.metric("martlet_discovery_relays 1", of: b) })
            #expect(try await Self.metric(#"martlet_dht_dropped_packets{reason="malformed"}"#, of: b))

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
