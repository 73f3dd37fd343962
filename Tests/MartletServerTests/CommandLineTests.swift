import Foundation
import MartletServer
import MartletTestSupport
import NostrCore
import Testing

/// The command line as a new operator meets it: mistakes in the configuration stop the
/// relay with one line naming the key and where it was written, `martlet admin` speaks
/// NIP-86 for them, and `--version` says what NIP-11 says.
@Suite("Command line")
struct CommandLineTests {
    /// A bad configuration, where it is written, and words the refusal must contain.
    struct BadConfiguration: Sendable, CustomStringConvertible {
        var name: String
        var yaml: String = ""
        var environment: [String: String] = [:]
        var flags: [String] = []
        var expected: [String]
        var description: String { name }
    }

    static let badConfigurations: [BadConfiguration] = [
        .init(
            name: "a misspelled key", yaml: "limits:\n  max_subscriptons: 5\n",
            expected: ["martlet.yaml:2", "limits.max_subscriptons", "unknown key", "did you mean limits.max_subscriptions"]),
        .init(
            name: "a misspelled key in a section", yaml: "relay:\n  nmae: typo\n",
            expected: ["martlet.yaml:2", "relay.nmae", "did you mean relay.name"]),
        .init(
            name: "a negative limit", yaml: "limits:\n  max_subscriptions: -5\n",
            expected: ["martlet.yaml:2", "limits.max_subscriptions", "-5 is out of range", "from 1 up"]),
        .init(
            name: "a value of the wrong type", yaml: "limits:\n  max_filters: many\n",
            expected: ["limits.max_filters", "\"many\" is not allowed", "a whole number"]),
        .init(
            name: "a port out of range in the environment", environment: ["MARTLET_SERVER_PORT": "99999"],
            expected: ["MARTLET_SERVER_PORT", "server.port", "99999 is out of range", "from 0 to 65535"]),
        .init(
            name: "a port out of range on the command line", flags: ["--port", "99999"],
            expected: ["--port", "99999 is out of range"]),
        .init(
            name: "a malformed pubkey", yaml: "management:\n  admin_pubkeys: [nothex]\n",
            expected: ["management.admin_pubkeys", "\"nothex\"", "public keys"]),
        .init(
            name: "a relay URL that is not a WebSocket URL", yaml: "relay:\n  url: https://relay.example.com\n",
            expected: ["relay.url", "ws:// or wss://"]),
        .init(
            name: "a CIDR range with too long a prefix", yaml: "access:\n  blocked_ips: [\"10.0.0.0/33\"]\n",
            expected: ["access.blocked_ips", "10.0.0.0/33", "CIDR"]),
        .init(
            name: "a misspelled environment variable", environment: ["MARTLET_LIMITS_MAX_SUBSCRIPTONS": "5"],
            expected: ["MARTLET_LIMITS_MAX_SUBSCRIPTONS", "did you mean MARTLET_LIMITS_MAX_SUBSCRIPTIONS"]),
        .init(
            name: "an unknown access mode", environment: ["MARTLET_ACCESS_MODE": "secret"],
            expected: ["access.mode", "one of open, allowlist-writes, private"]),
        .init(
            name: "discovery without the URL to announce", yaml: "discovery:\n  enabled: true\n",
            expected: ["discovery.enabled needs relay.url"]),
        .init(
            name: "a DHT bootstrap node without a port", environment: ["MARTLET_DISCOVERY_BOOTSTRAP": "127.0.0.1:6881, router.example"],
            expected: ["discovery.bootstrap", "\"router.example\"", "host:port"]),
        .init(
            name: "a relay secret key that is not one", yaml: "relay:\n  secret_key: nsec1notakey\n",
            expected: ["relay.secret_key", "nsec1"]),
        .init(
            name: "a negative event cache", environment: ["MARTLET_STORAGE_EVENT_CACHE_MIB": "-1"],
            expected: ["storage.event_cache_mib", "-1 is out of range"]),
    ]

    @Test("martlet serve refuses each class of bad configuration with one line naming the key", arguments: badConfigurations)
    func badConfigurationStopsServe(bad: BadConfiguration) async throws {
        try await withConfigurationFile(bad.yaml) { file, folder in
            let run = try await MartletCommand.run(
                ["serve", "--config", file.path, "--port", "0", "--data", folder.appendingPathComponent("data").path]
                    + bad.flags,
                environment: bad.environment)
            #expect(run.status != 0)
            for words in bad.expected {
                #expect(run.errors.contains(words), "\(words) in: \(run.errors)")
            }
            let check = try await MartletCommand.run(["config", "check", "--config", file.path], environment: bad.environment)
            if bad.flags.isEmpty { #expect(check.status != 0, "config check finds it too") }
        }
    }

    /// The server fails to listen after the services beside it started: they must end when
    /// the service group cancels them. A hosted relays' loop that watched only for a graceful
    /// shutdown spun on its cancelled sleep instead, and the process ran on at full CPU.
    @Test("martlet serve on a port another process listens on ends at once, non-zero, saying why")
    func portInUse() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await RelayProcess.start(data: folder.appendingPathComponent("first"))
        let second = try await MartletCommand.run(
            ["serve", "--host", "127.0.0.1", "--port", "\(first.port)", "--data", folder.appendingPathComponent("second").path],
            timeout: .seconds(30))
        #expect(second.status != 0)
        #expect(second.errors.contains("Address already in use"), "\(second.errors)")
        _ = await first.stop(signal: SIGTERM)
    }

    @Test("martlet config check passes a good file; config show names where each value came from")
    func configCheckAndShow() async throws {
        let admin = Author().pubkey
        let yaml = """
            limits:
              max_subscriptions: 7
            management:
              admin_pubkeys: [\(admin.npub)]
            access:
              blocked_ips: ["::ffff:10.1.2.3", "2001:db8::/32"]
            """
        try await withConfigurationFile(yaml) { file, _ in
            let environment = ["MARTLET_LIMITS_MAX_FILTERS": "4"]
            let check = try await MartletCommand.run(["config", "check", "--config", file.path], environment: environment)
            #expect(check.status == 0, "\(check.errors)")
            let show = try await MartletCommand.run(["config", "show", "--config", file.path], environment: environment)
            #expect(show.status == 0)
            let lines = show.output.split(separator: "\n").map(String.init)
            func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + " ") } ?? "" }
            #expect(line("limits.max_subscriptions").contains("7") && line("limits.max_subscriptions").contains("martlet.yaml:2"))
            #expect(line("limits.max_filters").contains("4") && line("limits.max_filters").contains("MARTLET_LIMITS_MAX_FILTERS"))
            #expect(line("limits.max_limit").contains("500") && line("limits.max_limit").contains("(default)"))
            #expect(line("management.admin_pubkeys").contains(admin.hex), "an npub is read as the key it is")
            #expect(line("access.blocked_ips").contains("10.1.2.3") && line("access.blocked_ips").contains("2001:db8::/32"))
        }
    }

    @Test("martlet --version prints the version NIP-11 serves")
    func version() async throws {
        let run = try await MartletCommand.run(["--version"])
        #expect(run.status == 0)
        #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == RelayInformationDocument.version)
    }

    @Test("martlet admin bans and unbans a pubkey on a running relay; a key that is not an admin's is refused")
    func adminBansAndUnbans() async throws {
        let secret = String((0..<64).map { _ in "0123456789abcdef".randomElement()! })
        let adminKey = try #require(SecretKey(hex: secret))
        let nsec = Bech32.encode(prefix: "nsec", bytes: Array(try #require(Bytes32(hex: secret)).bytes))
        let strangerSecret = String((0..<64).map { _ in "0123456789abcdef".randomElement()! })
        let target = Author()
        try await withTemporaryFolder("martlet-admin") { folder in
            let relay = try await RelayProcess.start(
                data: folder, environment: ["MARTLET_MANAGEMENT_ADMIN_PUBKEYS": adminKey.publicKey.hex])
            do {
                let url = "ws://127.0.0.1:\(relay.port)"
                let ban = try await MartletCommand.run(["admin", "banpubkey", target.pubkey.hex, "spam", "--url", url, "--key", nsec])
                #expect(ban.status == 0, "\(ban.errors)")
                #expect(ban.output.contains("ok"))
                let listed = try await MartletCommand.run(
                    ["admin", "listbannedpubkeys", "--url", url, "--key", "env:ADMIN_SECRET"], environment: ["ADMIN_SECRET": secret])
                #expect(listed.output.contains(target.pubkey.hex) && listed.output.contains("spam"), "\(listed.output)")
                let client = try await relay.connect()
                #expect(try await client.refusal(of: target.event(content: "banned"))?.hasPrefix("blocked:") == true)

                let notAdmin = try await MartletCommand.run(
                    ["admin", "unbanpubkey", target.pubkey.hex, "--url", url, "--key", strangerSecret])
                #expect(notAdmin.status != 0)
                #expect(notAdmin.errors.contains("401") && notAdmin.errors.contains("not an admin"), "\(notAdmin.errors)")

                let unban = try await MartletCommand.run(
                    ["admin", "unbanpubkey", target.pubkey.hex, "--url", url, "--key", secret, "--json"])
                #expect(unban.status == 0)
                #expect(unban.output.contains(#""result":true"#), "\(unban.output)")
                #expect(try await client.publishAndWait(target.event(content: "welcome back")).accepted)
                await client.close()
            } catch {
                await relay.stop(signal: SIGTERM)
                throw error
            }
            await relay.stop(signal: SIGTERM)
        }
    }
}
