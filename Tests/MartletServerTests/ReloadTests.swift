import Foundation
import Glibc
import MartletTestSupport
import NostrCore
import Testing

/// SIGHUP re-reads martlet.yaml's lists, limits and NIP-11 fields; the connections stay.
@Suite("Reloading the configuration on SIGHUP")
struct ReloadTests {
    @Test("after SIGHUP an open connection meets the new ban and the new limit; a broken file changes nothing")
    func reloadKeepsConnections() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("martlet.yaml")
        let errors = folder.appendingPathComponent("stderr")
        let spammer = Author()
        try "relay:\n  name: Before\n".write(to: config, atomically: true, encoding: .utf8)
        let relay = try await RelayProcess.start(
            data: folder.appendingPathComponent("data"), arguments: ["--config", config.path],
            environment: ["MARTLET_LOG_LEVEL": "notice"], errors: errors)

        let client = try await relay.connect()
        let first = try await client.publishAndWait(spammer.event(content: "before the ban"))
        #expect(first.accepted, "\(first)")
        try await client.request("two", #"{"kinds":[1]}"#, #"{"kinds":[7]}"#)
        #expect(try await client.next().type == "EVENT")
        #expect(try await client.next().type == "EOSE")

        let reloaded = """
            relay:
              name: After
            access:
              banned_pubkeys: [\(spammer.pubkey.hex)]
            limits:
              max_filters: 1
            """
        try reloaded.write(to: config, atomically: true, encoding: .utf8)
        kill(relay.process.processIdentifier, SIGHUP)
        #expect(
            await waitUntil { (try? await relay.informationDocument()["name"] as? String) == "After" },
            "NIP-11 shows the new name")

        // The same connection, still open, under the new rules.
        let second = try await client.publishAndWait(spammer.event(content: "after the ban"))
        #expect(!second.accepted && second.message.hasPrefix("blocked:"), "\(second)")
        try await client.request("again", #"{"kinds":[1]}"#, #"{"kinds":[7]}"#)
        let refused = try await client.next()
        #expect(refused.type == "CLOSED" && refused.string(2)?.hasPrefix("invalid: too many filters") == true, "\(refused)")
        let document = try await relay.informationDocument()
        let limitation = try #require(document["limitation"] as? [String: Any])
        #expect(limitation["max_filters"] as? Int == 1)

        // A file that no longer reads: logged, and the running configuration stays.
        try "limits:\n  max_filters: lots\n".write(to: config, atomically: true, encoding: .utf8)
        kill(relay.process.processIdentifier, SIGHUP)
        #expect(
            await waitUntil {
                ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").contains("configuration not reloaded")
            }, "the failure is logged")
        #expect(try await relay.informationDocument()["name"] as? String == "After")
        let third = try await client.publishAndWait(spammer.event(content: "still banned"))
        #expect(!third.accepted, "\(third)")
        await client.close()
        #expect(await relay.stop(signal: SIGTERM) == 0)
    }
}
