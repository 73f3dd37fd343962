import Foundation
import MartletRelay
import MartletServer
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// `martlet export` writes the stored events as JSONL and `martlet import` loads JSONL under
/// the relay's own rules; exporting, importing into a fresh store and exporting again gives
/// the same lines.
@Suite("Import and export")
struct ImportExportTests {
    /// A varied store: notes sharing one second (more than a page), a replaced profile, an
    /// addressable event, a deletion and what it deleted.
    private func sampleEvents() -> [Event] {
        let alice = Author()
        let bob = Author()
        let second = now() - 100
        var events = (0..<7).map { alice.event(content: "note \($0)", createdAt: second) }
        events.append(alice.event(kind: 0, content: #"{"name":"old"}"#, createdAt: second - 10))
        events.append(alice.event(kind: 0, content: #"{"name":"alice"}"#, createdAt: second - 5))
        events.append(bob.event(kind: 30023, content: "article", tags: [["d", "post"]], createdAt: second - 20))
        let doomed = bob.event(content: "regret", createdAt: second - 30)
        events.append(doomed)
        events.append(bob.event(kind: 5, content: "", tags: [["e", doomed.id.hex]], createdAt: second - 1))
        events.append(bob.event(kind: 7, content: "+", tags: [["e", events[0].id.hex]], createdAt: second + 1))
        return events
    }

    private func export(_ store: any EventStore, filter: Filter = Filter(), pageSize: Int = 3) async throws -> [String] {
        var lines: [String] = []
        _ = try await EventExport.run(store: store, filter: filter, pageSize: pageSize) { bytes in
            lines.append(String(decoding: bytes, as: UTF8.self))
        }
        return lines
    }

    @Test("export, import into a fresh store, export again: the same set of lines")
    func roundTrip() async throws {
        try await TestRelay.with { source in
            let client = try await source.connect()
            for event in sampleEvents() { _ = try await client.publishAndWait(event) }
            await client.close()
            let first = try await export(source.relay.store)
            #expect(first.count == 11, "the old profile and the deleted note are not stored")
            #expect(Set(first).count == first.count, "paging within one second repeats no event")
            #expect(first.allSatisfy { $0.hasSuffix("}\n") })

            try await TestRelay.with { target in
                let report = await EventImport(relay: target.relay, batchSize: 4)
                    .run(first.map { Array($0.utf8) })
                #expect(report.lines == 11 && report.saved == 11 && report.rejected == 0)
                let second = try await export(target.relay.store, pageSize: 1000)
                #expect(Set(second) == Set(first))
                #expect(second == first, "both are newest first")

                let again = await EventImport(relay: target.relay).run(first.map { Array($0.utf8) })
                #expect(again.alreadyStored == 11 && again.saved == 0)
            }
        }
    }

    @Test("import refuses what the relay would refuse and says why, line by line")
    func rejections() async throws {
        let banned = Author()
        try await TestRelay.with(configure: { $0.access.bannedPubkeys = [banned.pubkey] }) { relay throws in
            let good = Author().event(content: "fine")
            let forged = String(decoding: Author().event(content: "forged").json, as: UTF8.self)
                .replacingOccurrences(of: "forged", with: "altered")
            let lines = [
                good.jsonString, "", "not json", forged, banned.event(content: "banned").jsonString,
                Author().event(kind: 20001, content: "ephemeral").jsonString,
                Author().event(content: "expired", tags: [["expiration", String(now() - 10)]]).jsonString,
            ]
            var rejected: [Int: String] = [:]
            let report = await EventImport(relay: relay.relay).run(lines.map { Array($0.utf8) }) { progress in
                if case .rejected(let line, let reason) = progress { rejected[line] = reason }
            }
            #expect(report.lines == 6 && report.saved == 1 && report.rejected == 5)
            #expect(rejected[3]?.hasPrefix("invalid:") == true, "line 3 is not JSON")
            #expect(rejected[4]?.contains("id does not match") == true)
            #expect(rejected[5]?.hasPrefix("blocked:") == true)
            #expect(rejected[6]?.contains("ephemeral") == true)
            #expect(rejected[7]?.contains("expired") == true)
            #expect(report.rejectedByPrefix == ["invalid": 4, "blocked": 1])
            #expect(try await relay.relay.store.contains(good.id))
        }
    }

    @Test("a line longer than limits.max_message_length is refused invalid:, counted, and the import goes on")
    func overlongLine() async throws {
        try await TestRelay.with(configure: { $0.limits.maxMessageLength = 4096 }) { relay throws in
            let author = Author()
            let before = author.event(content: "before")
            let long = author.event(content: String(repeating: "x", count: 10_000))
            let after = author.event(content: "after")
            var rejected: [Int: String] = [:]
            let lines = [before, long, after].map { Array($0.jsonString.utf8) }
            let report = await EventImport(relay: relay.relay).run(lines) { progress in
                if case .rejected(let line, let reason) = progress { rejected[line] = reason }
            }
            #expect(report.lines == 3 && report.saved == 2 && report.rejected == 1)
            #expect(rejected[2] == "invalid: line is longer than 4096 bytes (limits.max_message_length)")
            #expect(try await relay.relay.store.contains(after.id))
            #expect(try await relay.relay.store.contains(long.id) == false)
        }
    }

    @Test("LineReader keeps only the head of an overlong line, skips the rest, and reads on")
    func lineReaderSkipsOverlongLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-lines-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let huge = [UInt8](repeating: UInt8(ascii: "y"), count: 400_000)
        let text = Array("first\n".utf8) + huge + Array("\nthird\n".utf8) + huge + Array("\nlast".utf8)
        try Data(text).write(to: file)
        let lines = Array(try #require(LineReader(path: file.path, maxLineLength: 1000, chunkSize: 4096)))
        #expect(lines.count == 5)
        #expect(lines.map(\.count) == [5, 1001, 5, 1001, 4])
        #expect(lines[0] == Array("first".utf8) && lines[2] == Array("third".utf8) && lines[4] == Array("last".utf8))
        let unlimited = Array(try #require(LineReader(path: file.path)))
        #expect(unlimited.map(\.count) == [5, 400_000, 5, 400_000, 4])
    }

    @Test("martlet import refuses a 3 MB line over max_message_length on stderr and imports the others")
    func commandLineOverlongLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let author = Author()
        let file = directory.appendingPathComponent("events.jsonl")
        let huge = #"{"content":""# + String(repeating: "z", count: 3_000_000) + #""}"#
        let input = [author.event(content: "one").jsonString, huge, author.event(content: "three").jsonString]
        try input.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let data = directory.appendingPathComponent("data").path

        let imported = try await martlet(
            ["import", file.path, "--data", data], environment: ["MARTLET_LIMITS_MAX_MESSAGE_LENGTH": "4096"])
        #expect(imported.status == 0)
        #expect(imported.stdout == "import: 3 lines, 2 saved, 0 already stored, 1 rejected (invalid: 1)\n")
        #expect(imported.stderr.contains("line 2: invalid: line is longer than 4096 bytes"))
    }

    @Test("export takes a NIP-01 filter, and its limit caps the count")
    func filteredExport() async throws {
        try await TestRelay.with { relay in
            let client = try await relay.connect()
            for event in sampleEvents() { _ = try await client.publishAndWait(event) }
            await client.close()
            let notes = try await export(relay.relay.store, filter: Filter(kinds: [1]))
            #expect(notes.count == 7 && notes.allSatisfy { $0.contains(#""kind":1,"#) })
            #expect(try await export(relay.relay.store, filter: Filter(kinds: [1], limit: 5)).count == 5)
        }
    }

    @Test("the martlet binary imports a file and exports it back, and the relay serves what was imported")
    func commandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let events = sampleEvents().filter { $0.kind == 1 && $0.content.hasPrefix("note") }
        let file = directory.appendingPathComponent("events.jsonl")
        let input = events.map(\.jsonString).joined(separator: "\n") + "\n{\"broken\": true}\n"
        try input.write(to: file, atomically: true, encoding: .utf8)
        let data = directory.appendingPathComponent("data").path

        let imported = try await martlet(["import", file.path, "--data", data, "--batch-size", "3"])
        #expect(imported.status == 0)
        #expect(imported.stdout == "import: 8 lines, 7 saved, 0 already stored, 1 rejected (invalid: 1)\n")
        #expect(imported.stderr.contains("line 8: invalid:"))

        let exported = try await martlet(["export", "--data", data])
        #expect(exported.status == 0)
        #expect(Set(exported.stdout.split(separator: "\n").map(String.init)) == Set(events.map(\.jsonString)))
        let filtered = try await martlet(["export", "--data", data, "--filter", #"{"limit":2}"#])
        #expect(filtered.stdout.split(separator: "\n").count == 2)

        let relay = try await RelayProcess.start(data: URL(fileURLWithPath: data))
        let client = try await relay.connect()
        #expect(try await client.query("all", "{}").count == 7)
        await client.close()
        await relay.stop(signal: SIGTERM)
    }

    @Test("a ban made over NIP-86 holds after the martlet process restarts")
    func banSurvivesProcessRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-ban-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let admin = Author()
        let spammer = Author()
        let environment = ["MARTLET_MANAGEMENT_ADMIN_PUBKEYS": admin.pubkey.hex]
        let first = try await RelayProcess.start(data: directory, environment: environment)
        #expect(try await first.manage("banpubkey", [spammer.pubkey.hex, "spam"], as: admin).succeeded)
        await first.stop(signal: SIGTERM)

        let second = try await RelayProcess.start(data: directory, environment: environment)
        let client = try await second.connect()
        #expect(try await client.refusal(of: spammer.event(content: "back again"))?.hasPrefix("blocked:") == true)
        await client.close()
        await second.stop(signal: SIGTERM)
    }

    /// Runs the martlet binary to completion.
    private func martlet(
        _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = RelayProcess.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try await spawn(process)
        async let out = blocking { output.fileHandleForReading.readDataToEndOfFile() }
        async let err = blocking { errors.fileHandleForReading.readDataToEndOfFile() }
        let (stdout, stderr) = await (out, err)
        await waitForExit(process)
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
