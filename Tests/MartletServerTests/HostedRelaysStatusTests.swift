import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// Issue 18's hosted relays as the operator watches them: `/status.json`, the status page
/// and `/metrics` of the real `martlet serve` say how many relays are hosted, how many are
/// open, and each open one's connections and subscriptions.
@Suite("Hosted relays on the status page and /metrics")
struct HostedRelaysStatusTests {
    @Test("two hosted relays, one open with a connection: the counts and its figures in status.json, /metrics and the page")
    func hostedFigures() async throws {
        try await withTemporaryFolder("martlet-hosted-status") { data in
            // Creating a relay opens it (its creation event goes through its pipeline); an
            // idle_close of one second closes both again before the one under test is used.
            let server = try await RelayProcess.start(data: data, environment: ["MARTLET_HOSTED_IDLE_CLOSE": "1"])
            defer { Task { await server.stop(signal: SIGTERM) } }
            var keys: [String] = []
            for name in ["used", "quiet"] {
                keys.append(try await HostedNode.createRelay(name, port: server.port, data: data))
            }
            try await HostedNode.waitUntil("both new relays are closed as idle") {
                try await hosted(port: server.port)?["open"] as? Int == 0
            }

            let client = try await NostrTestClient.connect(url: "ws://127.0.0.1:\(server.port)/\(keys[0])")
            try await client.request("live", #"{"kinds":[1]}"#)
            _ = try await client.eventsUntilEOSE("live")

            let status = try #require(try await hosted(port: server.port))
            #expect(status["relays"] as? Int == 2)
            #expect(status["open"] as? Int == 1)
            let open = try #require(status["open_relays"] as? [[String: Any]])
            #expect(open.count == 1)
            #expect(open.first?["key"] as? String == keys[0])
            #expect(open.first?["name"] as? String == "used")
            #expect(open.first?["connections"] as? Int == 1)
            #expect(open.first?["subscriptions"] as? Int == 1)

            let metrics = try await HostedNode.get(port: server.port, path: "/metrics").body
            func value(_ name: String) -> Double? { Metrics.value(of: name, in: metrics) }
            #expect(value("martlet_hosted_relays") == 2)
            #expect(value("martlet_hosted_relays_open") == 1)
            #expect(value(#"martlet_hosted_relay_connections{relay="\#(keys[0])"}"#) == 1)
            #expect(value(#"martlet_hosted_relay_subscriptions{relay="\#(keys[0])"}"#) == 1)
            // A closed relay has no series; the default relay's own figures are its own.
            #expect(!metrics.contains(keys[1]))
            #expect(value("martlet_connections") == 0)
            #expect(metrics.contains("# TYPE martlet_hosted_relays_open gauge"))

            if let chromium = Chromium.path {
                let dom = try await Chromium.run(
                    chromium, ["--virtual-time-budget=5000", "--dump-dom", "http://127.0.0.1:\(server.port)/"])
                #expect(Chromium.text(ofID: "hostedCounts", in: dom) == "2 hosted 1 open now")
                #expect(dom.contains("data-key=\"\(keys[0])\""), "the open relay is listed")
                #expect(!dom.contains("data-key=\"\(keys[1])\""), "the closed one is not")
            }
            await client.close()
            try await HostedNode.waitUntil("the relay closes again once unused") {
                try await hosted(port: server.port)?["open"] as? Int == 0
            }
            let after = try await HostedNode.get(port: server.port, path: "/metrics").body
            #expect(!after.contains(keys[0]), "the closed relay's series went with it")
        }
    }

    /// The `hosted` object of `/status.json`.
    private func hosted(port: Int) async throws -> [String: Any]? {
        let response = try await HostedNode.get(port: port, path: "/status.json")
        let status = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return status?["hosted"] as? [String: Any]
    }
}
