import DHTTestSupport
import Foundation
import MartletDHT
import MartletDiscovery
import MartletTestSupport
import NostrCore
import Testing

/// Issue 18's last piece: `martlet relay join <key>` with no `--via`, the serving node found
/// through the Mainline DHT. The DHT is three Martlet nodes in the test process on
/// 127.0.0.1; both `martlet` processes name only them in `discovery.bootstrap`.
@Suite("Joining a hosted relay found in the DHT", .serialized)
struct HostedRelayDiscoveryTests {
    @Test("B joins K by key alone through A's record in the DHT, and a note published on A for K reaches B; an unknown key is one line, non-zero")
    func joinByKeyThroughTheDHT() async throws {
        try await withLoopbackNodes(3, configure: Self.sharedLoopback) { nodes in
            let seeds = nodes.map(\.localAddress)
            for node in nodes { await node.bootstrap(seeds) }
            let bootstrap = seeds.map(\.description).joined(separator: ",")
            try await withTemporaryFolder("martlet-hosted-dht") { root in
                let (dataA, dataB) = (root.appendingPathComponent("a"), root.appendingPathComponent("b"))
                let portA = try unusedPort()
                let nodeA = try await RelayProcess.start(
                    data: dataA, port: portA,
                    environment: [
                        "MARTLET_RELAY_URL": "ws://127.0.0.1:\(portA)/",
                        "MARTLET_DISCOVERY_ENABLED": "true",
                        "MARTLET_DISCOVERY_HOST": "127.0.0.1",
                        "MARTLET_DISCOVERY_PORT": "0",
                        "MARTLET_DISCOVERY_BOOTSTRAP": bootstrap,
                        // Short rounds: A's hosted relays' records are put every round.
                        "MARTLET_DISCOVERY_SYNC_INTERVAL": "2",
                    ])
                defer { Task { await nodeA.stop(signal: SIGTERM) } }
                let viaA = "ws://127.0.0.1:\(portA)"
                let created = try await MartletCommand.run([
                    "relay", "create", "--server", viaA, "--name", "Found by key", "--writers", "open", "--data", dataA.path,
                ])
                #expect(created.status == 0, "\(created.errors)")
                let key = try #require(HostedNode.value("relay", in: created.output))
                let relayKey = try #require(PublicKey(hex: key))

                // The record appears at A's next round; waiting on it here keeps the join below a single run.
                var lookup = DiscoveryConfiguration()
                lookup.host = "127.0.0.1"
                lookup.bootstrap = seeds.map(\.description)
                lookup.queryTimeout = .seconds(10)
                let published = await waitUntil(timeout: .seconds(90)) {
                    (try? await HostedRelayRecord.find(relayKey: relayKey, configuration: lookup)) != nil
                }
                #expect(published, "A never put K's record")

                let tool = [
                    "MARTLET_DISCOVERY_HOST": "127.0.0.1", "MARTLET_DISCOVERY_BOOTSTRAP": bootstrap,
                    "MARTLET_LOG_LEVEL": "warning",
                ]
                let joined = try await MartletCommand.run(["relay", "join", key, "--data", dataB.path], environment: tool)
                #expect(joined.status == 0, "\(joined.errors)")
                #expect(joined.output.contains("joined \(key) via ws://127.0.0.1:\(portA)/\(key)"), "\(joined.output)")
                #expect(joined.output.contains("downloaded 1"), "\(joined.output)")

                // A key nobody serves: one line, non-zero.
                let unknown = SecretKey.generate().publicKey.hex
                let missing = try await MartletCommand.run(
                    ["relay", "join", unknown, "--data", root.appendingPathComponent("c").path], environment: tool)
                #expect(missing.status != 0)
                let line = missing.errors.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(!line.isEmpty && !line.contains("\n"), "\(line)")
                #expect(line.contains("relay \(unknown) was not found in the DHT"), "\(line)")

                // B serves its replica, kept in step with A: a note published on A for K reaches B.
                let nodeB = try await RelayProcess.start(data: dataB)
                defer { Task { await nodeB.stop(signal: SIGTERM) } }
                let note = Author().event(content: "published on A, for K")
                try await HostedNode.publish(note, to: "\(viaA)/\(key)")
                try await HostedNode.waitUntil("B's replica of K holds the note") {
                    try await HostedNode.holds([note], at: "ws://127.0.0.1:\(nodeB.port)/\(key)")
                }
            }
        }
    }

    /// Every process of the test shares 127.0.0.1, so the nodes' per-IP limit must allow them all.
    static func sharedLoopback(_ configuration: inout DHTConfiguration) {
        configuration.packetsPerSecondPerIP = 100_000
        configuration.packetBurstPerIP = 200_000
    }
}
