import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletRelay
import NostrCore
import MartletTestSupport
import Testing

/// NIP-11 as configured: every field of the document comes from the configuration the relay
/// was started with, and `supported_nips` lists only what is on.
@Suite("NIP-11 from the configuration")
struct NIP11ConfigurationTests {
    /// The `relay` section as written in martlet.yaml, each key named as NIP-11 names it.
    static let texts: [(key: String, value: String)] = [
        ("name", "Configured"),
        ("description", "Every field from martlet.yaml."),
        ("contact", "mailto:ops@example.com"),
        ("icon", "https://example.com/icon.png"),
        ("banner", "https://example.com/banner.png"),
        ("privacy_policy", "https://example.com/privacy.txt"),
        ("terms_of_service", "https://example.com/terms.txt"),
        ("posting_policy", "https://example.com/posting.html"),
        ("payments_url", "https://example.com/pay"),
        ("software", "https://example.com/fork"),
        ("version", "9.9.9-test"),
    ]
    static let lists: [(key: String, value: [String])] = [
        ("relay_countries", ["CA", "US"]),
        ("language_tags", ["en", "en-419"]),
        ("tags", ["sfw-only", "bitcoin-only"]),
    ]
    /// 11.md's own examples of the structured fields.
    static let fees = #"{"admission":[{"amount":1000000,"unit":"msats"}],"subscription":[{"amount":5000000,"unit":"msats","period":2592000}],"publication":[{"kinds":[4],"amount":100,"unit":"msats"}]}"#
    static let retention = #"[{"kinds":[0,1,[5,7],[40,49]],"time":3600},{"kinds":[[40000,49999]],"time":100},{"kinds":[[30000,39999]],"count":1000},{"time":3600,"count":10000}]"#
    static let limits: [(key: String, value: Int)] = [
        ("max_message_length", 100_000), ("max_subscriptions", 12), ("max_filters", 4), ("max_limit", 300),
        ("default_limit", 100), ("max_subid_length", 40), ("max_event_tags", 500), ("max_content_length", 9_000),
        ("created_at_lower_limit", 31_536_000), ("created_at_upper_limit", 60),
    ]

    /// A YAML double-quoted scalar (JSON's string syntax is YAML's).
    static func yaml(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    @Test("the document served is the configuration martlet serve was started with, field by field")
    func documentIsTheConfiguration() async throws {
        let admin = Author()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-nip11-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var lines = ["relay:"]
        lines += Self.texts.map { "  \($0.key): \(Self.yaml($0.value))" }
        lines += Self.lists.map { "  \($0.key): [" + $0.value.map(Self.yaml).joined(separator: ", ") + "]" }
        lines += [
            "  pubkey: \(admin.pubkey.npub)",  // NIP-11 serves hex
            "  payment_required: true",
            "  fees: \(Self.yaml(Self.fees))",
            "  retention: \(Self.yaml(Self.retention))",
            "limits:",
        ]
        lines += Self.limits.map { "  \($0.key): \($0.value)" }
        lines += ["access:", "  min_pow_difficulty: 3"]
        let file = folder.appendingPathComponent("martlet.yaml")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)

        let relay = try await RelayProcess.start(
            data: folder.appendingPathComponent("data"), arguments: ["--config", file.path])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let document = try #require(try JSONSerialization.jsonObject(with: try await HTTPGet.run(request).body) as? [String: Any])
        #expect(await relay.stop(signal: SIGTERM) == 0)

        for (key, value) in Self.texts { #expect(document[key] as? String == value, "\(key)") }
        for (key, value) in Self.lists { #expect(document[key] as? [String] == value, "\(key)") }
        #expect(document["pubkey"] as? String == admin.pubkey.hex)
        #expect(document["fees"] as? NSDictionary == (try JSONSerialization.jsonObject(with: Data(Self.fees.utf8)) as? NSDictionary))
        #expect(document["retention"] as? NSArray == (try JSONSerialization.jsonObject(with: Data(Self.retention.utf8)) as? NSArray))
        let limitation = try #require(document["limitation"] as? [String: Any])
        for (key, value) in Self.limits {
            #expect(limitation[key] as? Int == value, "limitation.\(key)")
        }
        #expect(limitation["min_pow_difficulty"] as? Int == 3)
        #expect(limitation["payment_required"] as? Bool == true)
        // 11.md: restricted_writes covers "payment_required and min_pow_difficulty".
        #expect(limitation["restricted_writes"] as? Bool == true)
        #expect(limitation["auth_required"] as? Bool == false)
        // The defaults: NIP-77 on, gift wraps private, search on, no admin; PoW now checked.
        #expect(document["supported_nips"] as? [Int] == [1, 9, 11, 13, 17, 40, 42, 45, 50, 59, 62, 70, 77, 90])
    }

    @Test("supported_nips leaves out 77 without NIP-77 sessions, 86 without admins, 50 without search, 17 and 59 without private gift wraps")
    func supportedNIPsFollowWhatIsOn() async throws {
        try await TestRelay.with(configure: {
            $0.negentropy.maxSessionsPerConnection = 0
            $0.search.enabled = false
            $0.access.privateKinds = []
        }) { relay in
            let (_, _, body) = try await relay.httpGet(headers: ["Accept": "application/nostr+json"])
            let document = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(document["supported_nips"] as? [Int] == [1, 9, 11, 40, 42, 45, 62, 70, 90])
            let client = try await relay.connect()
            try await client.request("s", #"{"search":"nostr"}"#)
            let closed = try await client.next()
            #expect(closed.type == "CLOSED" && closed.string(2)?.hasPrefix("unsupported:") == true, "\(closed)")
            await client.close()
        }
        let admin = Author()
        try await TestRelay.with(configure: { $0.management.adminPubkeys = [admin.pubkey] }) { relay in
            let (_, _, body) = try await relay.httpGet(headers: ["Accept": "application/nostr+json"])
            let document = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect((document["supported_nips"] as? [Int])?.contains(86) == true)
        }
    }

    @Test("martlet serve refuses fees and retention that are not NIP-11's JSON, naming the key")
    func malformedStructuredFields() async throws {
        let malformed = [
            ("MARTLET_RELAY_FEES", #"{"admission":[{"amount":"lots"}]}"#),
            ("MARTLET_RELAY_RETENTION", #"[{"kinds":[[9,1]]}]"#),
            ("MARTLET_RELAY_PUBKEY", "npub1notakey"),
        ]
        for (key, value) in malformed {
            let run = try await MartletCommand.run(["config", "check"], environment: [key: value])
            #expect(run.status != 0, "\(key)")
            #expect((run.output + run.errors).contains(key), "\(run.output) \(run.errors)")
        }
    }
}
