import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// What operators do to a store: retention rules the purge enforces, `martlet delete`,
/// `martlet backup` while the relay serves, and `martlet compact`.
@Suite("Retention, delete, backup and compact")
struct MaintenanceTests {
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    @Test("retention rules: notes past their time and an author's reactions past their count are purged, nothing else")
    func retentionRules() async throws {
        let author = Author()
        let other = Author()
        let now = Self.now
        let oldNote = author.event(content: "two hours old", createdAt: now - 7_200)
        let newNote = author.event(content: "a minute old", createdAt: now - 60)
        let reactions = (1...4).map { author.event(kind: 7, content: "+\($0)", createdAt: now - Int64(600 * $0)) }
        let othersReaction = other.event(kind: 7, content: "+", createdAt: now - 5_000)
        try await TestRelay.with(configure: {
            $0.purgeInterval = .milliseconds(100)
            $0.retention = [
                RetentionRule(kinds: [.kind(1)], time: 3_600),
                RetentionRule(kinds: [.kind(7)], count: 2),
            ]
        }) { relay in
            let store = relay.relay.store
            _ = try await store.save([oldNote, newNote, othersReaction] + reactions)
            #expect(
                try await waitUntil {
                    let oldNoteKept = try await store.contains(oldNote.id)
                    let oldestReactionKept = try await store.contains(reactions[3].id)
                    return !oldNoteKept && !oldestReactionKept
                }, "the purge applies both rules")
            #expect(try await store.contains(newNote.id), "a note within its time stays")
            // The two newest reactions of the author stay; the other author's single one too.
            #expect(try await store.contains(reactions[0].id))
            #expect(try await store.contains(reactions[1].id))
            #expect(try await store.contains(reactions[2].id) == false)
            #expect(try await store.contains(othersReaction.id))
        }
    }

    @Test("the retention rules in martlet.yaml are advertised as NIP-11 retention, before relay.retention")
    func retentionAdvertised() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let yaml = """
            retention: '[{"kinds":[1,[5,7]],"time":3600},{"kinds":[[30000,39999]],"count":10}]'
            relay:
              retention: '[{"time":86400}]'
            """
        let file = folder.appendingPathComponent("martlet.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let relay = try await RelayProcess.start(data: folder.appendingPathComponent("data"), arguments: ["--config", file.path])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let body = try await HTTPGet.run(request).body
        #expect(await relay.stop(signal: SIGTERM) == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let expected = #"[{"kinds":[1,[5,7]],"time":3600},{"kinds":[[30000,39999]],"count":10},{"time":86400}]"#
        #expect(document["retention"] as? NSArray == (try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSArray))
    }

    @Test("martlet delete: --dry-run counts, --older-than keeps what is newer, the filter keeps other kinds")
    func deleteCommand() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let author = Author()
        let old = (1...3).map { author.event(content: "old \($0)", createdAt: Self.now - 90_000 - Int64($0)) }
        let recent = author.event(content: "recent", createdAt: Self.now - 60)
        let oldReaction = author.event(kind: 7, content: "+", createdAt: Self.now - 90_000)
        let store = try SQLiteEventStore(path: folder.appendingPathComponent("martlet.sqlite").path)
        _ = try await store.save(old + [recent, oldReaction])
        try await store.close()

        let arguments = ["delete", "--filter", #"{"kinds":[1]}"#, "--older-than", "1d", "--data", folder.path]
        let dry = try await MartletCommand.run(arguments + ["--dry-run"])
        #expect(dry.status == 0, "\(dry.errors)")
        #expect(dry.output == "delete: 3 events match (dry run, nothing removed)\n")
        let run = try await MartletCommand.run(arguments)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output == "delete: 3 events removed\n")

        let after = try SQLiteEventStore(path: folder.appendingPathComponent("martlet.sqlite").path)
        for event in old { #expect(try await after.contains(event.id) == false) }
        #expect(try await after.contains(recent.id), "newer than --older-than")
        #expect(try await after.contains(oldReaction.id), "not of the filter's kinds")
        try await after.close()

        let bad = try await MartletCommand.run(["delete", "--filter", "{}", "--older-than", "soon", "--data", folder.path])
        #expect(bad.status != 0 && bad.errors.contains("--older-than"), "\(bad.errors)")
    }

    @Test("martlet backup while the relay serves holds every event acknowledged before it began; compact shrinks the file")
    func backupWhileServing() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let backup = folder.appendingPathComponent("backup.sqlite")
        try await TestRelay.with(directory: data) { relay in
            let client = try await relay.connect()
            var acknowledged: [EventID] = []
            for index in 0..<200 {
                let event = Author().event(content: "acknowledged \(index) " + String(repeating: "x", count: 500))
                let answer = try await client.publishAndWait(event)
                #expect(answer.accepted)
                acknowledged.append(event.id)
            }
            // Writes go on while the backup runs.
            let writer = try await relay.connect()
            let writing = Task {
                for index in 0..<200 { _ = try await writer.publishAndWait(Author().event(content: "during \(index)")) }
            }
            let run = try await MartletCommand.run(["backup", backup.path, "--data", data.path])
            try await writing.value
            await writer.close()
            await client.close()
            #expect(run.status == 0, "\(run.errors)")
            #expect(run.output.hasPrefix("backup: \(backup.path), "), "\(run.output)")

            let copy = try SQLiteEventStore(path: backup.path)
            for id in acknowledged { #expect(try await copy.contains(id)) }
            try await copy.close()

            let again = try await MartletCommand.run(["backup", backup.path, "--data", data.path])
            #expect(again.status != 0 && again.errors.contains("exists already"), "never overwrites: \(again.errors)")
        }

        // Removed events leave free pages; compact gives them back.
        let removal = try await MartletCommand.run(["delete", "--filter", #"{"kinds":[1]}"#, "--data", data.path])
        #expect(removal.status == 0, "\(removal.errors)")
        let path = data.appendingPathComponent("martlet.sqlite").path
        let before = try await Self.bytesOnDisk(path)
        let compact = try await MartletCommand.run(["compact", "--data", data.path])
        #expect(compact.status == 0, "\(compact.errors)")
        #expect(compact.output.hasPrefix("compact: ") && compact.output.contains(" before, "), "\(compact.output)")
        let after = try await Self.bytesOnDisk(path)
        #expect(after < before, "the removed notes' pages are given back: \(before) -> \(after) bytes")
    }

    private static func bytesOnDisk(_ path: String) async throws -> Int64 {
        let store = try SQLiteEventStore(path: path)
        let bytes = try await store.stats().bytesOnDisk
        try await store.close()
        return bytes
    }

    private static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-maintenance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
