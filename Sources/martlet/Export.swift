import ArgumentParser
import Foundation
import MartletServer
import MartletStore
import NostrCore

/// `martlet export`: the stored events as JSONL on stdout, newest first.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export stored events as JSONL (one event a line) to standard output.",
        discussion: "Each line is the event exactly as stored and served. A count goes to stderr at the end.")

    @Option(help: "Folder of the SQLite store (default: the one `serve` uses).") var data: String?
    @Option(help: "PostgreSQL URL to export from instead of SQLite.") var database: String?
    @Option(help: "NIP-01 filter (JSON) of the events to export; its limit caps the count.") var filter = "{}"
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

    func validate() throws {
        _ = try parsedFilter()
    }

    private func parsedFilter() throws -> Filter {
        try filterOption(filter)
    }

    func run() async throws {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        let path = URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("martlet.sqlite").path
        guard settings.database != nil || FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no store at \(path)")
        }
        let store = try await settings.openStore().store
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        func flush() {
            FileHandle.standardOutput.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
        do {
            let count = try await EventExport.run(store: store, filter: try parsedFilter()) { line in
                buffer.append(contentsOf: line)
                if buffer.count >= 1 << 16 { flush() }
            }
            flush()
            try await store.close()
            FileHandle.standardError.write(Data("export: \(count) events\n".utf8))
        } catch {
            try? await store.close()
            throw error
        }
    }
}
