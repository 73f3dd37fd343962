public import MartletRelay
import NostrCore

/// Loads events from JSONL (one event object a line) into a relay, as the relay would have
/// accepted them: each line is decoded and goes through the relay's ingest pipeline as
/// `.importFile` (id, signature, every write policy but those about a connection), a batch
/// of lines at a time so that the writer commits many in one transaction. A line longer
/// than `limits.max_message_length` is refused `invalid:` as the relay refuses such a
/// message (`LineReader` hands over only its first bytes). `martlet import` is this type
/// behind a command line.
///
/// The relay's writer must be running: inside `Relay.withIngest`, or in a relay that serves.
///
/// ```swift
/// let report = try await relay.withIngest {
///     try await EventImport(relay: relay).run(lines) { progress in print(progress) }
/// }
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
    /// Lines in the pipeline at once.
    public var batchSize: Int

    public init(relay: Relay, batchSize: Int = 1000) {
        self.relay = relay
        self.batchSize = max(1, batchSize)
    }

    /// Imports every line of `lines` (each a JSON event, blank lines skipped).
    public func run<Lines: Sequence<[UInt8]>>(
        _ lines: Lines, progress: (Progress) -> Void = { _ in }
    ) async -> Report {
        var report = Report()
        var batch: [(line: Int, event: Event)] = []
        var number = 0
        func reject(_ line: Int, _ prefix: RejectReason.Prefix, _ text: String) {
            report.rejected += 1
            report.rejectedByPrefix[prefix.rawValue, default: 0] += 1
            progress(.rejected(line: line, reason: text))
        }
        func ingestBatch() async {
            for (line, outcome) in await ingest(batch) {
                switch outcome {
                case .accepted: report.saved += 1
                case .duplicate(.alreadyStored): report.alreadyStored += 1
                case .duplicate(.superseded): reject(line, .duplicate, outcome.message)
                case .refused(let reason): reject(line, reason.prefix, reason.message)
                case .shadowRejected: reject(line, .blocked, "blocked: refused silently by a write policy")
                }
            }
            batch.removeAll(keepingCapacity: true)
            progress(.committed(report))
        }
        let maxLength = relay.configuration.limits.maxMessageLength
        for line in lines {
            number += 1
            guard line.contains(where: { !Self.isSpace($0) }) else { continue }
            report.lines += 1
            if line.count > maxLength {
                reject(number, .invalid, "invalid: line is longer than \(maxLength) bytes (limits.max_message_length)")
                continue
            }
            do {
                batch.append((number, try EventDecoder.decode(json: line)))
            } catch {
                // Every malformed event is NIP-01's `invalid:`; its reason says so already.
                reject(number, .invalid, error.reason)
                continue
            }
            if batch.count >= batchSize { await ingestBatch() }
        }
        if !batch.isEmpty { await ingestBatch() }
        return report
    }

    /// Each line's outcome, the whole batch in the pipeline at once, in line order.
    private func ingest(_ batch: [(line: Int, event: Event)]) async -> [(line: Int, outcome: IngestOutcome)] {
        await withTaskGroup(of: (Int, IngestOutcome).self) { group in
            for (line, event) in batch {
                group.addTask { [relay] in (line, await relay.ingest(event, origin: .importFile)) }
            }
            var outcomes: [(line: Int, outcome: IngestOutcome)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.line < $1.line }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }
}
