import Logging
import NIOCore
import NostrCore
import PostgresNIO
import Synchronization

/// One reader of `PostgresEventStore.eventsFromOtherNodes()`: the events other nodes
/// commit, read from the `events` table behind a horizon, and the ephemeral events they
/// publish, both heard of through the store's `PostgresListener`.
///
/// Why a horizon and not "rows with `seq` above the last one seen": `seq` is handed out
/// when a row is inserted, not when its transaction commits, so a batch holding seq 100
/// can commit after one holding seq 101, and a reader that had moved past 101 would never
/// see 100. Instead every row carries its transaction id (`txid`), and the reader asks
/// PostgreSQL for the oldest transaction still running (`pg_snapshot_xmin`): every
/// transaction below that has finished for good, so the rows with `txid` between the last
/// horizon and this one are complete and final. They are read in `seq` order, a page at a
/// time, then the horizon moves on.
///
/// Writers send a notification on `PostgresChannels.events` after each committed batch; the
/// reader reads at once, and also every `pollInterval` in case a notification was lost (a
/// dropped connection, a notification sent before the horizon had moved). Ephemeral events
/// are not stored: each comes once in its own notification (`PostgresEphemeralNotice`) and
/// is handed out before the stored ones, without a look at the table; one sent while this
/// node was not listening is lost, as an ephemeral event may be.
///
/// ```swift
/// for await event in store.eventsFromOtherNodes() { relay.fanOut(event) }
/// ```
final class PostgresFeedReader: Sendable {
    private struct State {
        /// Rows from transactions at or above this are not read yet; nil until the first
        /// horizon is known.
        var from: Int64?
        /// An unfinished window: its upper horizon and the last `seq` read in it.
        var window: (to: Int64, afterSeq: Int64)?
        var buffer: [Event] = []
        var position = 0
        /// Other nodes' ephemeral events, waiting to be handed out.
        var ephemeral: [PostgresEphemeralNotice] = []
        var ephemeralPosition = 0
        /// Whether to read the table before waiting again: a notification came, or LISTEN
        /// holds (again) and may have missed some.
        var readDue = true
        var lastRead = ContinuousClock.now
        /// Transactions of this node's own writes, skipped when read.
        var own = Set<Int64>()
        var stopped = false
        var failing = false
        var subscription: Int?
        var bearings: Task<Void, Never>?

        enum Step {
            case deliver(Event)
            case fetch(seq: Int64)
            case read
            case wait(Duration)
            case stop
        }

        mutating func next(pollInterval: Duration) -> Step {
            if ephemeralPosition < ephemeral.count {
                let notice = ephemeral[ephemeralPosition]
                ephemeralPosition += 1
                if ephemeralPosition == ephemeral.count {
                    ephemeral = []
                    ephemeralPosition = 0
                }
                switch notice {
                case .event(let event): return .deliver(event)
                case .stored(let seq): return .fetch(seq: seq)
                }
            }
            if position < buffer.count {
                position += 1
                return .deliver(buffer[position - 1])
            }
            buffer = []
            position = 0
            if stopped { return .stop }
            let now = ContinuousClock.now
            // A full page means more rows wait in the same window: read on without waiting.
            if readDue || window != nil || now - lastRead >= pollInterval {
                readDue = false
                lastRead = now
                return .read
            }
            return .wait(pollInterval - (now - lastRead))
        }
    }

    private let client: PostgresClient
    private let listener: PostgresListener
    private let channels: PostgresChannels
    private let node: String
    private let pollInterval: Duration
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let signal = WakeSignal()
    private static let pageSize: Int64 = 500
    /// Ephemeral events waiting beyond this are dropped: the relay hands each out at once,
    /// so a backlog this long means it is not reading.
    private static let ephemeralBacklog = 10_000

    init(
        client: PostgresClient, listener: PostgresListener, channels: PostgresChannels, node: String,
        pollInterval: Duration, timeout: Duration, logger: Logger
    ) {
        self.client = client
        self.listener = listener
        self.channels = channels
        self.node = node
        self.pollInterval = pollInterval
        self.timeout = timeout
        self.logger = logger
    }

    /// Takes its bearings and starts hearing notifications.
    func start() {
        let bearings = Task { [self] in
            _ = try? await Deadline.run(timeout, "feed start") { [self] in try await takeBearings() }
        }
        state.withLock { $0.bearings = bearings }
        let subscription = listener.subscribe { [self] message in hear(message) }
        let stopped = state.withLock { state in
            state.subscription = subscription
            return state.stopped
        }
        if stopped { listener.unsubscribe(subscription) }
    }

    func stop() {
        let (subscription, bearings) = state.withLock { state in
            state.stopped = true
            return (state.subscription, state.bearings)
        }
        bearings?.cancel()
        if let subscription { listener.unsubscribe(subscription) }
        signal.wake()
    }

    /// Notes a transaction of this node, before it commits, so its rows are not fed back.
    func recordOwn(_ transaction: Int64) {
        state.withLock { _ = $0.own.insert(transaction) }
    }

    private func hear(_ message: PostgresListener.Message) {
        switch message {
        case .listening:
            state.withLock { $0.readDue = true }
        case .notification(let channel, _) where channel == channels.events:
            state.withLock { $0.readDue = true }
        case .notification(let channel, let payload) where channel == channels.ephemeral:
            guard let notice = PostgresEphemeralNotice(payload: payload, skipping: node) else { return }
            let queued = state.withLock { state in
                guard state.ephemeral.count - state.ephemeralPosition < Self.ephemeralBacklog else { return false }
                state.ephemeral.append(notice)
                return true
            }
            if !queued { logger.debug("dropped an ephemeral event from another node: the feed is not read") }
        case .notification:
            return
        case .closed:
            state.withLock { $0.stopped = true }
        }
        signal.wake()
    }

    /// The next event, waiting for one as long as it takes; nil once stopped.
    func next() async -> Event? {
        while true {
            if Task.isCancelled { return nil }
            switch state.withLock({ $0.next(pollInterval: pollInterval) }) {
            case .deliver(let event):
                return event
            case .fetch(let seq):
                if let event = await ephemeralEvent(seq: seq) { return event }
            case .read:
                await read()
            case .wait(let limit):
                await signal.wait(upTo: limit)
            case .stop:
                return nil
            }
        }
    }

    /// A large ephemeral event from the table, or nil once it is gone (past its retention)
    /// or cannot be read: an ephemeral event is not worth a retry.
    private func ephemeralEvent(seq: Int64) async -> Event? {
        do {
            return try await Deadline.run(timeout, "ephemeral event read") { [client] in
                let rows = try await client.query("SELECT json FROM ephemeral_events WHERE seq = \(seq)")
                for try await json in rows.decode(ByteBuffer.self) { return try Event(stored: json) }
                return nil
            }
        } catch {
            logger.debug("an ephemeral event from another node could not be read: \(PostgresEventStore.describe(error))")
            return nil
        }
    }

    private func read() async {
        do {
            try await Deadline.run(timeout, "feed read") { [self] in try await readPage() }
            let recovered = state.withLock { state in
                defer { state.failing = false }
                return state.failing
            }
            if recovered { logger.notice("live feed from other nodes resumed") }
        } catch {
            let first = state.withLock { state in
                defer { state.failing = true }
                return !state.failing
            }
            if first { logger.warning("live feed from other nodes paused: \(PostgresEventStore.describe(error))") }
        }
    }

    private func readPage() async throws {
        let (from, window) = state.withLock { ($0.from, $0.window) }
        guard let from else { return try await takeBearings() }
        let rows = try await client.query(
            """
            WITH h AS (
                SELECT coalesce(\(window?.to)::bigint::text::xid8, pg_snapshot_xmin(pg_current_snapshot())) AS horizon
            )
            SELECT h.horizon::text::bigint, e.seq, e.txid::text::bigint, e.json FROM h LEFT JOIN LATERAL (
                SELECT seq, txid, json FROM events
                WHERE txid >= \(from)::bigint::text::xid8 AND txid < h.horizon AND seq > \(window?.afterSeq ?? 0)
                ORDER BY seq LIMIT \(Self.pageSize)
            ) AS e ON true
            """)
        var horizon = from
        var rowCount: Int64 = 0
        var lastSeq: Int64 = 0
        var found: [(transaction: Int64, json: ByteBuffer)] = []
        for try await (to, seq, transaction, json) in rows.decode((Int64, Int64?, Int64?, ByteBuffer?).self) {
            horizon = to
            guard let seq, let transaction, let json else { continue }
            rowCount += 1
            lastSeq = seq
            found.append((transaction, json))
        }
        let complete = rowCount < Self.pageSize
        let own = state.withLock { $0.own }
        var events: [Event] = []
        for row in found where !own.contains(row.transaction) {
            events.append(try Event(stored: row.json))
        }
        state.withLock { state in
            state.buffer = events
            state.position = 0
            if complete {
                state.from = horizon
                state.window = nil
                state.own = state.own.filter { $0 >= horizon }
            } else {
                state.window = (horizon, lastSeq)
            }
        }
    }

    /// "From now on" starts at the horizon of the moment the feed was asked for, not of the
    /// moment it is first read. Whichever of the reader and `start()` gets it first sets it.
    private func takeBearings() async throws {
        let rows = try await client.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        for try await horizon in rows.decode(Int64.self) {
            state.withLock { state in
                if state.from == nil { state.from = horizon }
            }
        }
    }
}

/// The feed readers of one store, which its writes tell about their transactions.
final class PostgresFeedReaders: Sendable {
    private let readers = Mutex<[ObjectIdentifier: PostgresFeedReader]>([:])

    func add(_ reader: PostgresFeedReader) {
        readers.withLock { $0[ObjectIdentifier(reader)] = reader }
    }

    func remove(_ reader: PostgresFeedReader) {
        _ = readers.withLock { $0.removeValue(forKey: ObjectIdentifier(reader)) }
    }

    var all: [PostgresFeedReader] { readers.withLock { Array($0.values) } }

    func recordOwn(_ transaction: Int64) {
        for reader in all { reader.recordOwn(transaction) }
    }
}

/// A wake-up call between tasks that may come before anyone waits for it: a pending call
/// is kept (once), so the next wait returns at once.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func wake() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil as CheckedContinuation<Void, Never>?
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on a wake-up, after `limit`, or when the task is cancelled.
    func wait(upTo limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForWake() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
