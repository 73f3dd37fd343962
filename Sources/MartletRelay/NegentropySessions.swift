import MartletStore
import Negentropy
import NostrCore
import Synchronization

/// The NIP-77 sync sessions of one connection: the relay's side of `NEG-OPEN`,
/// `NEG-MSG` and `NEG-CLOSE`.
///
/// Each session holds the item set its filter matched when it was opened (only events
/// this reader may see: the read policies apply as to a REQ) and answers every round
/// from it with a `NegentropyResponder`. Sessions are bounded per connection, in size,
/// in idle time and, all connections together, by the relay's `NegentropyBudget`
/// (`RelayConfiguration.Negentropy`); every refusal is a
/// `NEG-ERR` with NIP-77's `blocked:` / `closed:` prefixes, or NIP-01's `invalid:` /
/// `error:`, after which the session is gone.
///
/// ```swift
/// let sessions = NegentropySessions(relay: relay, outbox: outbox)
/// await sessions.open(SubscriptionID("n1"), filter: Filter(kinds: [1]), message: initialHex, context: reader)
/// sessions.message(SubscriptionID("n1"), nextHex)   // answered NEG-MSG or NEG-ERR
/// sessions.close(SubscriptionID("n1"))
/// ```
final class NegentropySessions: Sendable {
    private let relay: Relay
    private let outbox: Outbox
    private let state = Mutex(State())

    private struct State {
        var sessions: [SubscriptionID: Session] = [:]
        /// Ids recently dropped for idleness, so that their next `NEG-MSG` can say why.
        var timedOut: [SubscriptionID] = []
        var sweeper: Task<Void, Never>?
        var ended = false
    }

    private struct Session {
        var responder: NegentropyResponder<SortedItems>
        var lastActive: ContinuousClock.Instant
        /// Items taken from the relay's budget, given back when the session ends.
        var reserved: Int
    }

    /// An item set and the items it took from the relay's budget.
    private struct ItemSet {
        var items: SortedItems
        var reserved: Int
    }

    private static let rememberedTimeouts = 32

    init(relay: Relay, outbox: Outbox) {
        self.relay = relay
        self.outbox = outbox
    }

    private var settings: RelayConfiguration.Negentropy { relay.configuration.negentropy }
    private var budget: NegentropyBudget { relay.negentropyBudget }

    /// Ends a session, whatever the reason, and gives its items back to the relay.
    private func drop(_ subscription: SubscriptionID, from state: inout State) {
        if let session = state.sessions.removeValue(forKey: subscription) { budget.release(session.reserved) }
    }

    // MARK: Messages

    /// `NEG-OPEN`: builds the filter's item set and answers the initial message. An open
    /// session with the same id is closed first (NIP-77). `beforeAuthRequired` runs before a
    /// refusal that authentication would lift, so the client holds a challenge (NIP-42).
    func open(
        _ subscription: SubscriptionID, filter: Filter, message: String, context: ReadContext,
        beforeAuthRequired: () -> Void = {}
    ) async {
        let open = state.withLock { state in
            drop(subscription, from: &state)
            state.timedOut.removeAll { $0 == subscription }
            return state.sessions.count
        }
        let limits = relay.limits
        if subscription.value.unicodeScalars.count > limits.maxSubscriptionIDLength {
            return refuse(subscription, .invalid("subscription id is longer than \(limits.maxSubscriptionIDLength) characters"))
        }
        if settings.maxSessionsPerConnection <= 0 {
            return refuse(subscription, .blocked("negentropy sync is disabled on this relay"))
        }
        if open >= settings.maxSessionsPerConnection {
            return refuse(subscription, .blocked("too many negentropy sessions (max \(settings.maxSessionsPerConnection))"))
        }
        if let refusal = limits.checkFilterLists([filter]) ?? relay.checkRead([filter], context: context) {
            if refusal.prefix == .authRequired { beforeAuthRequired() }
            return refuse(subscription, .rejected(refusal))
        }
        let initial: [UInt8]
        do {
            initial = try NegentropyHex.decode(message)
        } catch {
            return refuse(subscription, .invalid(error.description))
        }
        let responder: NegentropyResponder<SortedItems>
        let reserved: Int
        switch await itemSet(filter, context) {
        case .failure(let refusal):
            return refuse(subscription, refusal)
        case .success(let set):
            reserved = set.reserved
            do {
                responder = try NegentropyResponder(storage: set.items, frameSizeLimit: settings.frameSizeLimit)
            } catch {
                budget.release(reserved)
                relay.logger.warning("negentropy is misconfigured: \(error)")
                return refuse(subscription, .error("negentropy is misconfigured on this relay"))
            }
        }
        let reply: [UInt8]
        do {
            reply = try responder.reconcile(initial)
        } catch {
            budget.release(reserved)
            return refuse(subscription, .invalid(error.description))
        }
        let stored = state.withLock { state in
            guard !state.ended else { return false }
            drop(subscription, from: &state)
            state.sessions[subscription] = Session(responder: responder, lastActive: .now, reserved: reserved)
            if state.sweeper == nil { state.sweeper = startSweeper() }
            return true
        }
        if stored {
            outbox.send(.negMsg(subscription, message: NegentropyHex.encode(reply)))
        } else {
            budget.release(reserved)  // the connection ended while the set was built
        }
    }

    /// `NEG-MSG`: the next round of an open session.
    func message(_ subscription: SubscriptionID, _ message: String) {
        enum Lookup {
            case found(NegentropyResponder<SortedItems>)
            case timedOut
            case unknown
        }
        let timeout = settings.idleTimeout
        let lookup = state.withLock { state -> Lookup in
            guard let session = state.sessions[subscription] else {
                return state.timedOut.contains(subscription) ? .timedOut : .unknown
            }
            // The sweeper may not have run yet; an expired session is expired all the same.
            if session.lastActive.duration(to: .now) >= timeout {
                drop(subscription, from: &state)
                return .timedOut
            }
            return .found(session.responder)
        }
        let responder: NegentropyResponder<SortedItems>
        switch lookup {
        case .found(let found): responder = found
        case .timedOut:
            return refuse(subscription, .closed("negentropy session was idle for more than \(timeout)"))
        case .unknown:
            return refuse(subscription, .closed("no open negentropy session with this id"))
        }
        let reply: [UInt8]
        do {
            reply = try responder.reconcile(try NegentropyHex.decode(message))
        } catch {
            return refuse(subscription, .invalid(error.description))
        }
        let open = state.withLock { state in
            guard state.sessions[subscription] != nil else { return false }
            state.sessions[subscription]?.lastActive = .now
            return true
        }
        if open { outbox.send(.negMsg(subscription, message: NegentropyHex.encode(reply))) }
    }

    /// `NEG-CLOSE`: releases the session; nothing is sent back.
    func close(_ subscription: SubscriptionID) {
        state.withLock { state in
            drop(subscription, from: &state)
            state.timedOut.removeAll { $0 == subscription }
        }
    }

    /// Answers a `NEG-OPEN` or `NEG-MSG` that could not be decoded; the session with that
    /// id, if any, is closed by the `NEG-ERR` (NIP-77).
    func refuseUndecodable(_ subscription: SubscriptionID, reason: String) {
        close(subscription)
        outbox.send(.negErr(subscription, reason: reason))
    }

    /// Drops every session when the connection ends.
    func closeAll() {
        let sweeper = state.withLock { state in
            state.ended = true
            for id in Array(state.sessions.keys) { drop(id, from: &state) }
            defer { state.sweeper = nil }
            return state.sweeper
        }
        sweeper?.cancel()
    }

    // MARK: Item sets

    /// The filter's items, taken from the relay's budget before they are loaded.
    private func itemSet(_ filter: Filter, _ context: ReadContext) async -> Result<ItemSet, Refusal> {
        let cap = settings.maxRecords
        var reserved = 0
        func fail(_ refusal: Refusal) -> Result<ItemSet, Refusal> {
            budget.release(reserved)
            return .failure(refusal)
        }
        func reserve(_ count: Int) -> Bool {
            guard budget.reserve(count) else { return false }
            reserved += count
            return true
        }
        let busy = Refusal.blocked(
            "sync sessions on this relay hold too many records (max \(budget.limit) in all), try again later")
        do {
            // Counting first keeps an oversized filter from loading its whole item set.
            let total = try await relay.visibleCount([filter], context: context)
            if total > cap { return fail(.blocked("too many records (\(total), max \(cap))")) }
            guard reserve(total) else { return fail(busy) }
            let stored = try await relay.visibleNegentropyItems(filter, context: context)
            if stored.count > cap { return fail(.blocked("too many records (max \(cap))")) }
            // Events saved since the count: the session holds what it loaded.
            if stored.count > reserved {
                guard reserve(stored.count - reserved) else { return fail(busy) }
            } else {
                budget.release(reserved - stored.count)
                reserved = stored.count
            }
            return .success(ItemSet(items: try SortedItems(stored.lazy.map(Self.item)), reserved: reserved))
        } catch {
            relay.logger.warning("negentropy item set failed: \(error)")
            return fail(.error("could not read the store"))
        }
    }

    private static func item(_ stored: TimestampedEventID) -> NegentropyItem {
        let raw = stored.id.raw
        return NegentropyItem(
            timestamp: UInt64(clamping: stored.createdAt),
            id: raw)
    }

    // MARK: Idle timeout

    /// Wakes when the oldest session could expire, drops the expired ones, and ends when
    /// none is left (the next `open` starts another).
    private func startSweeper() -> Task<Void, Never> {
        Task { [weak self] in
            while let delay = self?.sweep() {
                try? await Task.sleep(for: delay)
                if Task.isCancelled { return }
            }
        }
    }

    private func sweep() -> Duration? {
        let timeout = settings.idleTimeout
        return state.withLock { state -> Duration? in
            let now = ContinuousClock.now
            var next: Duration?
            for (id, session) in state.sessions {
                let idle = session.lastActive.duration(to: now)
                if idle >= timeout {
                    drop(id, from: &state)
                    state.timedOut.append(id)
                } else {
                    next = min(next ?? timeout, timeout - idle)
                }
            }
            state.timedOut.removeFirst(max(0, state.timedOut.count - Self.rememberedTimeouts))
            if next == nil { state.sweeper = nil }
            return next
        }
    }

    // MARK: Refusals

    /// A `NEG-ERR` reason: NIP-01's prefixed reasons, plus NIP-77's `closed:`.
    enum Refusal: Error {
        case rejected(RejectReason)
        case closed(String)

        static func blocked(_ detail: String) -> Refusal { .rejected(.blocked(detail)) }
        static func invalid(_ detail: String) -> Refusal { .rejected(.invalid(detail)) }
        static func error(_ detail: String) -> Refusal { .rejected(.error(detail)) }

        var reason: String {
            switch self {
            case .rejected(let reason): reason.message
            case .closed(let detail): "closed: \(detail)"
            }
        }
    }

    private func refuse(_ subscription: SubscriptionID, _ refusal: Refusal) {
        close(subscription)
        outbox.send(.negErr(subscription, reason: refusal.reason))
    }
}
