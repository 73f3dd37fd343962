import Foundation
import MartletAxon
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// The axon profile end to end (docs/axon.md), through the reference Python client on a
/// real relay: the seed's handshake, publish and subscribe over the one pipeline and store,
/// its limits and codes, and the ping rule.
///
/// The seed (shared/seeds/000): "On connect: relay sends `Challenge { nonce: 32 random
/// bytes }`. Client responds: `Auth { pubkey, sig }` where `sig = ed25519.Sign(privkey,
/// SHA256(nonce || relay_url))`. Relay verifies sig, checks pubkey against allowlist,
/// responds `Ok` or `Error { 401 }` + close. All subsequent messages rejected until auth
/// completes."
@Suite("axon profile", .serialized)
struct AxonTests {
    /// The allowlisted ed25519 secret and one that is not on the list.
    static let member = [UInt8](repeating: 0x11, count: 32)
    static let stranger = [UInt8](repeating: 0x22, count: 32)

    static func withAxonRelay(
        pingInterval: Duration = .seconds(30), configure: @escaping (inout RelayConfiguration) -> Void = { _ in },
        _ body: (TestRelay) async throws -> Void
    ) async throws {
        try await TestRelay.with(
            configure: { configuration in
                configuration.axon.enabled = true
                configuration.axon.allowlist = [try! AxonAuthentication.publicKey(of: member)]
                configure(&configuration)
            }, pingInterval: pingInterval, body)
    }

    static func relayURL(_ relay: TestRelay) -> String { "ws://127.0.0.1:\(relay.port)" }

    /// A client that has passed the handshake.
    static func authenticated(_ relay: TestRelay) async throws -> AxonPythonClient {
        let client = try await AxonPythonClient.connect(port: relay.port)
        client.send(["op": "auth", "key": Hex.encode(member), "relay_url": relayURL(relay)])
        _ = try await client.next()  // "sent"
        let answer = try await client.receive()
        guard answer.first?["type"] as? String == "ok", answer.first?["id"] == nil else {
            throw TestFailure("auth was not answered Ok: \(answer)")
        }
        return client
    }

    static func json(_ event: Event) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(event.json)) as! [String: Any]
    }

    @Test("an allowlisted key that signs SHA256(nonce || relay_url) is answered Ok and may publish")
    func authSucceeds() async throws {
        try await Self.withAxonRelay { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            let event = Author().event(content: "over axon")
            client.send(["op": "publish", "event": Self.json(event)])
            let answer = try await client.receive()
            #expect(answer.first?["type"] as? String == "ok")
            #expect(answer.first?["id"] as? String == event.id.hex)
        }
    }

    /// How each failed handshake is attempted: the command sent first.
    enum FailedAuth: String, CaseIterable, Sendable {
        case wrongSignature, keyNotAllowlisted, replayedNonce, wrongRelayURL, publishBeforeAuth, malformedFrame, unknownType
    }

    @Test("each failed handshake is answered 401 and the connection closed", arguments: FailedAuth.allCases)
    func authFails(_ failure: FailedAuth) async throws {
        try await Self.withAxonRelay { relay in
            let client = try await AxonPythonClient.connect(port: relay.port)
            defer { client.stop() }
            let url = Self.relayURL(relay)
            let member = Hex.encode(Self.member)
            switch failure {
            case .wrongSignature:
                client.send(["op": "auth", "key": member, "relay_url": url, "tamper": "flip"])
            case .keyNotAllowlisted:
                client.send(["op": "auth", "key": Hex.encode(Self.stranger), "relay_url": url])
            case .replayedNonce:
                // A signature that was good for another connection's challenge.
                let other = try await AxonPythonClient.connect(port: relay.port)
                defer { other.stop() }
                client.send(["op": "auth", "key": member, "relay_url": url, "nonce": other.nonce])
            case .wrongRelayURL:
                client.send(["op": "auth", "key": member, "relay_url": "ws://other.example.com"])
            case .publishBeforeAuth:
                client.send(["op": "publish", "event": Self.json(Author().event())])
            case .malformedFrame:
                client.send(["op": "raw", "hex": "c1"])
            case .unknownType:
                client.send(["op": "raw", "hex": "92cd777780"])
            }
            if [.wrongSignature, .keyNotAllowlisted, .replayedNonce, .wrongRelayURL].contains(failure) {
                _ = try await client.next()  // "sent"
            }
            let answers = try await client.receive(2)
            #expect(answers.first?["type"] as? String == "error")
            #expect(answers.first?["code"] as? Int == 401, "\(answers)")
            #expect(answers.last?["type"] as? String == "closed", "\(answers)")
            #expect(await waitUntil { relay.relay.connectionCount == 0 })
        }
    }

    @Test("publish: Ok with the id; the same event again 409; content over 65,536 bytes 413")
    func publishCodes() async throws {
        try await Self.withAxonRelay { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            let author = Author()
            let event = author.event(content: "once")
            client.send(["op": "publish", "event": Self.json(event)])
            #expect(try await client.receive().first?["type"] as? String == "ok")
            client.send(["op": "publish", "event": Self.json(event)])
            let duplicate = try await client.receive().first
            #expect(duplicate?["code"] as? Int == 409)
            #expect(duplicate?["id"] as? String == event.id.hex)
            // Bytes, not characters: 33,000 two-byte characters are 66,000 bytes.
            let large = author.event(content: String(repeating: "é", count: 33_000))
            client.send(["op": "publish", "event": Self.json(large)])
            let tooLarge = try await client.receive().first
            #expect(tooLarge?["code"] as? Int == 413, "\(tooLarge ?? [:])")
            let largest = author.event(content: String(repeating: "a", count: 65_536))
            client.send(["op": "publish", "event": Self.json(largest)])
            #expect(try await client.receive().first?["type"] as? String == "ok")
            #expect(try await relay.relay.store.contains(large.id) == false)
        }
    }

    @Test("bad frames after auth get a code and the connection keeps working")
    func badFramesAfterAuth() async throws {
        try await Self.withAxonRelay(configure: { $0.limits.maxMessageLength = 100_000 }) { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            let frames = [
                "c1",  // never used in MessagePack
                "92cd777780",  // [0x7777, {}]: an unknown message type
                "9202a0",  // Publish with a string for a payload
                "9203" + "82a3737562a173a766696c7465727391a0",  // a filter that is a string
                String(repeating: "00", count: 150_000),  // over max_message_length
            ]
            for (index, frame) in frames.enumerated() {
                client.send(["op": "raw", "hex": frame])
                let answer = try await client.receive().first
                #expect(answer?["code"] as? Int == (index == frames.count - 1 ? 413 : 400), "\(frame.prefix(20)): \(answer ?? [:])")
            }
            let event = Author().event(content: "still here")
            client.send(["op": "publish", "event": Self.json(event)])
            #expect(try await client.receive().first?["id"] as? String == event.id.hex)
        }
    }

    @Test("a job request (5000-5999) whose expires_at has passed is refused; a current one is stored")
    func expiredJobRequest() async throws {
        try await Self.withAxonRelay { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            let author = Author()
            let expired = author.event(kind: 5001, content: "job", tags: [["expires_at", String(now() - 60)]])
            client.send(["op": "publish", "event": Self.json(expired)])
            let refusal = try await client.receive().first
            #expect(refusal?["code"] as? Int == 400)
            #expect((refusal?["message"] as? String)?.contains("expired") == true)
            let current = author.event(kind: 5001, content: "job", tags: [["expires_at", String(now() + 600)]])
            client.send(["op": "publish", "event": Self.json(current)])
            #expect(try await client.receive().first?["type"] as? String == "ok")
        }
    }

    @Test("kind 3000 reaches a live subscriber and is never stored")
    func ephemeralKinds() async throws {
        try await Self.withAxonRelay { relay in
            let subscriber = try await Self.authenticated(relay)
            defer { subscriber.stop() }
            let publisher = try await Self.authenticated(relay)
            defer { publisher.stop() }
            subscriber.send(["op": "subscribe", "sub": "live", "filters": [["kinds": [3000]]]])
            #expect(try await subscriber.receive().first?["type"] as? String == "end_of_stored")
            let event = Author().event(kind: 3000, content: "signal")
            publisher.send(["op": "publish", "event": Self.json(event)])
            #expect(try await publisher.receive().first?["type"] as? String == "ok")
            let delivered = try await subscriber.receive().first
            #expect(delivered?["type"] as? String == "event")
            #expect((delivered?["event"] as? [String: Any])?["id"] as? String == event.id.hex)
            #expect(try await relay.relay.store.contains(event.id) == false)
            // A new subscription finds nothing stored, over either protocol.
            subscriber.send(["op": "subscribe", "sub": "again", "filters": [["kinds": [3000]]]])
            #expect(try await subscriber.receive().first?["type"] as? String == "end_of_stored")
            let json = try await relay.connect()
            #expect(try await json.query("q", #"{"kinds":[3000]}"#).isEmpty)
            await json.close()
        }
    }

    @Test("kinds 3000-3999 are ephemeral for JSON clients too while axon is on, and stored when it is off")
    func ephemeralKindsForEveryClient() async throws {
        let event = Author().event(kind: 3500, content: "one store, one rule")
        try await Self.withAxonRelay { relay in
            let json = try await relay.connect()
            #expect(try await json.publishAndWait(event).accepted)
            #expect(try await relay.relay.store.contains(event.id) == false)
            await json.close()
        }
        try await TestRelay.with { relay in
            let json = try await relay.connect()
            #expect(try await json.publishAndWait(event).accepted)
            #expect(try await relay.relay.store.contains(event.id))
            await json.close()
        }
    }

    @Test("an event published over axon is read over NIP-01 with the same id, and the reverse")
    func acrossProtocols() async throws {
        try await Self.withAxonRelay { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            let json = try await relay.connect()
            let author = Author()

            let overAxon = author.event(content: "binary in")
            client.send(["op": "publish", "event": Self.json(overAxon)])
            #expect(try await client.receive().first?["type"] as? String == "ok")
            let read = try await json.query("q", #"{"ids":["\#(overAxon.id.hex)"]}"#)
            #expect(read.count == 1)
            #expect(read.first?["id"] as? String == overAxon.id.hex)
            #expect(read.first?["sig"] as? String == overAxon.sig.hex)

            let overJSON = author.event(content: "json in")
            #expect(try await json.publishAndWait(overJSON).accepted)
            // A two-byte prefix of the id, and the author in full.
            let prefix = String(overJSON.id.hex.prefix(4))
            client.send(["op": "subscribe", "sub": "s", "filters": [["ids": [prefix], "authors": [author.pubkey.hex]]]])
            let answers = try await client.receive(2)
            let event = answers.first?["event"] as? [String: Any]
            #expect(event?["id"] as? String == overJSON.id.hex)
            #expect(event?["sig"] as? String == overJSON.sig.hex)
            #expect(event?["content"] as? String == "json in")
            #expect(answers.last?["type"] as? String == "end_of_stored")

            // Live: a NIP-01 event reaches the axon subscription matching it.
            let live = author.event(content: "live json")
            client.send(["op": "subscribe", "sub": "live", "filters": [["authors": [String(author.pubkey.hex.prefix(8))], "since": Int(live.createdAt)]]])
            // The two events above may share the second `since` names: read to the marker.
            var stored: [[String: Any]] = []
            while stored.count < 3, stored.last?["type"] as? String != "end_of_stored" {
                stored += try await client.receive()
            }
            #expect(stored.last?["type"] as? String == "end_of_stored", "\(stored)")
            // Another author's event passes the index (which leaves the prefix out) and must
            // be stopped by the prefix: the first delivery is the matching event.
            #expect(try await json.publishAndWait(Author().event(content: "another author")).accepted)
            #expect(try await json.publishAndWait(live).accepted)
            let delivered = try await client.receive().first
            #expect(delivered?["sub"] as? String == "live")
            #expect((delivered?["event"] as? [String: Any])?["id"] as? String == live.id.hex)
            await json.close()
        }
    }

    @Test("the JSON client of a relay with axon on is untouched, and axon off answers the subprotocol with JSON")
    func jsonUntouched() async throws {
        try await Self.withAxonRelay { relay in
            let json = try await relay.connect()
            #expect(try await json.publishAndWait(Author().event()).accepted)
            await json.close()
        }
        try await TestRelay.with { relay in
            do {
                let client = try await AxonPythonClient.connect(port: relay.port)
                client.stop()
                Issue.record("a relay with axon off accepted the subprotocol")
            } catch {
                #expect("\(error)".contains("did not accept the axon subprotocol"))
            }
        }
    }

    @Test("the axon allowlist is managed through NIP-86: allowaxonkey, listallowedaxonkeys, disallowaxonkey")
    func allowlistThroughManagement() async throws {
        let admin = Author()
        try await Self.withAxonRelay(configure: { $0.management.adminPubkeys = [admin.pubkey] }) { relay in
            let stranger = try AxonAuthentication.publicKey(of: Self.stranger)
            func authenticates() async throws -> Bool {
                let client = try await AxonPythonClient.connect(port: relay.port)
                defer { client.stop() }
                client.send(["op": "auth", "key": Hex.encode(Self.stranger), "relay_url": Self.relayURL(relay)])
                _ = try await client.next()
                return try await client.receive().first?["type"] as? String == "ok"
            }
            #expect(try await authenticates() == false)
            #expect(try await relay.manage("allowaxonkey", [stranger.hex], as: admin).succeeded)
            let listed = try await relay.manage("listallowedaxonkeys", as: admin).result as? [String]
            #expect(listed?.contains(stranger.hex) == true)
            #expect(try await authenticates())
            #expect(try await relay.manage("disallowaxonkey", [stranger.hex], as: admin).succeeded)
            #expect(try await authenticates() == false)
            let bad = try await relay.manage("allowaxonkey", ["not a key"], as: admin)
            #expect(bad.error?.contains("ed25519") == true)
        }
    }

    @Test("martlet serve reads the axon section: the allowlist admits, content_bytes bounds; config check refuses bad values")
    func configurationFile() async throws {
        let key = try AxonAuthentication.publicKey(of: Self.member)
        let yaml = """
            axon:
              enabled: true
              allowlist: [\(key.hex)]
              max_content_bytes: 10
              ephemeral_kinds: 3000-3999
            """
        try await withConfigurationFile(yaml) { file, folder in
            let relay = try await RelayProcess.start(
                data: folder.appendingPathComponent("data"), arguments: ["--config", file.path])
            let client = try await AxonPythonClient.connect(port: relay.port)
            client.send(["op": "auth", "key": Hex.encode(Self.member), "relay_url": "ws://127.0.0.1:\(relay.port)"])
            _ = try await client.next()
            #expect(try await client.receive().first?["type"] as? String == "ok")
            client.send(["op": "publish", "event": Self.json(Author().event(content: "eleven byte"))])
            #expect(try await client.receive().first?["code"] as? Int == 413)
            client.stop()
            #expect(await relay.stop(signal: SIGTERM) == 0)
        }
        let bad = """
            axon:
              allowlist: [not-a-key]
              ephemeral_kinds: 3999-3000
            """
        try await withConfigurationFile(bad) { file, _ in
            let check = try await MartletCommand.run(["config", "check", "--config", file.path], environment: [:])
            #expect(check.status != 0)
            #expect(check.errors.contains("axon.allowlist"), "\(check.errors)")
            #expect(check.errors.contains("axon.ephemeral_kinds"), "\(check.errors)")
        }
    }

    @Test("a connection that answers no ping is closed after two missed pings")
    func twoMissedPings() async throws {
        try await Self.withAxonRelay(pingInterval: .seconds(1)) { relay in
            let client = try await Self.authenticated(relay)
            defer { client.stop() }
            client.send(["op": "silence"])
            #expect(try await client.next()["type"] as? String == "silent")
            client.send(["op": "wait_close", "timeout": 120])
            let closed = try await client.next(timeout: .seconds(150))
            #expect(closed["type"] as? String == "closed", "\(closed)")
            // Pings counted by the client: the second unanswered one closes the connection.
            #expect((closed["pings"] as? Int ?? 0) >= 2, "\(closed)")
            #expect(closed["code"] as? Int == 1001)
            #expect(await waitUntil { relay.relay.connectionCount == 0 })
        }
    }
}
