public import Logging
public import MartletRelay
import MartletStore
import Negentropy
public import NostrCore

/// One sync of a relay's store with a remote relay over NIP-77: reconcile, then download
/// what is missing here and upload what is missing there. `martlet sync` is this type
/// behind a command line, and each mesh peer catches up with it.
///
/// Downloaded events go through the relay's ingest pipeline like any published event (id,
/// signature, every write policy that applies to `origin`), a bounded number at a time so
/// that the writer commits them together; only events that were asked for are taken.
/// Uploads are `EVENT`s answered by `OK`, a bounded number in flight.
///
/// ```swift
/// var options = RelaySync.Options()
/// options.direction = .down
/// let sync = RelaySync(relay: relay, remote: "wss://relay.example.com", options: options)
/// let report = try await sync.run { progress in print(progress) }
/// print(report) // sync: have 12, need 40, downloaded 40, uploaded 0, rejected 0
/// ```
public struct RelaySync: Sendable {
    /// Which way events travel after the reconciliation (which always looks both ways).
    public enum Direction: String, Sendable, CaseIterable {
        case down, up, both

        var downloads: Bool { self != .up }
        var uploads: Bool { self != .down }
    }

    /// How a sync runs.
    public struct Options: Sendable {
        /// Which events take part (its `limit` is ignored, as NIP-77 asks).
        public var filter = Filter()
        public var direction = Direction.both
        /// Downloaded events in the pipeline at once (the writer commits them together).
        public var ingestsInFlight = 64
        /// Ids per `REQ` when downloading.
        public var fetchBatchSize = 500
        /// `EVENT`s awaiting their `OK` at once when uploading.
        public var uploadsInFlight = 32
        /// Bytes of one negentropy message this side writes (before hex).
        public var frameSizeLimit = 60_000
        public var replyTimeout: Duration = .seconds(30)

        public init() {}
    }

    /// The outcome, one line long.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        /// Events here that the remote lacked.
        public var have = 0
        /// Events there that this store lacked.
        public var need = 0
        public var downloaded = 0
        public var uploaded = 0
        /// Events refused, by this relay's pipeline or by the remote's `OK false`.
        public var rejected = 0
        /// Needed events the remote did not send when asked by id.
        public var unavailable = 0

        public init() {}

        public var description: String {
            "sync: have \(have), need \(need), downloaded \(downloaded), uploaded \(uploaded), rejected \(rejected)"
                + (unavailable > 0 ? ", unavailable \(unavailable)" : "")
        }
    }

    /// What a sync is doing, for a progress display.
    public enum Progress: Sendable {
        /// The local item set is built and the reconciliation is under way.
        case reconciling(localItems: Int)
        /// One reconciliation round answered: the differences found so far.
        case round(NegentropyDifference)
        case downloaded(done: Int, of: Int)
        case uploaded(done: Int, of: Int)
        /// One event refused, here or there, and why in NIP-01's words.
        case rejected(EventID, String)
    }

    /// The relay whose store is synced and whose pipeline takes the downloads.
    public let relay: Relay
    /// The remote relay's URL.
    public let remote: String
    public var options: Options
    public var logger: Logger
    /// Where each downloaded event goes: the relay's pipeline as `.sync(remote)`, the
    /// operator's tool. A mesh peer sends them in as `.peer(url)` (every policy, replicated
    /// on) and notes what the peer sent.
    public var ingest: @Sendable (Event) async -> IngestOutcome

    public init(
        relay: Relay, remote: String, options: Options = Options(), logger: Logger = Logger(label: "martlet.sync")
    ) {
        self.relay = relay
        self.remote = remote
        self.options = options
        self.logger = logger
        self.ingest = { event in await relay.ingest(event, origin: .sync(remote)) }
    }

    /// Connects, syncs and disconnects.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Report {
        let client = try await RelayClient.connect(to: remote, replyTimeout: options.replyTimeout, logger: logger)
        do {
            let report = try await run(over: client, progress: progress)
            await client.close()
            return report
        } catch {
            await client.close()
            throw error
        }
    }

    /// Syncs over a connection the caller opened (and closes).
    public func run(over client: RelayClient, progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws
        -> Report
    {
        let stored = try await relay.store.negentropyItems(options.filter, now: relay.clock())
        progress(.reconciling(localItems: stored.count))
        let items = try SortedItems(
            stored.lazy.map { Negentropy.NegentropyItem(timestamp: UInt64(clamping: $0.createdAt), id: $0.id.raw) })
        let difference = try await client.reconcile(
            options.filter, items: items, frameSizeLimit: options.frameSizeLimit, onRound: { progress(.round($0)) })
        var report = Report()
        report.have = difference.have.count
        report.need = difference.need.count
        async let down = options.direction.downloads ? download(difference.need, client, progress) : Report()
        async let up = options.direction.uploads ? upload(difference.have, client, progress) : Report()
        let (downloads, uploads) = try await (down, up)
        report.downloaded = downloads.downloaded
        report.unavailable = downloads.unavailable
        report.uploaded = uploads.uploaded
        report.rejected = downloads.rejected + uploads.rejected
        return report
    }

    // MARK: Download

    private func download(_ ids: [EventID], _ client: RelayClient, _ progress: @Sendable (Progress) -> Void)
        async throws -> Report
    {
        var report = Report()
        let batchSize = max(1, options.fetchBatchSize)
        for start in stride(from: 0, to: ids.count, by: batchSize) {
            var wanted = Set(ids[start..<min(ids.count, start + batchSize)])
            // A relay may cap a REQ below the batch size; ask again for the rest while it helps.
            while !wanted.isEmpty {
                let before = wanted.count
                let asked = try await client.fetch([Filter(ids: wanted)]).filter { wanted.remove($0.id) != nil }
                for (id, outcome) in await ingestAll(asked) {
                    switch outcome {
                    case .accepted, .duplicate(.alreadyStored):
                        report.downloaded += 1
                    case .duplicate(.superseded), .refused:
                        report.rejected += 1
                        progress(.rejected(id, outcome.message))
                    case .shadowRejected:
                        report.rejected += 1
                        progress(.rejected(id, "refused silently by a write policy"))
                    }
                }
                progress(.downloaded(done: report.downloaded + report.rejected, of: ids.count))
                if wanted.count == before { break }
            }
            report.unavailable += wanted.count
        }
        return report
    }

    /// Each event's outcome in the relay's pipeline, `ingestsInFlight` at a time.
    private func ingestAll(_ events: [Event]) async -> [(EventID, IngestOutcome)] {
        var outcomes: [(EventID, IngestOutcome)] = []
        let inFlight = max(1, options.ingestsInFlight)
        for start in stride(from: 0, to: events.count, by: inFlight) {
            await withTaskGroup(of: (EventID, IngestOutcome).self) { group in
                for event in events[start..<min(events.count, start + inFlight)] {
                    group.addTask { [ingest] in (event.id, await ingest(event)) }
                }
                for await outcome in group { outcomes.append(outcome) }
            }
        }
        return outcomes
    }

    // MARK: Upload

    private func upload(_ ids: [EventID], _ client: RelayClient, _ progress: @escaping @Sendable (Progress) -> Void)
        async throws -> Report
    {
        var report = Report()
        let batchSize = max(1, options.fetchBatchSize)
        for start in stride(from: 0, to: ids.count, by: batchSize) {
            let batch = Set(ids[start..<min(ids.count, start + batchSize)])
            let events = try await relay.store.query([Filter(ids: batch)], maxLimit: batch.count, now: relay.clock())
            try await withThrowingTaskGroup(of: (EventID, Bool, String).self) { group in
                var next = events.makeIterator()
                func record(_ result: (id: EventID, accepted: Bool, message: String)) {
                    if result.accepted {
                        report.uploaded += 1
                    } else {
                        report.rejected += 1
                        progress(.rejected(result.id, result.message))
                    }
                }
                for _ in 0..<max(1, options.uploadsInFlight) {
                    guard let event = next.next() else { break }
                    group.addTask { try await Self.publish(event, client) }
                }
                while let result = try await group.next() {
                    record(result)
                    if let event = next.next() {
                        group.addTask { try await Self.publish(event, client) }
                    }
                }
            }
            progress(.uploaded(done: report.uploaded + report.rejected, of: ids.count))
        }
        return report
    }

    private static func publish(_ event: Event, _ client: RelayClient) async throws -> (EventID, Bool, String) {
        let answer = try await client.publish(event)
        return (event.id, answer.accepted, answer.message)
    }
}
