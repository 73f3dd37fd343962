import ArgumentParser
import Foundation
import Logging
import MartletRelay
import MartletStore
import NostrCore

/// The options every maintenance command shares: which store, under which configuration.
struct StoreOptions: ParsableArguments {
    @Option(help: "Folder of the SQLite store (default: the one `serve` uses).") var data: String?
    @Option(help: "PostgreSQL URL instead of SQLite.") var database: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

    func settings() async throws -> Settings {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        return settings
    }

    /// The SQLite store that must already exist (a maintenance command never makes one).
    func existingSQLiteStore(for command: String) async throws -> SQLiteEventStore {
        let settings = try await settings()
        guard settings.database == nil else {
            throw ValidationError(
                "\(command) works on the SQLite store; for PostgreSQL use its own tools (see the README's Deploying section)")
        }
        let path = URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("martlet.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no store at \(path)") }
        return try SQLiteEventStore(path: path)
    }
}

/// `martlet backup <file>`: a consistent copy of the SQLite store, taken while the relay serves.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite store to a new file while the relay keeps serving.",
        discussion: """
            The copy is one consistent snapshot: every event acknowledged before the backup \
            began is in it. Restore by stopping the relay and putting the file in place of \
            <data>/martlet.sqlite (removing martlet.sqlite-wal and -shm).
            """)

    @Argument(help: "The file to write; it must not exist.") var file: String
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let sqlite = try await store.existingSQLiteStore(for: "backup")
        do {
            try await sqlite.backup(to: file)
            try await sqlite.close()
        } catch {
            try? await sqlite.close()
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber
        print("backup: \(file), \(ByteCount(size?.int64Value ?? 0))")
    }
}

/// `martlet compact`: gives the space of removed events back to the file system.
struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the SQLite store without the space removed events left.",
        discussion: "Writes wait while it runs: run it when the relay is quiet. Prints the size before and after.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let sqlite = try await store.existingSQLiteStore(for: "compact")
        let sizes: (before: Int64, after: Int64)
        do {
            sizes = try await sqlite.compact()
            try await sqlite.close()
        } catch {
            try? await sqlite.close()
            throw error
        }
        print("compact: \(ByteCount(sizes.before)) before, \(ByteCount(sizes.after)) after")
    }
}

/// `martlet delete --filter '<filter>' [--older-than 30d] [--dry-run]`: removes events by filter.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the stored events a NIP-01 filter matches.",
        discussion: """
            --older-than keeps what is newer than the age given (30d, 12h, 90m, 3600s or \
            seconds). --dry-run only counts. Works beside a running relay.
            """)

    @Option(help: "NIP-01 filter (JSON) of the events to remove.") var filter: String
    @Option(help: "Only events older than this (30d, 12h, 90m, 45s).") var olderThan: String?
    @Flag(help: "Count what would be removed; remove nothing.") var dryRun = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        _ = try filterOption(filter)
        if let olderThan, Self.seconds(olderThan) == nil {
            throw ValidationError("--older-than: \"\(olderThan)\" is not an age such as 30d, 12h, 90m or 45s")
        }
    }

    func run() async throws {
        let settings = try await store.settings()
        settings.bootstrapLogging(floor: .warning)
        let now = Int64(Date().timeIntervalSince1970)
        var matching = try filterOption(filter)
        if let age = olderThan.flatMap(Self.seconds) {
            matching.until = min(matching.until ?? .max, now - age - 1)
        }
        matching.limit = nil
        let eventStore = try await settings.openStore().store
        do {
            if dryRun {
                print("delete: \(try await eventStore.count([matching], now: now)) events match (dry run, nothing removed)")
            } else {
                // Through the relay, so that its rules of forgetting hold here too.
                let relay = Relay(configuration: settings.relay, store: eventStore, logger: Logger(label: "martlet.delete"))
                var removed = 0
                var batch = matching
                batch.limit = 1000
                while true {
                    let events = try await eventStore.query([batch], maxLimit: 1000, now: now)
                    if events.isEmpty { break }
                    let gone = try await relay.removeEvents(events.map(\.id))
                    removed += gone
                    if gone == 0 { break }
                }
                print("delete: \(removed) events removed")
            }
            try await eventStore.close()
        } catch {
            try? await eventStore.close()
            throw error
        }
    }

    /// `30d`, `12h`, `90m`, `45s` or bare seconds.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        guard let last = text.last else { return nil }
        if let unit = units[last] {
            return Int64(text.dropLast()).flatMap { $0 >= 0 ? $0 * unit : nil }
        }
        return Int64(text).flatMap { $0 >= 0 ? $0 : nil }
    }
}

/// A size for people: 1.2 MB.
struct ByteCount: CustomStringConvertible {
    let bytes: Int64
    init(_ bytes: Int64) { self.bytes = bytes }
    var description: String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}
