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
        let yaml = """
            relay:
              name: From YAML
            limits:
              max_subscriptions: 7
              max_filters: 3
            access:
              min_pow_difficulty: 4
            """
        try await withConfigurationFile(yaml) { file, folder in
            let relay = try await RelayProcess.start(
                data: folder.appendingPathComponent("data"), arguments: ["--config", file.path],
                environment: ["MARTLET_LIMITS_MAX_FILTERS": "5", "MARTLET_RELAY_DESCRIPTION": "From the environment"])
            let document = try await relay.informationDocument()
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(document["name"] as? String == "From YAML")
            #expect(document["description"] as? String == "From the environment")
            #expect(limitation["max_subscriptions"] as? Int == 7)
            #expect(limitation["max_filters"] as? Int == 5)
            #expect(limitation["min_pow_difficulty"] as? Int == 4)
            #expect(await relay.stop(signal: SIGTERM) == 0)
        }
    }
}
