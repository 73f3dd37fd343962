import ArgumentParser
import Foundation
import MartletServer
import MartletStore
import NostrCore

/// Where the inspection commands read: the default relay's store (SQLite or PostgreSQL, as
/// `serve` opens it) or a hosted relay's (`--relay <key>`).
struct StoreSelection: ParsableArguments {
    @Option(help: "A hosted relay's key (default: the default relay).") var relay: String?
    @Option(help: "Folder of the SQLite stores.") var data: String?
    @Option(help: "PostgreSQL URL of the store (a hosted relay's is a schema of its own there).") var database: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?
    @Flag(help: "A compact table instead of one JSON event a line.") var table = false

    func validate() throws {
        if let relay { _ = try relayKey(relay) }
    }

    /// Opens the store, runs `body` on it and closes it.
    func withStore<T>(_ body: (any EventStore) async throws -> T) async throws -> T {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        settings.bootstrapLogging(floor: .warning)
        let store: any EventStore
        if let relay, let key = HostedRelayKey(relay) {
            let folder = HostedRelayFolder(dataDirectory: settings.dataDirectory)
            guard folder.manifest(of: key) != nil else {
                throw CommandFailure("no hosted relay \(key) in \(settings.dataDirectory)")
            }
            store = try await settings.hostedStorage.openStore(
                for: key, in: folder, searchableKinds: settings.relay.search.kinds)
        } else {
            store = try await settings.openStore().store
        }
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    func print(_ events: [Event]) {
        if table {
            Swift.print(EventTable.header)
            for event in events { Swift.print(EventTable.row(event)) }
        } else {
            for event in events { Swift.print(String(decoding: event.json, as: UTF8.self)) }
        }
    }
}

/// The compact table: short id, time, kind, short author, the content's start on one line.
enum EventTable {
    static let header = "id            created_at            kind   pubkey        content"

    static func row(_ event: Event) -> String {
        let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(event.createdAt)))
        var content = event.content.replacingOccurrences(of: "\n", with: " ")
        if content.count > 60 { content = String(content.prefix(59)) + "…" }
        let kind = "\(event.kind.rawValue)".padding(toLength: 6, withPad: " ", startingAt: 0)
        return "\(event.id.hex.prefix(12))  \(time)  \(kind) \(event.pubkey.hex.prefix(12))  \(content)"
    }
}

/// `martlet list`: the newest events of a store.
struct ListEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the newest events of the default or a hosted relay's store.")

    @Option(help: "How many events, newest first.") var limit = 50
    @OptionGroup var store: StoreSelection

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let limit = limit
        let events = try await store.withStore { store in
            try await store.query([Filter(limit: limit)], maxLimit: limit, now: Int64(Duration.secondsSinceEpoch))
        }
        store.print(events)
    }
}

/// `martlet get <id>`: one event by id.
struct GetEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print one event of the default or a hosted relay's store by its id.")

    @Argument(help: "The event's id (64 hex characters).") var id: String
    @OptionGroup var store: StoreSelection

    func validate() throws {
        guard id.utf8.count == 64, EventID(hex: id.lowercased()) != nil else {
            throw CommandFailure("\"\(id.prefix(80))\" is not an event id (64 hex characters)")
        }
    }

    func run() async throws {
        let id = EventID(hex: id.lowercased())!
        let events = try await store.withStore { store in
            try await store.query([Filter(ids: [id])], maxLimit: 1, now: Int64(Duration.secondsSinceEpoch))
        }
        guard !events.isEmpty else { throw CommandFailure("no event \(id) in this store") }
        store.print(events)
    }
}

/// `martlet query '<filter>'`: the events a NIP-01 filter matches.
struct QueryEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Print the events a NIP-01 filter matches in the default or a hosted relay's store.")

    @Argument(help: "A NIP-01 filter, as JSON: '{\"kinds\":[1],\"limit\":10}'.") var filter: String
    @Option(help: "At most this many events (a filter's own limit counts when smaller).") var limit = 500
    @OptionGroup var store: StoreSelection

    func validate() throws {
        do {
            _ = try Filter.decode(json: Array(filter.utf8))
        } catch {
            throw CommandFailure("the filter is not a NIP-01 filter: \(error.reason)")
        }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let parsed = try Filter.decode(json: Array(filter.utf8))
        let limit = limit
        let events = try await store.withStore { store in
            try await store.query([parsed], maxLimit: limit, now: Int64(Duration.secondsSinceEpoch))
        }
        store.print(events)
    }
}
