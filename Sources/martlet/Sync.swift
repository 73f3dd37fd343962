import ArgumentParser
import Foundation
import Logging
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import NostrCore

/// `martlet sync <relay-url>`: one NIP-77 sync of the local store with another relay.
///
/// It opens the same store as `serve`: the SQLite file (safe while a relay serves it: WAL
/// mode lets another process read and write beside it) or, with `--database`, the
/// PostgreSQL database the relay nodes share, so a running relay's store can be filled
/// from a peer. Downloaded events go through the relay's ingest pipeline under the same
/// configuration as `serve` and the lists changed over NIP-86: id, signature and every
/// write policy but those about a connection. Progress goes to stderr; the summary line alone goes to stdout.
struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sync the local store with another relay over NIP-77 negentropy.",
        discussion: """
            Reconciles the events matching --filter with the relay, then downloads what is \
            missing here (each event checked as if it were published here) and uploads what \
            the relay lacks. Ends with one line on stdout:
              sync: have N, need M, downloaded X, uploaded Y, rejected Z
            """)

    @Argument(help: "The relay to sync with (ws:// or wss://).") var url: String
    @Option(help: "Folder of the SQLite store (default: the one `serve` uses).") var data: String?
    @Option(help: "PostgreSQL URL of the store to sync instead of SQLite.") var database: String?
    @Option(help: "NIP-01 filter (JSON) of the events to sync.") var filter = "{}"
    @Option(help: "down (fetch only), up (publish only) or both.") var direction = "both"
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?
    @Option(help: "Seconds to wait for any reply from the relay.") var timeout = 30

    func validate() throws {
        guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else {
            throw ValidationError("the relay URL must start with ws:// or wss://")
        }
        guard RelaySync.Direction(rawValue: direction) != nil else {
            throw ValidationError("--direction must be down, up or both")
        }
        _ = try parsedFilter()
    }

    private func parsedFilter() throws -> Filter {
        try filterOption(filter)
    }

    func run() async throws {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        // The summary and the progress lines say what happened; logs are for trouble.
        settings.bootstrapLogging(floor: .warning)
        var options = RelaySync.Options()
        options.filter = try parsedFilter()
        options.direction = RelaySync.Direction(rawValue: direction) ?? .both
        options.frameSizeLimit = settings.relay.negentropy.initiatorFrameSizeLimit
        options.replyTimeout = .seconds(timeout)

        let store = try await settings.openStore().store
        let relay = Relay(configuration: settings.relay, store: store, logger: Logger(label: "martlet.sync"))
        let sync = RelaySync(relay: relay, remote: url, options: options, logger: Logger(label: "martlet.sync"))
        let display = ProgressDisplay()
        do {
            try await RelayAdministration(relay: relay).restore()
            let report = try await relay.withIngest { try await sync.run(progress: display.show) }
            display.finish()
            try await store.close()
            print(report)
        } catch {
            display.finish()
            try? await store.close()
            throw error
        }
    }
}

/// Sync progress on stderr: rounds and counts on the status line, refusals on lines of their own.
private final class ProgressDisplay: Sendable {
    private let output = StatusLine()

    func show(_ progress: RelaySync.Progress) {
        switch progress {
        case .reconciling(let count):
            line("sync: \(count) local events match the filter; reconciling")
        case .round(let difference):
            status("sync: round \(difference.rounds): have \(difference.have.count), need \(difference.need.count)")
        case .downloaded(let done, let total):
            status("sync: downloaded \(done)/\(total)")
        case .uploaded(let done, let total):
            status("sync: uploaded \(done)/\(total)")
        case .rejected(let id, let reason):
            line("sync: rejected \(id): \(reason)")
        }
    }

    func finish() { output.finish() }
    private func status(_ text: String) { output.update(text) }
    private func line(_ text: String) { output.line(text) }
}
