import ArgumentParser
import Foundation
import Logging
import MartletRelay
import MartletServer
import MartletStore
import NostrCore

/// `martlet import <file.jsonl>`: loads events into the store as the relay would accept them.
///
/// Every line goes through the relay's ingest pipeline under the same configuration as
/// `serve` (and the bans made over NIP-86): id and signature, then every write policy but
/// those about a connection. Safe beside a running relay: SQLite's WAL lets both write, and PostgreSQL is
/// shared by design.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import events from a JSONL file (one event a line; - reads standard input).",
        discussion: """
            Progress and each rejected line (with its reason) go to stderr; the summary line \
            alone goes to stdout:
              import: N lines, S saved, D already stored, R rejected (invalid: 2, blocked: 1)
            """)

    @Argument(help: "The JSONL file, or - for standard input.") var file: String
    @Option(help: "Folder of the SQLite store (default: the one `serve` uses).") var data: String?
    @Option(help: "PostgreSQL URL to import into instead of SQLite.") var database: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?
    @Option(help: "Events in the pipeline at once (the writer commits them together).") var batchSize = 1000

    func run() async throws {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        settings.bootstrapLogging(floor: .warning)
        // A line past the relay's message limit is refused without being read whole.
        guard let lines = LineReader(path: file, maxLineLength: settings.relay.limits.maxMessageLength) else {
            throw ValidationError("cannot open \(file)")
        }
        let store = try await settings.openStore().store
        let relay = Relay(configuration: settings.relay, store: store, logger: Logger(label: "martlet.import"))
        let status = StatusLine()
        do {
            try await RelayAdministration(relay: relay).restore()
            let report = try await relay.withIngest {
                await EventImport(relay: relay, batchSize: batchSize).run(lines) { progress in
                    switch progress {
                    case .committed(let report): status.update(report.description)
                    case .rejected(let line, let reason): status.line("line \(line): \(reason)")
                    }
                }
            }
            status.finish()
            try await store.close()
            print(report)
        } catch {
            status.finish()
            try? await store.close()
            throw error
        }
    }
}
