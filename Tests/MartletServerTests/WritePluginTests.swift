import Foundation
import Glibc
import MartletRelay
import MartletReplication
import MartletServer
import MartletTestSupport
import NostrCore
import Testing

/// `access.write_plugin` speaks strfry's plugin protocol (docs/plugins.md in strfry): the
/// plugins here are written as strfry's documentation shows them, reading one JSON line per
/// event and printing `{"id","action","msg"}` with a flush, in Python instead of node.
@Suite("strfry-compatible write-policy plugins")
struct WritePluginTests {
    /// A folder holding one plugin script and the log of what it was sent.
    struct Plugin {
        let folder: URL
        var path: String { folder.appendingPathComponent("plugin.py").path }
        var log: URL { folder.appendingPathComponent("requests.jsonl") }

        /// Writes a plugin whose answer to each request is computed by `decide`, a Python
        /// expression over `req` that evaluates to a dict of `action` and `msg` (or `None`
        /// to print nothing). Every request is logged, with the plugin's pid.
        init(decide: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-plugin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try write(decide: decide)
        }

        func write(decide: String) throws {
            let script = """
                #!/usr/bin/env python3
                import json, os, sys, time

                log = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "requests.jsonl"), "a")

                def decide(req):
                    return \(decide)

                while True:
                    line = sys.stdin.readline()
                    if not line:
                        break
                    req = json.loads(line)
                    req["pid"] = os.getpid()
                    log.write(json.dumps(req) + "\\n")
                    log.flush()
                    if req["type"] != "new":
                        print("unexpected request type", file=sys.stderr)
                        continue
                    answer = decide(req)
                    if answer is None:
                        continue
                    res = {"id": req["event"]["id"]}
                    res.update(answer)
                    print(json.dumps(res), flush=True)

                """
            // A new file under the same name, so the change shows in its modification time.
            let staging = folder.appendingPathComponent("plugin.py.new")
            try script.write(to: staging, atomically: false, encoding: .utf8)
            chmod(staging.path, 0o755)
            rename(staging.path, path)
        }

        /// The requests the plugin logged, in order.
        var requests: [[String: Any]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    static let whitelisted = Author()

    /// strfry's documented whitelist example, plus `shadowReject` for content saying so.
    static let whitelist = """
        {"action": "accept"} if req["event"]["pubkey"] == "\(whitelisted.pubkey.hex)" \
        else {"action": "shadowReject"} if "shadow" in req["event"]["content"] \
        else {"action": "reject", "msg": "blocked: not on white-list"}
        """

    @Test("a whitelist plugin accepts, rejects with its own message, and shadow-rejects; it is told the client's source")
    func whitelist() async throws {
        let plugin = try Plugin(decide: Self.whitelist)
        defer { plugin.remove() }
        try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: plugin.path) }) { relay in
            let client = try await relay.connect()
            let allowed = Self.whitelisted.event(content: "on the list")
            let stranger = Author().event(content: "not on the list")
            let shadowed = Author().event(content: "shadow me")

            let accepted = try await client.publishAndWait(allowed)
            #expect(accepted.accepted && accepted.message.isEmpty, "\(accepted)")
            let rejected = try await client.publishAndWait(stranger)
            #expect(!rejected.accepted && rejected.message == "blocked: not on white-list", "\(rejected)")
            // "shadowReject": the client hears OK true, but nothing is stored.
            let shadow = try await client.publishAndWait(shadowed)
            #expect(shadow.accepted, "\(shadow)")
            await client.close()

            #expect(try await relay.relay.store.contains(allowed.id))
            #expect(try await relay.relay.store.contains(stranger.id) == false)
            #expect(try await relay.relay.store.contains(shadowed.id) == false)

            let requests = plugin.requests
            #expect(requests.count == 3)
            let first = try #require(requests.first)
            #expect(first["type"] as? String == "new")
            #expect(first["sourceType"] as? String == "IP4")
            #expect(first["sourceInfo"] as? String == "127.0.0.1")
            let receivedAt = try #require(first["receivedAt"] as? Int)
            #expect(abs(receivedAt - Int(Date().timeIntervalSince1970)) < 600)
            let event = try #require(first["event"] as? [String: Any])
            #expect(event["id"] as? String == allowed.id.hex)
            #expect(event["pubkey"] as? String == allowed.pubkey.hex)
            #expect(event["sig"] as? String == allowed.sig.hex)
            #expect(first["authed"] == nil, "the connection did not authenticate")

            // The plugin holds its own stdin and stdout and no socket of the relay's: one
            // would keep a client's connection open after both ends had closed it.
            let pid = try #require(first["pid"] as? Int)
            let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            let sockets = descriptors.filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)"))?.hasPrefix("socket:") == true
            }
            #expect(sockets.sorted() == ["0", "1"], "the plugin's sockets: \(sockets)")
        }
    }

    @Test("the plugin sees every origin: martlet import as Import, martlet sync as Sync, the command's YAML included")
    func everyOrigin() async throws {
        let plugin = try Plugin(decide: Self.whitelist)
        defer { plugin.remove() }
        let allowed = Self.whitelisted.event(content: "from the archive")
        let stranger = Author().event(content: "also from the archive")

        try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: plugin.path) }) { relay in
            let report = await EventImport(relay: relay.relay).run([Array(allowed.jsonString.utf8), Array(stranger.jsonString.utf8)])
            #expect(report.saved == 1 && report.rejectedByPrefix == ["blocked": 1], "\(report)")
        }
        #expect(plugin.requests.map { $0["sourceType"] as? String } == ["Import", "Import"])

        try await TestRelay.with { source in
            _ = try await source.relay.store.save([allowed, stranger])
            try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: plugin.path) }) { here in
                let report = try await RelaySync(relay: here.relay, remote: source.url).run { _ in }
                #expect(report.downloaded == 1 && report.rejected == 1, "\(report)")
            }
            let synced = plugin.requests.dropFirst(2)
            #expect(synced.count == 2 && synced.allSatisfy { $0["sourceType"] as? String == "Sync" })
            #expect(synced.allSatisfy { $0["sourceInfo"] as? String == source.url })
        }

        // The command line reads `access.write_plugin` from martlet.yaml.
        let folder = plugin.folder.appendingPathComponent("command")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("martlet.yaml")
        try "access:\n  write_plugin: \(plugin.path)\n".write(to: config, atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("events.jsonl")
        let another = Author().event(content: "a third archive")
        try another.jsonString.write(to: file, atomically: true, encoding: .utf8)
        let run = try await MartletCommand.run(["import", file.path, "--config", config.path, "--data", folder.path + "/data"])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.errors.contains("line 1: blocked: not on white-list"), "\(run.errors)")
        #expect(plugin.requests.last?["sourceType"] as? String == "Import")
    }

    @Test("a plugin that dies is started again; the event it died on is refused as error:")
    func diesAndRestarts() async throws {
        // Exits without answering the event that says so; accepts the rest.
        let plugin = try Plugin(decide: #"sys.exit(1) if req["event"]["content"] == "die" else {"action": "accept"}"#)
        defer { plugin.remove() }
        try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: plugin.path) }) { relay in
            let client = try await relay.connect()
            let before = try await client.publishAndWait(Author().event(content: "before"))
            #expect(before.accepted, "\(before)")
            let fatal = try await client.publishAndWait(Author().event(content: "die"))
            #expect(!fatal.accepted && fatal.message.hasPrefix("error:"), "\(fatal)")
            let after = try await client.publishAndWait(Author().event(content: "after"))
            #expect(after.accepted, "the next event is judged by a new plugin: \(after)")
            await client.close()
        }
        let pids = plugin.requests.compactMap { $0["pid"] as? Int }
        #expect(pids.count == 3 && pids[0] == pids[1] && pids[1] != pids[2], "\(pids)")
    }

    @Test("a plugin that hangs is killed after the timeout and replaced; fail-open accepts what it held")
    func hangs() async throws {
        let decide = #"time.sleep(3600) if req["event"]["content"] == "hang" else {"action": "accept"}"#
        for failOpen in [false, true] {
            let plugin = try Plugin(decide: decide)
            defer { plugin.remove() }
            let configuration = WritePlugin.Configuration(command: plugin.path, timeout: .milliseconds(500), failOpen: failOpen)
            try await TestRelay.with(configure: { $0.access.writePlugin = configuration }) { relay in
                let client = try await relay.connect()
                // The plugin's first answer: from then on the timeout alone applies.
                let before = try await client.publishAndWait(Author().event(content: "before"))
                #expect(before.accepted, "\(before)")
                let hung = try await client.publishAndWait(Author().event(content: "hang"))
                if failOpen {
                    #expect(hung.accepted, "fail-open accepts an event the plugin could not judge: \(hung)")
                } else {
                    #expect(!hung.accepted && hung.message.hasPrefix("error:"), "\(hung)")
                }
                let after = try await client.publishAndWait(Author().event(content: "after"))
                #expect(after.accepted, "a fresh plugin judges the next event: \(after)")
                await client.close()

                let pids = plugin.requests.compactMap { $0["pid"] as? Int }
                #expect(pids.count == 3 && pids[0] == pids[1] && pids[1] != pids[2], "\(pids)")
                let stuck = try #require(pids.first)
                #expect(
                    await waitUntil { kill(pid_t(stuck), 0) != 0 }, "the hung plugin was killed, not left behind")
            }
        }
    }

    @Test("a plugin whose file changes is replaced on the next write")
    func reloadsOnChange() async throws {
        let plugin = try Plugin(decide: #"{"action": "reject", "msg": "blocked: version one"}"#)
        defer { plugin.remove() }
        try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: plugin.path) }) { relay in
            let client = try await relay.connect()
            let first = try await client.publishAndWait(Author().event(content: "one"))
            #expect(first.message == "blocked: version one", "\(first)")
            try plugin.write(decide: #"{"action": "accept"}"#)
            let second = try await client.publishAndWait(Author().event(content: "two"))
            #expect(second.accepted, "the new version judges the next event: \(second)")
            await client.close()
        }
    }

    @Test("a plugin that cannot start refuses writes as error:, not silently")
    func cannotStart() async throws {
        let missing = "/nonexistent/martlet-plugin-\(UUID().uuidString)"
        try await TestRelay.with(configure: { $0.access.writePlugin = .init(command: missing, timeout: .seconds(2)) }) {
            relay in
            let client = try await relay.connect()
            let answer = try await client.publishAndWait(Author().event(content: "nobody to ask"))
            #expect(!answer.accepted && answer.message.hasPrefix("error:"), "\(answer)")
            await client.close()
        }
    }

    @Test("a plugin's message without a NIP-01 prefix is a blocked: refusal in its words")
    func messagePrefixes() {
        #expect(WritePlugin.reason(fromMessage: "rate-limited: slow down") == .rateLimited("slow down"))
        #expect(WritePlugin.reason(fromMessage: "spam") == .blocked("spam"))
        #expect(WritePlugin.reason(fromMessage: "") == .blocked("rejected by the write plugin"))
    }
}
