public import Logging
public import Negentropy
public import NostrCore
import Synchronization

/// A client connection to another Nostr relay: what `martlet sync` and mesh peers use
/// to publish, fetch and reconcile over the wire.
///
/// Replies are routed by what they answer (a subscription id, a negentropy session id,
/// an event id), so any number of conversations can run at once on the one connection.
/// Every wait is bounded by `replyTimeout`.
///
/// ```swift
/// let client = try await RelayClient.connect(to: "wss://relay.example.com")
/// let (accepted, message) = try await client.publish(event)
/// let notes = try await client.fetch([Filter(kinds: [1], limit: 20)])
/// await client.close()
/// ```
public final class RelayClient: Sendable {
    /// The relay's URL.
    public let url: String
    /// How long any reply may take before the wait fails with `.timedOut`.
    public let replyTimeout: Duration
    private let link: WebSocketLink
    let routes = Mutex(Routes())
    /// NIP-42 answers, when the client was given a key to sign them with.
    let authentication: ClientAuthentication?
    private let counter = Atomic<UInt64>(0)
    private let logger: Logger

    /// Largest message read from the relay.
    static let maxMessageLength = 32 << 20

    /// Where incoming messages go, by what they answer.
    struct Routes: Sendable {
        var subscriptions: [SubscriptionID: Mailbox] = [:]
        var negentropy: [SubscriptionID: Mailbox] = [:]
        /// Several when the same event is being published twice at once (a mesh's live
        /// stream and its catch-up can both send it): each publisher gets the `OK`.
        var oks: [EventID: [Mailbox]] = [:]
        var lastNotice: String?
        var ended: RelayClientError?
    }

    private init(
        url: String, replyTimeout: Duration, link: WebSocketLink, authentication: ClientAuthentication?, logger: Logger
    ) {
        self.url = url
        self.authentication = authentication
        self.replyTimeout = replyTimeout
        self.link = link
        self.logger = logger
    }

    /// Opens a WebSocket to `url` (`ws://` or `wss://`); throws when the relay cannot be
    /// reached, or has not answered the upgrade within `replyTimeout`.
    /// - Parameters:
    ///   - signer: the key that answers the relay's NIP-42 challenges; without it they are ignored.
    ///   - pingInterval: how often to ping the relay, so that a connection that silently
    ///     died (a partition) ends instead of waiting forever; nil sends no pings.
    public static func connect(
        to url: String, replyTimeout: Duration = .seconds(30), signer: SecretKey? = nil, pingInterval: Duration? = nil,
        logger: Logger = Logger(label: "martlet.client")
    ) async throws -> RelayClient {
        // The first messages can arrive before the client exists; the box hands it over.
        let box = RouteBox()
        let link = try await WebSocketLink.connect(
            to: url, timeout: replyTimeout, pingInterval: pingInterval, maxMessageLength: maxMessageLength,
            logger: logger, receive: { message in await box.wait()?.route(message) },
            ended: { box.client?.connectionEnded() })
        let client = RelayClient(
            url: url, replyTimeout: replyTimeout, link: link,
            authentication: signer.map { ClientAuthentication(secret: $0) }, logger: logger)
        box.set(client)
        return client
    }

    /// Closes the connection and waits until it is closed.
    public func close() async {
        await link.close()
    }

    // MARK: Sending

    /// Sends one message.
    public func send(_ message: ClientMessage) async throws {
        try await send(frame: message.encoded())
    }

    /// Sends one text frame as it is.
    public func send(frame: [UInt8]) async throws {
        try await link.send(frame: frame)
    }

    /// The last `NOTICE` the relay sent, if any.
    public var lastNotice: String? { routes.withLock { $0.lastNotice } }

    /// A subscription id not used before on this connection.
    public func makeSubscriptionID(_ prefix: String = "martlet") -> SubscriptionID {
        SubscriptionID("\(prefix)-\(counter.wrappingAdd(1, ordering: .relaxed).newValue)")
    }

    // MARK: Conversations

    /// Publishes `event` and waits for the relay's `OK` (NIP-01); sends it once more after
    /// authenticating when the relay answered `auth-required:` and this client has a signer.
    public func publish(_ event: Event) async throws -> (accepted: Bool, message: String) {
        let answer = try await publishOnce(event)
        guard !answer.accepted, ClientAuthentication.isRequired(answer.message), await authenticated() else { return answer }
        return try await publishOnce(event)
    }

    private func publishOnce(_ event: Event) async throws -> (accepted: Bool, message: String) {
        let mailbox = try open { $0.oks[event.id, default: []].append($1) }
        defer {
            routes.withLock { routes in
                routes.oks[event.id]?.removeAll { $0 === mailbox }
                if routes.oks[event.id]?.isEmpty == true { routes.oks[event.id] = nil }
            }
        }
        try await send(.event(event))
        while true {
            for case .ok(_, let accepted, let message) in try await mailbox.next(
                timeout: replyTimeout, waitingFor: "the OK for event \(event.id)")
            {
                return (accepted, message)
            }
        }
    }

    /// The stored events matching `filters`, up to EOSE, as the relay sent them
    /// (decoded, not yet verified: `Event.validate()` is the caller's choice). Events
    /// that do not decode are skipped. Throws `.subscriptionClosed` on `CLOSED`.
    /// - Parameter maxEvents: past this many events the subscription is closed and what came
    ///   so far returned: a relay that ignores the filters' `limit` cannot make us hold more.
    public func fetch(_ filters: [Filter], maxEvents: Int = .max) async throws -> [Event] {
        try await retryingAfterAuthentication { try await fetchOnce(filters, maxEvents: maxEvents) }
    }

    private func fetchOnce(_ filters: [Filter], maxEvents: Int) async throws -> [Event] {
        let subscription = makeSubscriptionID("fetch")
        let mailbox = try open { $0.subscriptions[subscription] = $1 }
        defer { routes.withLock { _ = $0.subscriptions.removeValue(forKey: subscription) } }
        try await send(.req(subscription, filters))
        var events: [Event] = []
        while true {
            for message in try await mailbox.next(timeout: replyTimeout, waitingFor: "EOSE of \(subscription)") {
                switch message {
                case .event(_, let json):
                    do {
                        events.append(try EventDecoder.decode(json: json))
                    } catch {
                        logger.debug("skipped an undecodable event", metadata: ["reason": "\(error.reason)"])
                    }
                    if events.count >= maxEvents {
                        try? await send(.close(subscription))
                        return events
                    }
                case .eose:
                    try? await send(.close(subscription))
                    return events
                case .closed(_, let reason):
                    throw RelayClientError.subscriptionClosed(subscription, reason)
                default:
                    continue
                }
            }
        }
    }

    /// Runs a NIP-77 reconciliation as the initiator: which ids of `items` (the local
    /// side's item set for `filter`) the relay lacks, and which ids matching `filter`
    /// the relay has that `items` lacks. `onRound` sees each round's running totals.
    public func reconcile(
        _ filter: Filter, items: SortedItems, frameSizeLimit: Int = 60_000,
        onRound: @Sendable (NegentropyDifference) -> Void = { _ in }
    ) async throws -> NegentropyDifference {
        try await retryingAfterAuthentication {
            try await reconcileOnce(filter, items: items, frameSizeLimit: frameSizeLimit, onRound: onRound)
        }
    }

    private func reconcileOnce(
        _ filter: Filter, items: SortedItems, frameSizeLimit: Int, onRound: @Sendable (NegentropyDifference) -> Void
    ) async throws -> NegentropyDifference {
        let initiator = try NegentropyInitiator(storage: items, frameSizeLimit: frameSizeLimit)
        let subscription = makeSubscriptionID("neg")
        let mailbox = try open { $0.negentropy[subscription] = $1 }
        defer { routes.withLock { _ = $0.negentropy.removeValue(forKey: subscription) } }
        var unlimited = filter
        unlimited.limit = nil
        try await send(.negOpen(subscription, unlimited, NegentropyHex.encode(initiator.initiate())))
        var difference = NegentropyDifference()
        while true {
            let messages: [RelayMessage]
            do {
                messages = try await mailbox.next(timeout: replyTimeout, waitingFor: "NEG-MSG of \(subscription)")
            } catch RelayClientError.timedOut(let what) {
                let notice = routes.withLock { $0.lastNotice }
                throw RelayClientError.timedOut(what + (notice.map { " (the relay said: \($0))" } ?? ""))
            }
            for message in messages {
                switch message {
                case .negMsg(_, let hex):
                    let round: Reconciliation
                    do {
                        round = try initiator.reconcile(NegentropyHex.decode(hex))
                    } catch {
                        try? await send(.negClose(subscription))
                        throw RelayClientError.negentropy(error)
                    }
                    difference.add(round)
                    onRound(difference)
                    guard let next = round.nextMessage else {
                        try? await send(.negClose(subscription))
                        return difference
                    }
                    try await send(.negMsg(subscription, NegentropyHex.encode(next)))
                case .negErr(_, let reason):
                    throw RelayClientError.negentropyRefused(subscription, reason)
                default:
                    continue
                }
            }
        }
    }

    // MARK: Routing

    func open(_ register: (inout Routes, Mailbox) -> Void) throws -> Mailbox {
        let mailbox = Mailbox()
        let ended = routes.withLock { routes -> RelayClientError? in
            if let ended = routes.ended { return ended }
            register(&routes, mailbox)
            return nil
        }
        if let ended { throw ended }
        return mailbox
    }

    fileprivate func route(_ bytes: [UInt8]) {
        let message: RelayMessage
        do {
            message = try RelayMessage.decode(bytes)
        } catch {
            logger.debug("skipped an undecodable message", metadata: ["reason": "\(error.reason)"])
            return
        }
        if let authentication, authentication.handle(message, from: self) { return }
        let mailboxes: [Mailbox] = routes.withLock { routes in
            switch message {
            case .event(let id, _), .eose(let id), .closed(let id, _), .count(let id, _, _, _):
                return routes.subscriptions[id].map { [$0] } ?? []
            case .negMsg(let id, _), .negErr(let id, _):
                return routes.negentropy[id].map { [$0] } ?? []
            case .ok(let id, _, _):
                return routes.oks[id] ?? []
            case .notice(let text):
                routes.lastNotice = text
                return []
            case .auth:
                return []
            }
        }
        if case .notice(let text) = message { logger.notice("relay notice", metadata: ["url": "\(url)", "notice": "\(text)"]) }
        for mailbox in mailboxes { mailbox.push(message) }
    }

    fileprivate func connectionEnded() {
        let mailboxes = routes.withLock { routes -> [Mailbox] in
            routes.ended = .connectionClosed
            return Array(routes.subscriptions.values) + Array(routes.negentropy.values) + routes.oks.values.flatMap { $0 }
        }
        for mailbox in mailboxes { mailbox.fail(.connectionClosed) }
        authentication?.connectionEnded()
    }
}

/// A yes-or-no that any task may set, once, and any other read.
///
/// ```swift
/// let answered = Flag()
/// Task { answered.set() }
/// ```
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Hands the reading task its client once `connect` has built it (the first messages
/// can arrive before that). Weak, so that a client dropped without `close()` still
/// ends its connection from `deinit`.
private final class RouteBox: Sendable {
    private struct State {
        weak var client: RelayClient?
        var waiters: [CheckedContinuation<RelayClient?, Never>] = []
    }

    private let state = Mutex(State())

    var client: RelayClient? { state.withLock { $0.client } }

    func set(_ client: RelayClient) {
        let waiters = state.withLock { state in
            state.client = client
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: client) }
    }

    func wait() async -> RelayClient? {
        if let client { return client }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> RelayClient?? in
                if let client = state.client { return .some(client) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
