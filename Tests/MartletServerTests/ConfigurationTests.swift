import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `martlet serve` reads martlet.yaml, and every key can be overridden from the environment.
@Suite("Configuration file and environment")
struct ConfigurationTests {
    @Test("settings come from the YAML file, and MARTLET_-prefixed environment variables override them")
    func yamlAndEnvironment() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("martlet.yaml")
        try """
            relay:
              name: From YAML
            limits:
              max_subscriptions: 7
              max_filters: 3
            access:
              min_pow_difficulty: 4
            """.write(to: file, atomically: true, encoding: .utf8)
        let relay = try await RelayProcess.start(
            data: folder.appendingPathComponent("data"), arguments: ["--config", file.path],
            environment: ["MARTLET_LIMITS_MAX_FILTERS": "5", "MARTLET_RELAY_DESCRIPTION": "From the environment"])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let response = try await HTTPGet.run(request)
        let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let limitation = try #require(document["limitation"] as? [String: Any])
        #expect(document["name"] as? String == "From YAML")
        #expect(document["description"] as? String == "From the environment")
        #expect(limitation["max_subscriptions"] as? Int == 7)
        #expect(limitation["max_filters"] as? Int == 5)
        #expect(limitation["min_pow_difficulty"] as? Int == 4)
        #expect(await relay.stop(signal: SIGTERM) == 0)
    }
}
