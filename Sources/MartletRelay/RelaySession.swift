public import NostrCore
import MartletStore
import Synchronization

/// One client connection's view of the relay: it reads client messages, answers them and
/// holds the connection's subscriptions.
///
/// The server feeds it each text message with `receive` and writes out whatever appears in
/// `outbox`. EVENTs are processed concurrently (up to `EventsInFlight.limit` per connection),
/// so a client that pipelines events is not held to one commit at a time; REQ, COUNT and
/// CLOSE are handled in the order they arrive.
///
/// ```swift
/// let session = relay.makeSession(remoteAddress: "127.0.0.1")
/// await session.receive(Array(#"["REQ","s",{"kinds":[1]}]"#.utf8))
/// let batch = session.outbox.take()   // .frames([...]): the REQ's EOSE
/// session.close()
/// ```
public final class RelaySession: Sendable {
    public let id: UInt64
    public let remoteAddress: String?
    /// This connection's NIP-42 challenge, valid for the whole connection.
    public let challenge: String
    public let outbox: Outbox
    let relay: Relay
    let negentropy: NegentropySessions
    private let state = Mutex(State())
    private let eventsInFlight = EventsInFlight()

    /// Live events held back per subscription while its stored events are being sent.
    static let maxHeldBackEvents = 10_000

    private struct State {
        var subscriptions: [SubscriptionID: SubscriptionPhase] = [:]
        var closed = false
        var authenticated: Set<PublicKey> = []
        var challengeSent = false
        /// Whether this connection may still read, as decided at an `AccessLists.generation`.
        var readPermission: (generation: UInt64, refusal: RejectReason?)?
    }

    /// A subscription sends its stored events before live ones; live events that arrive
    /// meanwhile wait in `loading` so that none is lost or sent before EOSE twice.
    private enum SubscriptionPhase {
        case loading(heldBack: [Event])
        /// Live, with the `["EVENT","<id>",` every live event is sent after.
        case live(eventPrefix: [UInt8])
    }

    init(id: UInt64, relay: Relay, remoteAddress: String?) {
        self.id = id
        self.relay = relay
        self.remoteAddress = remoteAddress
        var generator = SystemRandomNumberGenerator()
        self.challenge = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        self.outbox = Outbox(byteLimit: relay.configuration.outboxByteLimit)
        self.negentropy = NegentropySessions(relay: relay, outbox: outbox)
    }

    /// Handles one text message from the client.
    public func receive(_ bytes: [UInt8]) async {
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(bytes, maxLength: relay.configuration.limits.maxMessageLength)
        } catch {
            refuseUndecodable(bytes, error)
            return
        }
        if let refusal = privateRelayRefusal(message) {
            refuse(message, refusal)
            return
        }
        switch message {
        case .event(let event):
            await receiveEvent(event)
        case .req(let subscription, let filters):
            await subscribe(subscription, filters)
        case .count(let subscription, let filters):
            await count(subscription, filters)
        case .close(let subscription):
            unsubscribe(subscription)
        case .auth(let event):
            authenticate(event)
        case .negOpen(let subscription, let filter, let initial):
            await negentropy.open(subscription, filter: filter, message: initial, context: readContext) {
                sendChallenge()
            }
        case .negMsg(let subscription, let payload):
            negentropy.message(subscription, payload)
        case .negClose(let subscription):
            negentropy.close(subscription)
        }
    }

    /// Ends the session: its subscriptions stop and its outbox closes.
    public func close() {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            state.subscriptions.removeAll()
            return !state.closed
        }
        guard wasOpen else { return }
        negentropy.closeAll()
        relay.sessionClosed(self)
        outbox.close()
    }

    // MARK: EVENT

    private func receiveEvent(_ event: Event) async {
        await eventsInFlight.run { await self.finishEvent(event) }
    }

    private func finishEvent(_ event: Event) async {
        let origin = IngestOrigin.client(session: id, remoteAddress: remoteAddress, authenticated: authenticatedPubkeys)
        let outcome = await relay.ingest(event, origin: origin)
        if outcome.refusal?.prefix == .authRequired { sendChallenge() }
        outbox.send(.ok(event.id, outcome))
    }

    // MARK: REQ, CLOSE, COUNT

    private func subscribe(_ subscription: SubscriptionID, _ filters: [Filter]) async {
        let limits = relay.limits
        if let refusal = checkRequest(subscription, filters, isSubscription: true) {
            closeRefused(subscription, refusal)
            return
        }
        state.withLock { $0.subscriptions[subscription] = .loading(heldBack: []) }
        relay.subscriptions.insert(LiveSubscription(session: self, id: subscription, filters: filters))

        let bounded = filters.map { filter in
            var filter = filter
            filter.limit = min(filter.limit ?? limits.defaultLimit, limits.maxLimit)
            return filter
        }
        let stored: [StoredEvent]
        do {
            let start = ContinuousClock.now
            stored = try await relay.store.queryStored(
                bounded, maxLimit: limits.maxLimit, now: relay.clock(), visibility: relay.visibility(for: readContext),
                timeout: limits.queryTimeout)
            relay.metrics.recordQuery(startedAt: start)
        } catch {
            relay.logger.warning("query failed: \(error)")
            unsubscribe(subscription)
            let reason =
                (error as? StoreError)?.isTimeout == true
                ? RejectReason.error("the query took too long; ask for fewer events or a narrower filter")
                : RejectReason.error("could not query the store")
            outbox.send(.closed(subscription, message: reason.message))
            return
        }
        // A newer REQ with the same id may have replaced this one while the query ran.
        guard isLoading(subscription) else { return }
        let fetched = await fetchMissing(filters, stored: stored).map(StoredEvent.init(_:))
        guard isLoading(subscription) else { return }
        let reader = readContext
        let head = RelayMessage.eventPrefix(subscription)
        let answer = fetched.isEmpty ? stored : stored + fetched
        var visible = answer.compactMap { relay.canSee($0, context: reader) ? $0.json : nil }
        // NIP-43: a REQ for kind 28935 is answered with an invite code made for this reader.
        if let invite = await relay.groups?.invite(answering: filters, reader: reader) {
            visible.append(invite.json)
        }
        // With EOSE in the same batch, the answer usually leaves in one write.
        outbox.send(events: visible, after: head, then: .eose(subscription))
        let heldBack: [Event] = state.withLock { state in
            guard case .loading(let held) = state.subscriptions[subscription] else { return [] }
            state.subscriptions[subscription] = .live(eventPrefix: head)
            return held
        }
        guard !heldBack.isEmpty else { return }
        let sent = Set(answer.map(\.id))
        for event in heldBack where !sent.contains(event.id) {
            outbox.send(event: event.json, after: head)
        }
    }

    /// Events asked for by id that the store lacks, found elsewhere by the relay's
    /// `MissingEventFinder` (`discovery.fetch_missing`) before EOSE; none without a finder.
    private func fetchMissing(_ filters: [Filter], stored: [StoredEvent]) async -> [Event] {
        guard let finder = relay.missingEvents.finder, let wanted = MissingEvents.wanted(by: filters, stored: stored)
        else { return [] }
        let found = await finder.find(wanted.ids, authors: wanted.authors)
        // Only what this REQ asked for: a filter may name ids and a kind the event lacks.
        return found.filter { event in filters.contains { $0.matches(event) } }
    }

    private func isLoading(_ subscription: SubscriptionID) -> Bool {
        state.withLock { state in
            if case .loading = state.subscriptions[subscription] { return true }
            return false
        }
    }

    private func unsubscribe(_ subscription: SubscriptionID) {
        state.withLock { _ = $0.subscriptions.removeValue(forKey: subscription) }
        relay.subscriptions.remove(session: id, id: subscription)
    }

    private func count(_ subscription: SubscriptionID, _ filters: [Filter]) async {
        if let refusal = checkRequest(subscription, filters, isSubscription: false) {
            closeRefused(subscription, refusal)
            return
        }
        do {
            let answer = try await relay.countAnswer(filters, context: readContext)
            outbox.send(.count(subscription, count: answer.count, hll: answer.hll?.hex))
        } catch {
            outbox.send(.closed(subscription, message: RejectReason.error("could not count events").message))
        }
    }

    private func checkRequest(_ subscription: SubscriptionID, _ filters: [Filter], isSubscription: Bool) -> RejectReason? {
        let limits = relay.limits
        if subscription.value.unicodeScalars.count > limits.maxSubscriptionIDLength {
            return .invalid("subscription id is longer than \(limits.maxSubscriptionIDLength) characters")
        }
        if filters.count > limits.maxFilters {
            return .invalid("too many filters (max \(limits.maxFilters))")
        }
        if let refusal = limits.checkFilterLists(filters) { return refusal }
        if let refusal = relay.checkRead(filters, context: readContext) { return refusal }
        if isSubscription {
            let active = state.withLock { state in
                state.subscriptions.count - (state.subscriptions[subscription] == nil ? 0 : 1)
            }
            if active >= limits.maxSubscriptions {
                return .blocked("too many open subscriptions (max \(limits.maxSubscriptions))")
            }
        }
        return nil
    }

    // MARK: Live delivery

    /// Sends a live event to one of this session's subscriptions (called by fan-out).
    public func deliver(_ event: Event, to subscription: SubscriptionID) {
        let generation = relay.access.generation
        // One lock for all a delivery reads: at fan-out this runs for every subscriber of
        // every event. A second is taken only while the subscription is still loading.
        let (known, authenticated, phase) = state.withLock {
            ($0.readPermission, $0.authenticated, $0.subscriptions[subscription])
        }
        let revoked =
            known.map { $0.generation == generation } == true
            ? known?.refusal : readRevocation(at: generation, authenticated: authenticated)
        if let revoked {
            endSubscriptions(revoked)
            return
        }
        guard let phase,
            relay.canSee(event, context: ReadContext(authenticated: authenticated, remoteAddress: remoteAddress))
        else { return }
        let head: [UInt8]?
        if case .live(let eventPrefix) = phase {
            head = eventPrefix
        } else {
            head = state.withLock { (state) -> [UInt8]? in
                switch state.subscriptions[subscription] {
                case .live(let eventPrefix): return eventPrefix
                case .loading(var held):
                    if held.count < RelaySession.maxHeldBackEvents { held.append(event) }
                    state.subscriptions[subscription] = .loading(heldBack: held)
                    return nil
                case nil: return nil
                }
            }
        }
        // The event's bytes are shared with every other subscriber's outbox, not copied.
        if let head { outbox.send(event: event.json, after: head) }
    }

    /// Why this connection may no longer read what it subscribed to, if it may not: the
    /// operator blocked its address, or (private relay) no pubkey it authenticated as is a
    /// member any more. Decided again only when the access lists (their `generation`) or the
    /// authentication changed, so a delivery costs one atomic load; the decision is kept.
    private func readRevocation(at generation: UInt64, authenticated: Set<PublicKey>) -> RejectReason? {
        var refusal: RejectReason?
        if let ip = remoteAddress, relay.access.isBlocked(ip: ip) {
            refusal = .blocked("your IP address is blocked")
        } else if relay.configuration.access.mode == .privateRelay,
            !authenticated.contains(where: relay.access.isAllowed)
        {
            refusal = .restricted("this pubkey is no longer a member of this private relay")
        }
        state.withLock { $0.readPermission = (generation, refusal) }
        return refusal
    }

    /// Ends every subscription with `CLOSED` and the reason (NIP-01: the relay ends a
    /// subscription it will not serve any more).
    private func endSubscriptions(_ reason: RejectReason) {
        let ended = state.withLock { state in
            defer { state.subscriptions.removeAll() }
            return Array(state.subscriptions.keys)
        }
        for subscription in ended {
            relay.subscriptions.remove(session: id, id: subscription)
            outbox.send(.closed(subscription, message: reason.message))
        }
    }

    // MARK: NIP-42

    /// The pubkeys this connection has authenticated as.
    public var authenticatedPubkeys: Set<PublicKey> { state.withLock { $0.authenticated } }

    var readContext: ReadContext {
        ReadContext(authenticated: authenticatedPubkeys, remoteAddress: remoteAddress)
    }

    /// Sends this connection's challenge, once.
    public func sendChallenge() {
        let first = state.withLock { state in
            defer { state.challengeSent = true }
            return !state.challengeSent
        }
        if first { outbox.send(.auth(challenge: challenge)) }
    }

    /// Checks a client's AUTH event as NIP-42 lists: kind 22242, created_at within ten
    /// minutes, this connection's challenge, and a relay tag naming this relay, which is one
    /// of the operator's URLs (`RelayAddresses`), never the `Host` the client sent.
    private func authenticate(_ event: Event) {
        func refuse(_ reason: RejectReason) {
            outbox.send(.ok(event.id, accepted: false, message: reason.message))
        }
        guard event.kind == .authentication else { return refuse(.invalid("AUTH event must be of kind 22242")) }
        do {
            try event.validate()
        } catch {
            return refuse(.invalid(error.detail))
        }
        guard abs(event.createdAt - relay.clock()) <= 600 else {
            return refuse(.invalid("AUTH event created_at is more than ten minutes from now"))
        }
        guard event.tags.firstValue(named: "challenge") == challenge else {
            return refuse(.invalid("AUTH challenge does not match this connection's"))
        }
        guard let relayTag = event.tags.firstValue(named: "relay"), relay.addresses.names(relayTag) else {
            return refuse(.invalid("AUTH relay tag does not name this relay"))
        }
        state.withLock { state in
            state.authenticated.insert(event.pubkey)
            state.readPermission = nil
        }
        outbox.send(.ok(event.id, accepted: true, message: ""))
    }

    /// In private mode everything but AUTH (and closing what is open) waits for an
    /// allowlisted pubkey to authenticate.
    private func privateRelayRefusal(_ message: ClientMessage) -> RejectReason? {
        guard relay.configuration.access.mode == .privateRelay else { return nil }
        switch message {
        case .auth, .close, .negClose: return nil
        default: break
        }
        let authenticated = authenticatedPubkeys
        if authenticated.contains(where: relay.access.isAllowed) { return nil }
        // NIP-43: an outsider asks to join with an invite code; the code, not the allowlist, admits them.
        if relay.groups != nil, case .event(let event) = message, event.kind == MembershipKind.joinRequest,
            authenticated.contains(event.pubkey)
        {
            return nil
        }
        if authenticated.isEmpty { return .authRequired("this relay is private; authenticate first") }
        return .restricted("this pubkey is not a member of this private relay")
    }

    /// Answers a refused message the way its type is answered.
    private func refuse(_ message: ClientMessage, _ reason: RejectReason) {
        switch message {
        case .event(let event):
            if reason.prefix == .authRequired { sendChallenge() }
            outbox.send(.ok(event.id, accepted: false, message: reason.message))
        case .req(let subscription, _), .count(let subscription, _):
            closeRefused(subscription, reason)
        case .negOpen(let subscription, _, _), .negMsg(let subscription, _):
            if reason.prefix == .authRequired { sendChallenge() }
            outbox.send(.negErr(subscription, reason: reason.message))
        case .auth, .close, .negClose:
            break
        }
    }

    /// CLOSED for a refused REQ or COUNT, after the challenge when authentication would help.
    private func closeRefused(_ subscription: SubscriptionID, _ reason: RejectReason) {
        if reason.prefix == .authRequired { sendChallenge() }
        outbox.send(.closed(subscription, message: reason.message))
    }

    // MARK: Refusals

    /// Answers a message that could not be decoded in the most specific way NIP-01 allows:
    /// `OK false` when it was an EVENT whose id can be read, `CLOSED` when it was a REQ or
    /// COUNT whose subscription id can be read, otherwise `NOTICE`.
    private func refuseUndecodable(_ bytes: [UInt8], _ error: WireError) {
        switch MessageSalvage.inspect(bytes) {
        case .event(let eventID?):
            outbox.send(.ok(eventID, accepted: false, message: error.reason))
        case .subscription(let subscription?) where error.code != .tooLarge:
            outbox.send(.closed(subscription, message: error.reason))
        case .negentropy(let subscription?) where error.code != .tooLarge:
            negentropy.refuseUndecodable(subscription, reason: error.reason)
        default:
            outbox.send(.notice(error.reason))
        }
    }
}
