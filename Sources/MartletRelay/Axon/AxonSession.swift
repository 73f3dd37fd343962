public import MartletAxon
public import NostrCore
import MartletStore
import Synchronization

/// One axon connection (docs/axon.md): the MessagePack twin of `RelaySession`, over the
/// same pipeline, policies, store and subscription index.
///
/// The connection opens with a `Challenge`; until an allowlisted ed25519 key answers it,
/// anything else is answered 401 and the connection closed (the outbox ends, and the
/// transport closes once it has written the answer). After that, `Publish` goes through
/// `Relay.ingest(_:origin:)` exactly as a NIP-01 `EVENT`, `Subscribe` through the same
/// read checks, store query and live index as a `REQ`.
///
/// ```swift
/// let session = relay.makeAxonSession(remoteAddress: "127.0.0.1")  // Challenge queued
/// await session.receive(authFrame)                                   // Ok, or 401 and closed
/// await session.receive(publishFrame)                                // Ok {id} or Error {code}
/// ```
public final class AxonSession: LiveEventSubscriber, Sendable {
    public let id: UInt64
    public let remoteAddress: String?
    /// This connection's 32 random bytes, signed with the relay's URL by the auth.
    public let nonce: [UInt8]
    public let outbox: Outbox
    let relay: Relay
    private let state = Mutex(State())
    private let eventsInFlight = EventsInFlight()

    private struct State {
        var authenticatedAs: AxonAuthKey?
        var subscriptions: [SubscriptionID: Subscription] = [:]
        var closed = false
        /// Whether the address was blocked, as of a generation of the access lists.
        var addressBlocked: (generation: UInt64, blocked: Bool)?
    }

    /// A subscription's filters (with their prefixes) and its phase, as in `RelaySession`:
    /// live events wait while the stored ones are sent.
    private struct Subscription {
        var filters: [AxonFilter]
        var heldBack: [Event]?
        var prefix: [UInt8]

        /// Whether an event the index matched still has to pass the filters here: only when
        /// some filter has a prefix, which the index left out. Otherwise the index's match
        /// is the whole answer, and checking the filters again cost each delivery as much
        /// as the index did.
        func admits(_ event: Event) -> Bool {
            !filters.contains(where: \.hasPrefixes) || filters.contains(where: { $0.matches(event) })
        }
    }

    init(id: UInt64, relay: Relay, remoteAddress: String?) {
        self.id = id
        self.relay = relay
        self.remoteAddress = remoteAddress
        var generator = SystemRandomNumberGenerator()
        self.nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.outbox = Outbox(byteLimit: relay.configuration.outboxByteLimit)
        outbox.send(frame: AxonRelayMessage.challenge(nonce: nonce).encoded())
    }

    /// The key this connection authenticated as, once it has.
    public var authenticatedAs: AxonAuthKey? { state.withLock { $0.authenticatedAs } }

    /// The largest frame read; larger ones are answered 413 without being decoded.
    public var maxFrameLength: Int { relay.configuration.limits.maxMessageLength }

    /// Handles one binary frame from the client.
    public func receive(_ frame: [UInt8]) async {
        guard let key = authenticatedAs else { return authenticate(frame) }
        if frame.count > maxFrameLength { return refuseOversized() }
        let message: AxonClientMessage
        do {
            message = try AxonClientMessage.decode(frame)
        } catch {
            send(.error(.malformed, "invalid: \(error.detail)"))
            return
        }
        switch message {
        case .auth(let other, _):
            send(.error(.malformed, "invalid: this connection is already authenticated as \(key == other ? "this key" : key.hex)"))
        case .publish(let event):
            await receiveEvent(event)
        case .subscribe(let sub, let filters):
            await subscribe(SubscriptionID(sub), filters)
        case .unsubscribe(let sub):
            unsubscribe(SubscriptionID(sub))
        }
    }

    /// A frame too large to read: 413, and before authentication the connection ends too.
    public func refuseOversized() {
        guard authenticatedAs != nil else {
            return refuseAuthentication("auth-required: a frame larger than \(maxFrameLength) bytes before auth")
        }
        send(.error(.tooLarge, "invalid: frame is larger than \(maxFrameLength) bytes"))
    }

    /// Ends the session: its subscriptions stop and its outbox closes.
    public func close() {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            state.subscriptions.removeAll()
            return !state.closed
        }
        guard wasOpen else { return }
        relay.sessionClosed(id: id)
        outbox.close()
    }

    private func send(_ message: AxonRelayMessage) {
        outbox.send(frame: message.encoded())
    }

    // MARK: Auth

    /// The seed's handshake: the first frame must be an `Auth` whose ed25519 signature over
    /// SHA256(nonce || relay_url) verifies with an allowlisted key. Anything else, a replayed
    /// signature (another connection's nonce) included, is 401 and the connection closes.
    private func authenticate(_ frame: [UInt8]) {
        if frame.count > maxFrameLength { return refuseOversized() }
        let message: AxonClientMessage
        do {
            message = try AxonClientMessage.decode(frame)
        } catch {
            return refuseAuthentication("auth-required: the first message must be a valid auth (\(error.detail))")
        }
        guard case .auth(let key, let signature) = message else {
            return refuseAuthentication("auth-required: authenticate before anything else")
        }
        guard relay.axonAllowlist.contains(key) else {
            return refuseAuthentication("restricted: this key is not on the relay's axon allowlist")
        }
        let urls = relay.configuration.axon.relayURL.map { [$0] } ?? AxonSession.spellings(of: relay.addresses.all)
        guard AxonAuthentication.verify(signature, by: key, nonce: nonce, relayURLs: urls) else {
            return refuseAuthentication("auth-required: the signature is not this key's over this connection's nonce and the relay's URL")
        }
        state.withLock { $0.authenticatedAs = key }
        send(.ok(nil))
    }

    /// Every URL the relay is known by, with and without a trailing slash: a client signs
    /// the URL it dialled, which may be spelt either way.
    static func spellings(of urls: [String]) -> [String] {
        urls.flatMap { url in url.hasSuffix("/") ? [url, String(url.dropLast())] : [url, url + "/"] }
    }

    private func refuseAuthentication(_ message: String) {
        send(.error(.unauthenticated, message))
        close()
    }

    // MARK: Publish

    private func receiveEvent(_ event: Event) async {
        let limit = relay.configuration.axon.maxContentBytes
        if event.content.utf8.count > limit {
            send(.error(.tooLarge, "invalid: content is larger than \(limit) bytes", id: event.id))
            return
        }
        await eventsInFlight.run { await self.finishEvent(event) }
    }

    private func finishEvent(_ event: Event) async {
        // The ed25519 key admits the connection; the event's BIP-340 author is not thereby
        // authenticated (NIP-42), so NIP-70 and private-relay rules see no pubkey.
        let origin = IngestOrigin.client(session: id, remoteAddress: remoteAddress, authenticated: [])
        let outcome = await relay.ingest(event, origin: origin)
        send(AxonSession.answer(outcome, for: event.id))
    }

    /// The axon answer to an ingest outcome: `Ok {id}`, 409 for a duplicate, otherwise
    /// the refusal's code and its NIP-01 message.
    static func answer(_ outcome: IngestOutcome, for id: EventID) -> AxonRelayMessage {
        switch outcome {
        // A silent refusal is answered as an acceptance, as over NIP-01.
        case .accepted, .shadowRejected: .ok(id)
        case .duplicate: .error(.duplicate, outcome.message, id: id)
        case .refused(let reason): .error(AxonErrorCode(reason.prefix), reason.message, id: id)
        }
    }

    // MARK: Subscribe

    private func subscribe(_ subscription: SubscriptionID, _ axonFilters: [AxonFilter]) async {
        let limits = relay.configuration.limits
        let filters = axonFilters.map(\.filter)
        if let refusal = checkRequest(subscription, filters) {
            send(.error(AxonErrorCode(refusal.prefix), refusal.message, sub: subscription.value))
            return
        }
        let prefix = AxonRelayMessage.eventPrefix(sub: subscription.value)
        state.withLock {
            $0.subscriptions[subscription] = Subscription(filters: axonFilters, heldBack: [], prefix: prefix)
        }
        relay.subscriptions.insert(LiveSubscription(session: self, id: subscription, filters: filters))

        // A prefix is checked here, after the store: its filter reads as far as max_limit.
        let bounded = axonFilters.map { axonFilter in
            var filter = axonFilter.filter
            filter.limit = axonFilter.hasPrefixes ? limits.maxLimit : min(filter.limit ?? limits.defaultLimit, limits.maxLimit)
            return filter
        }
        let stored: [Event]
        do {
            stored = try await relay.store.query(
                bounded, maxLimit: limits.maxLimit, now: relay.clock(),
                visibility: relay.visibility(for: readContext), timeout: limits.queryTimeout)
        } catch {
            relay.logger.warning("axon query failed: \(error)")
            unsubscribe(subscription)
            send(.error(.internal, "error: could not query the store", sub: subscription.value))
            return
        }
        guard isLoading(subscription) else { return }
        let selected = AxonSession.select(stored, axonFilters, defaultLimit: limits.defaultLimit, maxLimit: limits.maxLimit)
        let reader = readContext
        for event in selected where relay.canSee(event, context: reader) {
            outbox.send(frame: prefix + AxonEventCoding.encode(event))
        }
        send(.endOfStored(sub: subscription.value))
        let heldBack: [Event] = state.withLock { state in
            guard let held = state.subscriptions[subscription]?.heldBack else { return [] }
            state.subscriptions[subscription]?.heldBack = nil
            return held
        }
        let sent = Set(selected.map(\.id))
        for event in heldBack where !sent.contains(event.id) {
            outbox.send(frame: prefix + AxonEventCoding.encode(event))
        }
    }

    /// The stored events the filters select: a filter without prefixes was limited by the
    /// store; one with prefixes keeps its own `limit` of the candidates its prefixes match.
    static func select(_ stored: [Event], _ filters: [AxonFilter], defaultLimit: Int, maxLimit: Int) -> [Event] {
        guard filters.contains(where: \.hasPrefixes) else { return stored }
        var budgets = filters.map { min($0.filter.limit ?? defaultLimit, maxLimit) }
        return stored.filter { event in
            for (index, filter) in filters.enumerated() where filter.matches(event) {
                if !filter.hasPrefixes { return true }
                if budgets[index] > 0 {
                    budgets[index] -= 1
                    return true
                }
            }
            return false
        }
    }

    private func isLoading(_ subscription: SubscriptionID) -> Bool {
        state.withLock { $0.subscriptions[subscription]?.heldBack != nil }
    }

    private func unsubscribe(_ subscription: SubscriptionID) {
        state.withLock { _ = $0.subscriptions.removeValue(forKey: subscription) }
        relay.subscriptions.remove(session: id, id: subscription)
    }

    /// NIP-01's request checks, the same limits and read policies as a REQ.
    private func checkRequest(_ subscription: SubscriptionID, _ filters: [Filter]) -> RejectReason? {
        let limits = relay.configuration.limits
        if subscription.value.unicodeScalars.count > limits.maxSubscriptionIDLength {
            return .invalid("subscription id is longer than \(limits.maxSubscriptionIDLength) characters")
        }
        if filters.count > limits.maxFilters { return .invalid("too many filters (max \(limits.maxFilters))") }
        if let refusal = limits.checkFilterLists(filters) { return refusal }
        if let refusal = relay.checkRead(filters, context: readContext) { return refusal }
        let active = state.withLock { state in
            state.subscriptions.count - (state.subscriptions[subscription] == nil ? 0 : 1)
        }
        if active >= limits.maxSubscriptions {
            return .blocked("too many open subscriptions (max \(limits.maxSubscriptions))")
        }
        return nil
    }

    var readContext: ReadContext { ReadContext(authenticated: [], remoteAddress: remoteAddress) }

    // MARK: Live delivery

    public func deliver(_ event: Event, to subscription: SubscriptionID) {
        if addressIsBlocked() { return }
        guard relay.canSee(event, context: readContext) else { return }
        let prefix = state.withLock { (state) -> [UInt8]? in
            // The index matched the filters without their prefixes; they are checked here.
            guard var entry = state.subscriptions[subscription], entry.admits(event)
            else { return nil }
            if var held = entry.heldBack {
                if held.count < RelaySession.maxHeldBackEvents { held.append(event) }
                entry.heldBack = held
                state.subscriptions[subscription] = entry
                return nil
            }
            return entry.prefix
        }
        if let prefix { outbox.send(encodedEvent: AxonSession.encodedForFanOut(event), after: prefix) }
    }

    /// Whether the operator has blocked this connection's address. Decided again only when
    /// the access lists change (their `generation`), as `RelaySession` does: parsing the
    /// address and searching the ranges on every delivery was a tenth of the fan-out's CPU.
    private func addressIsBlocked() -> Bool {
        guard let remoteAddress else { return false }
        let generation = relay.access.generation
        if let known = state.withLock({ $0.addressBlocked }), known.generation == generation {
            return known.blocked
        }
        let blocked = relay.access.isBlocked(ip: remoteAddress)
        state.withLock { $0.addressBlocked = (generation, blocked) }
        return blocked
    }

    /// The event map of the event being fanned out, encoded once for all its axon
    /// subscribers: fan-out calls `deliver` for one event after another, so one slot holds
    /// the event of the moment (the NIP-01 path shares its stored JSON the same way).
    /// Keyed by id and signature: the same id may come signed twice (BIP-340 signatures
    /// are randomised), and the subscriber must get the copy that was accepted.
    private static let lastEncoded = Mutex<(id: EventID, sig: Signature, bytes: [UInt8])?>(nil)

    static func encodedForFanOut(_ event: Event) -> [UInt8] {
        if let cached = lastEncoded.withLock({ $0 }), cached.id == event.id, cached.sig == event.sig {
            return cached.bytes
        }
        let bytes = AxonEventCoding.encode(event)
        lastEncoded.withLock { $0 = (event.id, event.sig, bytes) }
        return bytes
    }
}

extension AxonErrorCode {
    /// The code of a NIP-01 refusal (docs/axon.md has the table).
    public init(_ prefix: RejectReason.Prefix) {
        switch prefix {
        case .invalid, .unsupported: self = .malformed
        case .authRequired: self = .unauthenticated
        case .blocked, .restricted, .pow, .mute: self = .notAllowed
        case .duplicate: self = .duplicate
        case .rateLimited: self = .rateLimited
        case .error: self = .internal
        }
    }
}

extension Relay {
    /// A session for one new axon connection; its `Challenge` is already in its outbox.
    public func makeAxonSession(remoteAddress: String?) -> AxonSession {
        let id = nextSessionID.wrappingAdd(1, ordering: .relaxed).oldValue
        openSessions.wrappingAdd(1, ordering: .relaxed)
        metrics.recordConnectionOpened()
        return AxonSession(id: id, relay: self, remoteAddress: remoteAddress)
    }
}
