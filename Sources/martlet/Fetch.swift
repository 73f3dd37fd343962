import ArgumentParser
import Foundation
import Logging
import MartletDiscovery
import MartletRelay
import MartletReplication
import MartletStore
import NostrCore
import Synchronization

/// `martlet fetch <event-id> [--author <pubkey>]`: one missing note brought into the local
/// store from the relays that should have it.
///
/// The relays asked: those given with `--relay`, then, with `--author`, the author's NIP-65
/// write relays (their kind 10002 stored here, else found in the DHT from the pubkey alone,
/// through `discovery.bootstrap`), then `mesh.peers`. The event found is verified and goes
/// through the relay's ingest pipeline under the same configuration as `serve`, as from a
/// peer: every write policy applies. One line on stdout says what happened; the exit status
/// is 0 only when the event is stored here at the end.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a missing event by id from its author's relays.",
        discussion: """
            Asks the author's write relays (NIP-65, from the local store or the DHT), the relays \
            given with --relay and the mesh peers, and stores the event if one of them has it. \
            Ends with one line on stdout:
              fetch: <id> stored from <relay>   |   fetch: <id> already stored
              fetch: <id> refused: <reason>     |   fetch: <id> not found on N relays
            """)

    @Argument(help: "The id of the event (64 hex characters).") var id: String
    @Option(help: "The event's author (hex or npub): their relays are asked.") var author: String?
    @Option(name: .customLong("relay"), help: "A relay to ask as well (ws:// or wss://); may be repeated.")
    var relays: [String] = []
    @Option(help: "Folder of the SQLite store (default: the one `serve` uses).") var data: String?
    @Option(help: "PostgreSQL URL of the store instead of SQLite.") var database: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?
    @Option(help: "Seconds the whole search may take, DHT lookup included.") var timeout = 15

    func validate() throws {
        guard EventID(hex: id) != nil else { throw ValidationError("the event id must be 64 hex characters") }
        if let author, PublicKey(hexOrNpub: author) == nil {
            throw ValidationError("--author must be a public key (64 hex characters or npub1...)")
        }
        for url in relays where !(url.hasPrefix("ws://") || url.hasPrefix("wss://")) {
            throw ValidationError("--relay \(url): the relay URL must start with ws:// or wss://")
        }
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be from 1 to 3600 seconds") }
    }

    func run() async throws {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = max(level, .warning)
            return handler
        }
        let eventID = EventID(hex: id)!
        let author = self.author.flatMap(PublicKey.init(hexOrNpub:))
        let store = try await settings.openStore().store
        let relay = Relay(configuration: settings.relay, store: store, logger: Logger(label: "martlet.fetch"))
        let result: (line: String, stored: Bool)
        do {
            try await RelayAdministration(relay: relay).restore()
            result = try await relay.withIngest {
                try await fetch(eventID, author: author, relay: relay, settings: settings)
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        print(result.line)
        if !result.stored { throw ExitCode.failure }
    }

    private func fetch(
        _ eventID: EventID, author: PublicKey?, relay: Relay, settings: Settings
    ) async throws -> (line: String, stored: Bool) {
        if try await relay.store.contains(eventID) { return ("fetch: \(eventID) already stored", true) }
        let discovery = settings.discovery
        let authorRelays = AuthorRelays(store: relay.store) { author in
            await Discovery.lookUpRelayList(of: author, configuration: discovery)
        }
        let given = relays
        let peers = settings.mesh.peers
        let candidates: @Sendable () async -> [String] = {
            var seen = Set<String>()
            let theirs = author.map { [$0] } ?? []
            let all = given + (await authorRelays.relays(of: Set(theirs))) + peers
            return all.filter { seen.insert(RelayURL.normalize($0)).inserted }
        }
        let asked = AskedRelays()
        let found = await RemoteEventSearch.run(
            ids: [eventID], authors: author.map { [$0] } ?? [],
            relays: {
                let urls = await candidates()
                asked.count.store(urls.count, ordering: .relaxed)
                return urls
            },
            budget: .seconds(timeout), signer: settings.mesh.secretKey, logger: Logger(label: "martlet.fetch"))
        guard let hit = found.first else {
            return ("fetch: \(eventID) not found on \(asked.count.load(ordering: .relaxed)) relays", false)
        }
        switch await relay.ingest(hit.event, origin: .peer(hit.relay)) {
        case .accepted, .duplicate(.alreadyStored): return ("fetch: \(eventID) stored from \(hit.relay)", true)
        case .duplicate(.superseded): return ("fetch: \(eventID) refused: a newer version is stored", false)
        case .refused(let reason): return ("fetch: \(eventID) refused: \(reason.message)", false)
        case .shadowRejected: return ("fetch: \(eventID) refused silently by a write policy", false)
        }
    }
}

/// How many relays a fetch asked, known only once the search has found them.
private final class AskedRelays: Sendable {
    let count = Atomic<Int>(0)
}
