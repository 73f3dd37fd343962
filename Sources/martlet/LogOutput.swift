import Foundation
import Logging
import Synchronization

/// `log.format`: lines for people (`text`, swift-log's own) or one JSON object per line for
/// journald and log shippers (`json`).
enum LogFormat: String, CaseIterable {
    case text, json
}

extension Settings {
    /// Sends every logger of this process to stderr in `log.format`, at `log.level` or, for
    /// a command that only wants its warnings, at `floor` when that is higher.
    func bootstrapLogging(floor: Logger.Level = .trace) {
        let level = max(Logger.Level(rawValue: logLevel) ?? .info, floor)
        let format = logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// One JSON object per line on stderr:
/// `{"time":"2026-12-03T04:40:07.123Z","level":"info","label":"martlet","message":"connection opened","session":"7","remote":"203.0.113.7"}`.
/// Metadata keys sit beside the fixed ones (a key named like one of them is prefixed `meta_`).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let reserved: Set<String> = ["time", "level", "label", "message", "source"]
    /// Lines from many threads must not interleave.
    private static let output = Mutex(())

    func log(event: LogEvent) {
        var fields: [String: String] = [
            "time": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged {
            fields[Self.reserved.contains(key) ? "meta_" + key : key] = "\(value)"
        }
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }
}
