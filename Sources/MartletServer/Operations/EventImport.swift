public import MartletRelay
import MartletStore
import NostrCore

/// Loads events from JSONL (one event object a line) into a relay's store, as the relay
/// would have accepted them: each line is decoded, its id and signature verified, and the
/// relay's own write policies asked (`Relay.importRefusal`) before it is saved, in batches
/// of one transaction each. A line longer than `limits.max_message_length` is refused
/// `invalid:` as the relay refuses such a message (`LineReader` hands over only its first
/// bytes). `martlet import` is this type behind a command line.
///
/// ```swift
/// let importer = EventImport(relay: relay)
/// let report = try await importer.run(lines) { progress in print(progress) }
/// print(report) // import: 3 lines, 2 saved, 1 already stored, 0 rejected
/// ```
public struct EventImport: Sendable {
    /// The outcome so far.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// Non-empty lines read.
        public var lines = 0
        public var saved = 0
        /// Events the store had already (the same id).
        public var alreadyStored = 0
        public var rejected = 0
        /// Rejections by NIP-01 prefix (`invalid`, `blocked`, …).
        public var rejectedByPrefix: [String: Int] = [:]

        public init() {}

        public var description: String {
            var text = "import: \(lines) lines, \(saved) saved, \(alreadyStored) already stored, \(rejected) rejected"
            if !rejectedByPrefix.isEmpty {
                text += " (" + rejectedByPrefix.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                    .joined(separator: ", ") + ")"
            }
            return text
        }
    }

    /// What the importer tells as it goes.
    public enum Progress: Sendable {
        /// A batch was committed; the totals so far.
        case committed(Report)
        /// One line was refused (1-based line number, NIP-01 style reason).
        case rejected(line: Int, reason: String)
    }

    public let relay: Relay
    /// Events per transaction.
    public var batchSize: Int

    public init(relay: Relay, batchSize: Int = 1000) {
        self.relay = relay
        self.batchSize = max(1, batchSize)
    }

    /// Imports every line of `lines` (each a JSON event, blank lines skipped).
    public func run<Lines: Sequence<[UInt8]>>(
        _ lines: Lines, progress: (Progress) -> Void = { _ in }
    ) async throws -> Report {
        var report = Report()
        var batch: [(line: Int, event: Event)] = []
        var number = 0
        func reject(_ line: Int, _ reason: String) {
            report.rejected += 1
            let prefix = reason.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "error"
            report.rejectedByPrefix[prefix, default: 0] += 1
            progress(.rejected(line: line, reason: reason))
        }
        let maxLength = relay.configuration.limits.maxMessageLength
        for line in lines {
            number += 1
            guard line.contains(where: { !Self.isSpace($0) }) else { continue }
            report.lines += 1
            if line.count > maxLength {
                reject(number, "invalid: line is longer than \(maxLength) bytes (limits.max_message_length)")
                continue
            }
            let event: Event
            do {
                event = try EventDecoder.decode(json: line)
            } catch {
                reject(number, error.reason)
                continue
            }
            if let refusal = await relay.importRefusal(event) {
                reject(number, refusal.message)
                continue
            }
            batch.append((number, event))
            if batch.count >= batchSize {
                for (line, reason) in try await save(batch, into: &report) { reject(line, reason) }
                batch.removeAll(keepingCapacity: true)
                progress(.committed(report))
            }
        }
        if !batch.isEmpty {
            for (line, reason) in try await save(batch, into: &report) { reject(line, reason) }
            progress(.committed(report))
        }
        return report
    }

    /// Saves one batch in one transaction; returns the events the store refused, by line.
    private func save(
        _ batch: [(line: Int, event: Event)], into report: inout Report
    ) async throws -> [(line: Int, reason: String)] {
        let results = try await relay.store.save(batch.map(\.event))
        var refused: [(line: Int, reason: String)] = []
        for (item, result) in zip(batch, results) {
            switch result {
            case .saved: report.saved += 1
            case .duplicate: report.alreadyStored += 1
            case .superseded: refused.append((item.line, "duplicate: a newer version of this event is already stored"))
            case .deleted: refused.append((item.line, "blocked: this event was deleted by its author"))
            case .vanished: refused.append((item.line, "blocked: its author asked this relay to vanish"))
            }
        }
        return refused
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }
}
