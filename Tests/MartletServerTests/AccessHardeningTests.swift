import Foundation
import MartletRelay
import MartletServer
import MartletTestSupport
import NIOWebSocket
import NostrCore
import Testing

/// Attacks on who-may-do-what, each found against a real relay and closed here: AUTH and
/// NIP-98 bound to the operator's URLs, revocations that reach open subscriptions, address
/// blocks that hold on dual-stack listeners and for ranges, and operator pages that do not
/// leak what a private relay hides.
@Suite("Access hardening")
struct AccessHardeningTests {
    // MARK: NIP-42 relay tag

    @Test("NIP-42: an AUTH naming the Host the client chose is refused; one naming the relay's own URL is accepted")
    func authRelayTagIgnoresHostHeader() async throws {
        try await TestRelay.with(configure: { $0.access.mode = .privateRelay }) { relay in
            // A hostile relay at evil.example.com relays this connection's challenge to its own
            // visitor and replays the visitor's AUTH here, on a connection it opened with its
            // own name as Host.
            let attacker = try await RawConnection.webSocket(port: relay.port, host: "evil.example.com")
            let (challengeFrame, index) = try await attacker.nextFrame()
            let challenge = try #require(
                (try JSONSerialization.jsonObject(with: Data(challengeFrame.payload)) as? [Any])?.last as? String)
            #expect(challengeFrame.text.hasPrefix(#"["AUTH""#))
            let victim = Author()
            let replayed = victim.authEvent(challenge: challenge, relayURL: "wss://evil.example.com")
            try await attacker.sendFrame(opcode: .text, payload: Array((#"["AUTH","# + replayed.jsonString + "]").utf8))
            let answer = try await attacker.nextFrame(from: index + 1).frame.text
            #expect(answer.contains("false") && answer.contains("invalid:"), "\(answer)")
            await attacker.close()

            // "URL normalization techniques can be applied": the relay's loopback URL under
            // another scheme or spelling still names it.
            let client = try await relay.connect()
            let ownChallenge = try await client.challenge()
            let localhost = "wss://LOCALHOST:\(relay.port)/"
            #expect(try await client.authenticate(as: victim, challenge: ownChallenge, relayURL: localhost).accepted)
            let otherPort = "ws://127.0.0.1:\(relay.port + 1)/"
            let answerOther = try await client.authenticate(as: victim, challenge: ownChallenge, relayURL: otherPort)
            #expect(!answerOther.accepted && answerOther.message.hasPrefix("invalid:"))
            await client.close()
        }
    }

    @Test("NIP-42: with relay.url configured, only it (and its alternates) may be named")
    func authRelayTagConfigured() async throws {
        try await TestRelay.with(configure: {
            $0.info.url = "wss://relay.example.com"
            $0.info.alternateURLs = ["ws://relayabc.onion"]
        }) { relay in
            let alice = Author()
            for (url, accepted) in [
                (relay.url, false), ("wss://relay.example.com/", true), ("ws://relayabc.onion", true),
                ("wss://relay.example.com.evil.com", false),
            ] {
                let client = try await relay.connect()
                try await client.publish(alice.event(tags: [["-"]]))
                let challenge = try await client.challenge()
                let answer = try await client.authenticate(as: alice, challenge: challenge, relayURL: url)
                #expect(answer.accepted == accepted, "\(url): \(answer.message)")
                await client.close()
            }
        }
    }

    @Test("martlet serve refuses access.mode private without relay.url, naming the key")
    func privateModeNeedsURL() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let process = Process()
        process.executableURL = RelayProcess.binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data", data.path]
        var environment = ProcessInfo.processInfo.environment
        environment["MARTLET_ACCESS_MODE"] = "private"
        environment.removeValue(forKey: "MARTLET_RELAY_URL")
        process.environment = environment
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try await spawn(process)
        // A relay that starts anyway runs until stopped: wait for the exit, not for ever.
        await waitUntil(timeout: .seconds(60)) { !process.isRunning }
        if process.isRunning {
            process.terminate()
            Issue.record("martlet serve started in private mode without relay.url")
            return
        }
        let message = try String(contentsOf: errors, encoding: .utf8)
        #expect(process.terminationStatus != 0)
        #expect(message.contains("relay.url"), "\(message)")
    }

    // MARK: NIP-98

    @Test("NIP-98: a management call signed for the URL the request reached is refused when relay.url is set")
    func managementURLIsTheConfiguredOne() async throws {
        let admin = Author()
        try await TestRelay.with(configure: {
            $0.info.url = "wss://relay.example.com"
            $0.management.adminPubkeys = [admin.pubkey]
        }) { relay in
            // Signed for http://127.0.0.1:<port>/: the address this request reached, chosen by
            // whoever sent it, and so no proof the admin meant this relay.
            let reached = try await relay.manage("supportedmethods", as: admin)
            #expect(reached.status == 401)
            let body = Array(#"{"method":"supportedmethods","params":[]}"#.utf8)
            let header = HTTPAuthorization.header(
                signedBy: admin.secret, url: "https://relay.example.com/", method: "POST", body: body)
            let configured = try await relay.http(
                "POST", headers: ["Content-Type": "application/nostr+json+rpc", "Authorization": header],
                body: Data(body))
            #expect(configured.status == 200)
        }
    }

    @Test("NIP-98: an authorization event is accepted once; a replay within its minute is refused")
    func managementReplay() async throws {
        let admin = Author()
        try await TestRelay.with(configure: { $0.management.adminPubkeys = [admin.pubkey] }) { relay in
            let body = Array(#"{"method":"banpubkey","params":["\#(Author().pubkey.hex)"]}"#.utf8)
            let header = HTTPAuthorization.header(signedBy: admin.secret, url: relay.httpURL, method: "POST", body: body)
            let headers = ["Content-Type": "application/nostr+json+rpc", "Authorization": header]
            #expect(try await relay.http("POST", headers: headers, body: Data(body)).status == 200)
            let replay = try await relay.http("POST", headers: headers, body: Data(body))
            #expect(replay.status == 401)
            #expect(String(decoding: replay.body, as: UTF8.self).contains("used before"))
        }
    }

    @Test("NIP-98: the same call signed twice in one second (one event id, two signatures) is answered twice")
    func managementSameCallTwice() async throws {
        let admin = Author()
        try await TestRelay.with(configure: { $0.management.adminPubkeys = [admin.pubkey] }) { relay throws in
            let body = Array(#"{"method":"listbannedpubkeys","params":[]}"#.utf8)
            let second = Duration.secondsSinceEpoch
            for _ in 0..<2 {
                let header = HTTPAuthorization.header(
                    signedBy: admin.secret, url: relay.httpURL, method: "POST", body: body, createdAt: second)
                let headers = ["Content-Type": "application/nostr+json+rpc", "Authorization": header]
                #expect(try await relay.http("POST", headers: headers, body: Data(body)).status == 200)
            }
        }
    }

    // MARK: Revocation

    @Test("unallowpubkey on a private relay ends a member's open subscription with CLOSED restricted:")
    func unallowReachesOpenSubscriptions() async throws {
        let alice = Author()
        let bob = Author()
        try await TestRelay.with(configure: {
            $0.access.mode = .privateRelay
            $0.access.allowedPubkeys = [alice.pubkey, bob.pubkey]
        }) { relay in
            let reader = try await relay.connect()
            let challenge = try await reader.challenge()
            #expect(try await reader.authenticate(as: alice, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await reader.query("live", #"{"kinds":[1]}"#).isEmpty)

            try await RelayAdministration(relay: relay.relay).disallow(alice.pubkey)
            let writer = try await relay.connect()
            let writerChallenge = try await writer.challenge()
            #expect(try await writer.authenticate(as: bob, challenge: writerChallenge, relayURL: relay.url).accepted)
            let secret = bob.event(content: "for members only")
            #expect(try await writer.publishAndWait(secret).accepted)

            #expect(try await reader.closedReason("live").hasPrefix("restricted:"))
            #expect(try await reader.silence() == nil, "nothing else arrives, the note least of all")
            await reader.close()
            await writer.close()
        }
    }

    @Test("blockip ends an open subscription with CLOSED blocked: before the next event reaches it")
    func blockReachesOpenSubscriptions() async throws {
        try await TestRelay.with { relay in
            let reader = try await relay.connect()
            #expect(try await reader.query("live", #"{"kinds":[1]}"#).isEmpty)
            try await RelayAdministration(relay: relay.relay).block(ip: "127.0.0.0/8", reason: "abuse")
            let note = Author().event(content: "after the block")
            // From a mesh peer: the pipeline without a client address, which the block spares.
            guard await relay.relay.ingest(note, origin: .peer("wss://peer.example.com")) == .accepted else {
                Issue.record("the note was not accepted")
                return
            }
            #expect(try await reader.closedReason("live").hasPrefix("blocked:"))
            #expect(try await reader.silence() == nil)
            await reader.close()
        }
    }

    // MARK: Blocked addresses

    @Test("blockip holds for IPv4 clients of a dual-stack listener, by address and by CIDR range")
    func blockOnDualStack() async throws {
        let admin = Author()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let running = try await RunningRelay.start(
            host: "::", configure: { $0.management.adminPubkeys = [admin.pubkey] }, directory: directory)
        do {
            let relay = running.testRelay
            // The listener sees this client as ::ffff:127.0.0.1.
            let client = try await relay.connect()
            #expect(try await relay.manage("blockip", ["127.0.0.1"], as: admin).succeeded)
            #expect(try await client.refusal(of: Author().event())?.hasPrefix("blocked:") == true)
            await client.close()
            await #expect(throws: (any Error).self) { try await relay.connect().query("s", "{}") }

            #expect(try await relay.manage("unblockip", ["::ffff:127.0.0.1"], as: admin).succeeded)
            #expect(try await relay.connect().publishAndWait(Author().event()).accepted)
            #expect(try await relay.manage("blockip", ["127.0.0.0/8"], as: admin).succeeded)
            let listed = try await relay.manage("listblockedips", as: admin).result as? [[String: String]]
            #expect(listed?.map { $0["ip"] } == ["127.0.0.0/8"])
            await #expect(throws: (any Error).self) { try await relay.connect().query("s", "{}") }
        } catch {
            try? await running.stop()
            throw error
        }
        try await running.stop()
    }

    @Test("IP addresses and CIDR ranges are read in any spelling and matched by their bytes")
    func ipRanges() throws {
        #expect(IPAddress.canonical("::ffff:127.0.0.1") == "127.0.0.1")
        #expect(IPAddress.canonical("2001:DB8::0001") == "2001:db8::1")
        #expect(IPRange("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(IPRange("::ffff:10.0.0.0/104")?.description == "10.0.0.0/8")
        #expect(IPRange("2001:db8:ffff::/32")?.description == "2001:db8::/32")
        #expect(IPRange("::1")?.description == "::1")
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "host.example.com", "10.0.0.0/8/8"] {
            #expect(IPRange(bad) == nil, "\(bad)")
        }
        let range = try #require(IPRange("2001:db8::/32"))
        #expect(range.contains(IPAddress.bytes("2001:db8:1234::1")!))
        #expect(!range.contains(IPAddress.bytes("2001:db9::1")!))
        #expect(!range.contains(IPAddress.bytes("10.0.0.1")!))
        var configuration = RelayConfiguration.Access()
        configuration.blockedIPs = ["::ffff:192.0.2.1", "198.51.100.0/24"]
        let lists = AccessLists(configuration)
        #expect(lists.isBlocked(ip: "192.0.2.1") && lists.isBlocked(ip: "::ffff:198.51.100.77"))
        #expect(!lists.isBlocked(ip: "198.51.101.1"))
        #expect(lists.snapshot.blockedIPs == ["192.0.2.1", "198.51.100.0/24"])
    }

    // MARK: Operator pages

    @Test("status.json lists no count for a private kind")
    func statusHidesPrivateKindCounts() async throws {
        try await TestRelay.with { relay in
            let client = try await relay.connect()
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", Author().pubkey.hex]])
            #expect(try await client.publishAndWait(wrap).accepted)
            #expect(try await client.publishAndWait(Author().event(content: "public")).accepted)
            let body = try await relay.http(path: "status.json").body
            let status = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let kinds = (status["store"] as? [String: Any])?["top_kinds"] as? [[String: Int]]
            #expect(kinds == [["kind": 1, "count": 1]])
            await client.close()
        }
    }

    @Test("with status_access admin the status page, status.json and metrics need a fresh NIP-98 from an admin; NIP-11 stays open")
    func statusForAdminsOnly() async throws {
        let admin = Author()
        try await TestRelay.with(configure: {
            $0.access.mode = .privateRelay
            $0.statusAccess = .admin
            $0.management.adminPubkeys = [admin.pubkey]
        }) { relay in
            for path in ["", "status.json", "metrics"] {
                #expect(try await relay.http(path: path).status == 401, "/\(path) without authorization")
                let stranger = HTTPAuthorization.header(signedBy: Author().secret, url: relay.httpURL + path, method: "GET")
                #expect(try await relay.http(path: path, headers: ["Authorization": stranger]).status == 401)
                let header = HTTPAuthorization.header(signedBy: admin.secret, url: relay.httpURL + path, method: "GET")
                #expect(try await relay.http(path: path, headers: ["Authorization": header]).status == 200, "/\(path)")
                #expect(try await relay.http(path: path, headers: ["Authorization": header]).status == 401, "replayed")
            }
            let information = try await relay.http(headers: ["Accept": "application/nostr+json"])
            #expect(information.status == 200)
        }
    }

    @Test("a private relay shows its status to loopback peers by default")
    func statusLoopbackDefault() async throws {
        try await TestRelay.with(configure: { $0.access.mode = .privateRelay }) { relay in
            #expect(relay.relay.configuration.effectiveStatusAccess == .loopback)
            let status = try await relay.http(path: "status.json").status
            #expect(status == 200)
        }
        #expect(RelayConfiguration().effectiveStatusAccess == .public)
    }
}
