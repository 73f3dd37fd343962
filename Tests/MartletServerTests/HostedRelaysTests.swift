import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletServer
import MartletTestSupport
import NostrCore
import Testing

/// Issue 18, relays by key: hosted relays served at `/<key>` by one `martlet serve`,
/// `martlet relay create`, `join` and `writers`, and the inspection commands, all on the
/// real binary in child processes on 127.0.0.1.
@Suite("Hosted relays (relays by key)")
struct HostedRelaysTests {
    @Test("one process serves 100 hosted relays, each at its own path with its own NIP-11 and its own store")
    func hundredRelaysInOneProcess() async throws {
        try await withTemporaryFolder("martlet-hosted") { data in
            let server = try await RelayProcess.start(data: data)
            defer { Task { await server.stop(signal: SIGTERM) } }
            let before = ProcessFootprint(pid: server.process.processIdentifier)
            var relays: [(key: String, name: String)] = []
            for index in 0..<100 {
                let name = "relay \(index)"
                let key = try await HostedNode.createRelay(name, description: "number \(index)", port: server.port, data: data)
                relays.append((key, name))
            }
            #expect(Set(relays.map(\.key)).count == 100)
            let created = ProcessFootprint(pid: server.process.processIdentifier)
            // NIP-11: "Relays MAY accept an HTTP header of Accept: application/nostr+json" and
            // serve the document; each hosted relay at its own path, its key as `self`.
            for relay in relays {
                let document = try await HostedNode.informationDocument(port: server.port, path: "/\(relay.key)")
                #expect(document["name"] as? String == relay.name)
                #expect(document["self"] as? String == relay.key)
            }
            // Every one answers a WebSocket at its path with its own store: the creation
            // event it starts with (NIP-78's kind 30078, signed by the relay's key) and
            // nothing published to another.
            let author = Author()
            for (index, relay) in relays.enumerated() {
                let client = try await NostrTestClient.connect(url: "ws://127.0.0.1:\(server.port)/\(relay.key)")
                let note = author.event(content: "only on \(relay.name)")
                #expect(try await client.publishAndWait(note).accepted)
                let stored = try await client.query("all", "{}")
                #expect(stored.count == 2, "relay \(index) holds \(stored.count)")
                let creation = stored.first { ($0["kind"] as? Int) == 30078 }
                #expect(creation?["pubkey"] as? String == relay.key)
                #expect(stored.contains { $0["id"] as? String == note.id.hex })
                await client.close()
            }
            let opened = ProcessFootprint(pid: server.process.processIdentifier)
            print("hosted relays footprint: before \(before), 100 created \(created), 100 opened \(opened)")
            // The default relay at / is not any of them.
            let root = try await NostrTestClient.connect(url: "ws://127.0.0.1:\(server.port)/")
            #expect(try await root.query("all", "{}").isEmpty)
            await root.close()
        }
    }

    @Test("an unknown key is 404 and a malformed path 400, each with a body that says so")
    func unknownAndMalformedPaths() async throws {
        try await withTemporaryFolder("martlet-hosted") { data in
            let server = try await RelayProcess.start(data: data)
            defer { Task { await server.stop(signal: SIGTERM) } }
            let unknown = String(repeating: "ab", count: 32)
            let missing = try await HostedNode.get(port: server.port, path: "/\(unknown)")
            #expect(missing.status == 404)
            #expect(missing.body.contains("no relay \(unknown) is hosted here"))
            let malformed = try await HostedNode.get(port: server.port, path: "/" + String(repeating: "z", count: 64))
            #expect(malformed.status == 400)
            #expect(malformed.body.contains("is not a relay key"))
            let nested = try await HostedNode.get(port: server.port, path: "/\(unknown)/x")
            #expect(nested.status == 404)
            // No WebSocket either: the upgrade is refused, the server keeps serving.
            await #expect(throws: (any Error).self) {
                _ = try await NostrTestClient.connect(url: "ws://127.0.0.1:\(server.port)/\(unknown)")
            }
            #expect(try await HostedNode.get(port: server.port, path: "/status.json").status == 200)
        }
    }

    @Test("relay create offline: a 0600 secret, a signed creation event, and list, get and query read it")
    func createAndInspectOffline() async throws {
        try await withTemporaryFolder("martlet-hosted") { data in
            let created = try await MartletCommand.run([
                "relay", "create", "--name", "Book club", "--description", "Books", "--data", data.path,
            ])
            #expect(created.status == 0, "\(created.errors)")
            let key = try #require(HostedNode.value("relay", in: created.output))
            #expect(HostedNode.value("url", in: created.output)?.hasSuffix("/\(key)") == true)
            let secret = data.appendingPathComponent("relays/\(key)/relay.key").path
            let mode = try FileManager.default.attributesOfItem(atPath: secret)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let listed = try await MartletCommand.run(["list", "--relay", key, "--data", data.path])
            #expect(listed.status == 0, "\(listed.errors)")
            let lines = listed.output.split(separator: "\n")
            #expect(lines.count == 1)
            let event = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(event["kind"] as? Int == 30078)
            #expect(event["pubkey"] as? String == key)
            let id = try #require(event["id"] as? String)

            let got = try await MartletCommand.run(["get", id, "--relay", key, "--data", data.path])
            #expect(got.output.contains(id))
            let table = try await MartletCommand.run([
                "query", #"{"kinds":[30078]}"#, "--relay", key, "--table", "--data", data.path,
            ])
            #expect(table.status == 0)
            #expect(table.output.contains(String(id.prefix(12))) && table.output.contains("30078"))
            // The default relay's store is another one.
            let root = try await MartletCommand.run(["list", "--data", data.path])
            #expect(root.status == 0 && root.output.isEmpty)

            for bad in [["list", "--relay", "xyz", "--data", data.path], ["get", "nope", "--data", data.path],
                        ["query", "{", "--data", data.path]] {
                let run = try await MartletCommand.run(bad)
                #expect(run.status != 0)
                #expect(run.errors.split(separator: "\n").count <= 2, "\(run.errors)")
            }
        }
    }

    @Test("join by key: replicas converge both ways, a third node gets the history, a removed writer is refused")
    func joinReplicateAndRemove() async throws {
        try await withTemporaryFolder("martlet-hosted") { root in
            let (dataA, dataB, dataC) = (root.appendingPathComponent("a"), root.appendingPathComponent("b"), root.appendingPathComponent("c"))
            let nodeA = try await RelayProcess.start(data: dataA)
            defer { Task { await nodeA.stop(signal: SIGTERM) } }
            let viaA = "ws://127.0.0.1:\(nodeA.port)"
            // A creates K on its running server (NIP-86 createrelay, signed by A's node key).
            let created = try await MartletCommand.run([
                "relay", "create", "--server", viaA, "--name", "Shared", "--writers", "approval", "--data", dataA.path,
            ])
            #expect(created.status == 0, "\(created.errors)")
            let key = try #require(HostedNode.value("relay", in: created.output))

            // B asks; the policy wants a writer's approval: a one-line refusal, non-zero.
            let pending = try await MartletCommand.run(["relay", "join", key, "--via", viaA, "--data", dataB.path])
            #expect(pending.status != 0)
            #expect(pending.errors.contains("pending"), "\(pending.errors)")
            let nodeBKey = try HostedNode.key(in: dataB).publicKey.hex
            let approved = try await MartletCommand.run([
                "relay", "writers", key, "--via", viaA, "--add", nodeBKey, "--data", dataA.path,
            ])
            #expect(approved.status == 0, "\(approved.errors)")
            #expect(approved.output.contains("\(nodeBKey)  writer"))
            let joined = try await MartletCommand.run(["relay", "join", key, "--via", viaA, "--data", dataB.path])
            #expect(joined.status == 0, "\(joined.errors)")
            #expect(joined.output.contains("downloaded 1"), "\(joined.output)")

            let nodeB = try await RelayProcess.start(data: dataB)
            defer { Task { await nodeB.stop(signal: SIGTERM) } }
            let atA = "\(viaA)/\(key)"
            let atB = "ws://127.0.0.1:\(nodeB.port)/\(key)"

            let author = Author()
            var notes: [Event] = []
            for (index, url) in [atA, atB, atA, atB].enumerated() {
                let note = author.event(content: "note \(index)")
                try await HostedNode.publish(note, to: url)
                notes.append(note)
            }
            try await HostedNode.waitUntil("both replicas hold the four notes") {
                guard try await HostedNode.holds(notes, at: atA) else { return false }
                return try await HostedNode.holds(notes, at: atB)
            }
            let (idsA, idsB) = (try await HostedNode.ids(at: atA), try await HostedNode.ids(at: atB))
            #expect(idsA == idsB)

            // C is approved ahead and joins while its server runs, which picks the new relay
            // up from the data folder: the whole history comes, creation event included.
            let nodeCKey = try HostedNode.key(in: dataC).publicKey.hex
            _ = try await MartletCommand.run(["relay", "writers", key, "--via", viaA, "--add", nodeCKey, "--data", dataA.path])
            let nodeC = try await RelayProcess.start(data: dataC)
            defer { Task { await nodeC.stop(signal: SIGTERM) } }
            let joinedC = try await MartletCommand.run(["relay", "join", key, "--via", viaA, "--data", dataC.path])
            #expect(joinedC.status == 0, "\(joinedC.errors)")
            let atC = "ws://127.0.0.1:\(nodeC.port)/\(key)"
            let history = try await HostedNode.ids(at: atA)
            #expect(history.count == 5)
            try await HostedNode.waitUntil("C's server serves the relay with its whole history") {
                (try? await HostedNode.ids(at: atC)) == history
            }

            // A writer (A's own node) removes B: B's replication is refused from then on.
            let removed = try await MartletCommand.run([
                "relay", "writers", key, "--via", viaA, "--remove", nodeBKey, "--data", dataA.path,
            ])
            #expect(removed.output.contains("\(nodeBKey)  removed"), "\(removed.output)")
            let fromB = author.event(content: "after removal, on B")
            try await HostedNode.publish(fromB, to: atB)
            let fromC = author.event(content: "after removal, on C")
            try await HostedNode.publish(fromC, to: atC)
            try await HostedNode.waitUntil("C's note reaches A") { try await HostedNode.holds([fromC], at: atA) }
            // B's mesh peer retries with backoff; give it as long as C's note took, and more.
            try await Task.sleep(for: .seconds(3))
            #expect(try await HostedNode.holds([fromB], at: atA) == false)
            #expect(try await HostedNode.holds([fromB], at: atC) == false)
            // Joining again is refused, with one line and a non-zero exit.
            let again = try await MartletCommand.run(["relay", "join", key, "--via", viaA, "--data", dataB.path])
            #expect(again.status != 0)
            #expect(again.errors.contains("removed as a writer"), "\(again.errors)")
        }
    }

    @Test("join: a malformed key, a node that does not answer, a key it does not host: one line, non-zero")
    func joinFailures() async throws {
        try await withTemporaryFolder("martlet-hosted") { data in
            let key = String(repeating: "cd", count: 32)
            let malformed = try await MartletCommand.run(["relay", "join", "abc", "--via", "ws://127.0.0.1:1", "--data", data.path])
            #expect(malformed.status != 0)
            #expect(malformed.errors.contains("is not a relay key"))
            let silent = try unusedPort()
            let noAnswer = try await MartletCommand.run([
                "relay", "join", key, "--via", "ws://127.0.0.1:\(silent)", "--timeout", "5", "--data", data.path,
            ])
            #expect(noAnswer.status != 0)
            #expect(noAnswer.errors.contains("no answer from"), "\(noAnswer.errors)")
            #expect(noAnswer.errors.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
            let server = try await RelayProcess.start(data: data.appendingPathComponent("server"))
            defer { Task { await server.stop(signal: SIGTERM) } }
            let unknown = try await MartletCommand.run([
                "relay", "join", key, "--via", "ws://127.0.0.1:\(server.port)", "--data", data.path,
            ])
            #expect(unknown.status != 0)
            #expect(unknown.errors.contains("no relay \(key)"), "\(unknown.errors)")
        }
    }
}

/// Helpers for talking to nodes and their hosted relays.
enum HostedNode {
    /// The node key `martlet serve` or `relay join` made in `data` (`relay.key`).
    static func key(in data: URL) throws -> SecretKey {
        let path = data.appendingPathComponent("relay.key").path
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            var bytes: [UInt8]
            repeat { bytes = (0..<32).map { _ in UInt8.random(in: 0...255) } } while SecretKey(bytes: bytes) == nil
            try (Hex.encode(bytes) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        guard let secret = SecretKey(hexOrNsec: try String(contentsOfFile: path, encoding: .utf8)) else {
            throw TestFailure("\(path) holds no key")
        }
        return secret
    }

    /// The second word of the output line starting with `label`.
    static func value(_ label: String, in output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix(label + " ") {
            return String(line.dropFirst(label.count + 1))
        }
        return nil
    }

    static func call(port: Int, path: String, _ method: String, _ params: [Any], signedBy secret: SecretKey) async throws
        -> Any
    {
        let url = "http://127.0.0.1:\(port)\(path)"
        let body = try JSONSerialization.data(withJSONObject: ["method": method, "params": params])
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/nostr+json+rpc", forHTTPHeaderField: "Content-Type")
        request.setValue(
            HTTPAuthorization.header(signedBy: secret, url: url, method: "POST", body: Array(body)),
            forHTTPHeaderField: "Authorization")
        let response = try await HTTPGet.run(request)
        let answer = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        if let error = answer?["error"] as? String { throw TestFailure("\(method): \(error)") }
        return answer?["result"] ?? NSNull()
    }

    /// Creates a hosted relay on the server at `port` over NIP-86, signed by the node key in
    /// `data`, and returns its key (64 hex characters).
    static func createRelay(
        _ name: String, description: String = "", port: Int, data: URL
    ) async throws -> String {
        let created = try await call(port: port, path: "/", "createrelay", [name, description], signedBy: try key(in: data))
        return try #require((created as? [String: Any])?["key"] as? String)
    }

    static func informationDocument(port: Int, path: String) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let response = try await HTTPGet.run(request)
        guard let document = try JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw TestFailure("the NIP-11 document at \(path) is not a JSON object")
        }
        return document
    }

    static func get(port: Int, path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPGet.run(URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    static func publish(_ event: Event, to url: String) async throws {
        let client = try await NostrTestClient.connect(url: url)
        let answer = try await client.publishAndWait(event)
        await client.close()
        guard answer.accepted else { throw TestFailure("\(url) refused \(event.id): \(answer.message)") }
    }

    /// Every event id the relay at `url` serves.
    static func ids(at url: String) async throws -> Set<String> {
        let client = try await NostrTestClient.connect(url: url)
        let events = try await client.query("all", #"{"limit":5000}"#)
        await client.close()
        return Set(events.compactMap { $0["id"] as? String })
    }

    static func holds(_ events: [Event], at url: String) async throws -> Bool {
        Set(events.map(\.id.hex)).isSubset(of: try await ids(at: url))
    }

    static func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
        guard try await MartletTestSupport.waitUntil(timeout: .seconds(60), condition) else {
            throw TestFailure("timed out waiting until \(what)")
        }
    }
}

/// A process's resident memory and open file descriptors, from /proc.
struct ProcessFootprint: CustomStringConvertible {
    let residentKiB: Int
    let descriptors: Int

    init(pid: Int32) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        residentKiB = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    var description: String { "\(residentKiB) KiB resident, \(descriptors) descriptors" }
}

/// The figures of BENCHMARKS.md's "Hosted relays (issue 18)": run with
/// `MARTLET_HOSTED_FOOTPRINT=1000 swift test --skip-build --filter HostedRelaysFootprint`.
@Suite("Hosted relays footprint")
struct HostedRelaysFootprint {
    static let requested = ProcessInfo.processInfo.environment["MARTLET_HOSTED_FOOTPRINT"]

    @Test("memory and descriptors of N hosted relays: idle after a restart, then each opened once",
          .enabled(if: HostedRelaysFootprint.requested != nil))
    func footprint() async throws {
        let count = Int(ProcessInfo.processInfo.environment["MARTLET_HOSTED_FOOTPRINT"] ?? "") ?? 1000
        try await withTemporaryFolder("martlet-hosted-footprint") { data in
            let first = try await RelayProcess.start(data: data)
            var keys: [String] = []
            for index in 0..<count {
                keys.append(try await HostedNode.createRelay("relay \(index)", port: first.port, data: data))
            }
            let createdFigures = ProcessFootprint(pid: first.process.processIdentifier)
            await first.stop(signal: SIGTERM)
            let server = try await RelayProcess.start(data: data)
            defer { Task { await server.stop(signal: SIGTERM) } }
            let empty = try await withTemporaryFolder("martlet-hosted-empty") { other in
                let bare = try await RelayProcess.start(data: other)
                let figures = ProcessFootprint(pid: bare.process.processIdentifier)
                await bare.stop(signal: SIGTERM)
                return figures
            }
            let idle = ProcessFootprint(pid: server.process.processIdentifier)
            for key in keys {
                let client = try await NostrTestClient.connect(url: "ws://127.0.0.1:\(server.port)/\(key)")
                #expect(try await client.query("all", "{}").count == 1)
                await client.close()
            }
            try await Task.sleep(for: .seconds(2))
            let opened = ProcessFootprint(pid: server.process.processIdentifier)
            print("""
                hosted relays footprint (\(count)): no hosted relay: \(empty); \(count) idle after restart: \(idle); \
                \(count) opened (one connection each, closed): \(opened); right after creating them: \(createdFigures)
                """)
        }
    }
}

/// `hosted.idle_close`: an opened relay nobody uses gives its store back, and opens again.
@Suite("Hosted relays closed when idle")
struct HostedRelaysIdleTests {
    @Test("a hosted relay with no connection closes its store after hosted.idle_close and reopens on use")
    func idleRelayCloses() async throws {
        try await withTemporaryFolder("martlet-hosted-idle") { data in
            let server = try await RelayProcess.start(data: data, environment: ["MARTLET_HOSTED_IDLE_CLOSE": "1"])
            defer { Task { await server.stop(signal: SIGTERM) } }
            let pid = server.process.processIdentifier
            let baseline = ProcessFootprint(pid: pid).descriptors
            let key = try await HostedNode.createRelay("quiet", port: server.port, data: data)
            let url = "ws://127.0.0.1:\(server.port)/\(key)"
            let note = Author().event(content: "kept while closed")
            // Its SQLite files are open while a connection uses it, and closed once it is idle.
            let client = try await NostrTestClient.connect(url: url)
            #expect(try await client.publishAndWait(note).accepted)
            #expect(
                await waitUntil { ProcessFootprint(pid: pid).descriptors > baseline + 1 },
                "a connection is open, so is the store")
            await client.close()
            try await HostedNode.waitUntil("the idle relay's store is closed") {
                ProcessFootprint(pid: pid).descriptors <= baseline
            }
            #expect(try await HostedNode.holds([note], at: url))
        }
    }
}

/// The paths `RelayServer` and the hosted routes tell apart.
@Suite("Hosted relay paths")
struct HostedRelayPathTests {
    @Test("the root, a relay key (either case, with a query), a malformed key, other routes")
    func pathMatch() {
        let key = String(repeating: "ab", count: 32)
        #expect(HostedRelayKey.match(path: "/") == .root)
        #expect(HostedRelayKey.match(path: "/?x=1") == .root)
        #expect(HostedRelayKey.match(path: "/\(key)") == .key(HostedRelayKey(key)!))
        #expect(HostedRelayKey.match(path: "/\(key.uppercased())?a=b") == .key(HostedRelayKey(key)!))
        #expect(HostedRelayKey.match(path: "/" + String(repeating: "z", count: 64)) != .other)
        #expect(HostedRelayKey.match(path: "/\(key)/events") != .key(HostedRelayKey(key)!))
        #expect(HostedRelayKey.match(path: "/status.json") == .other)
        #expect(HostedRelayKey.match(path: "/metrics") == .other)
        #expect(HostedRelayKey("abc") == nil)
    }
}
