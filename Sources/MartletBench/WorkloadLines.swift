internal import NostrCore

/// The bench workload's signed events as JSON lines, for filling a store of any size
/// through `martlet import` (so through the relay's one ingest pipeline) rather than over
/// a WebSocket, whose round trips make a database of millions take hours.
///
/// The events are those of `Workload.events`, drawn and signed in chunks so that memory
/// stays flat however many are asked for; the same seed, anchor and count give the same
/// events (only the signatures differ: BIP-340 draws fresh auxiliary randomness). Queries
/// of `martlet bench query --preload 0 --seed <seed>` find the same authors and topics, so
/// the seeded store answers them.
///
/// ```swift
/// let lines = WorkloadLines(seed: 1, count: 1_000_000, now: anchor)
/// try await lines.write { bytes in try output.write(contentsOf: bytes) }
/// ```
public struct WorkloadLines: Sendable {
    /// Events signed at once: enough to keep every core busy, few enough (about 15 MB of
    /// JSON) that a large run never holds more than one chunk.
    public static let chunkSize = 10_000

    public let workload: Workload
    public let count: Int
    /// Unix time anchoring `created_at` (the events span the 30 days before it).
    public let now: Int64

    /// Where the lines' `created_at` fall in the 30 days.
    public let order: Order

    public enum Order: Sendable {
        /// Each event's `created_at` drawn at random, as the bench's other scenarios publish:
        /// a store filled this way holds its history in no particular order.
        case drawn
        /// `created_at` rising from the first line to the last, evenly over the 30 days, as
        /// a live relay receives events: its tables are written in roughly time order.
        case arrival
    }

    public init(seed: UInt64, count: Int, now: Int64, order: Order = .drawn) {
        self.workload = Workload(seed: seed)
        self.count = max(0, count)
        self.now = now
        self.order = order
    }

    /// Calls `write` with each chunk's lines (every event's JSON and a newline), in order,
    /// then `progress` with how many events were written so far.
    public func write(
        _ write: ([UInt8]) throws -> Void, progress: (Int) -> Void = { _ in }
    ) async throws {
        var written = 0
        var chunk: UInt64 = 0
        while written < count {
            let size = min(Self.chunkSize, count - written)
            var blueprints = workload.blueprints(count: size, stream: Self.stream(chunk), now: now)
            if order == .arrival {
                for index in blueprints.indices { blueprints[index].createdAt = arrivalTime(ofLine: written + index) }
            }
            let events = await Workload.sign(blueprints, authors: workload.authors)
            var bytes = [UInt8]()
            bytes.reserveCapacity(events.reduce(0) { $0 + $1.json.count + 1 })
            for event in events {
                bytes.append(contentsOf: event.json)
                bytes.append(0x0a)
            }
            try write(bytes)
            written += size
            chunk += 1
            progress(written)
        }
    }

    /// The `created_at` of line `line` in arrival order: the first line 30 days before `now`,
    /// the last just before it.
    func arrivalTime(ofLine line: Int) -> Int64 {
        now - Workload.span + Int64(Double(line) / Double(count) * Double(Workload.span))
    }

    /// Each chunk draws from a stream of its own, far above the few small streams the
    /// bench's phases use, so that no chunk repeats another's (or a phase's) events.
    static func stream(_ chunk: UInt64) -> UInt64 {
        (1 << 32) &+ chunk
    }
}
