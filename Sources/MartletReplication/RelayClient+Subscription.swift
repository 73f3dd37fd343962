public import NostrCore
import Synchronization

/// A subscription that stays open on a relay after its EOSE, delivering new events as the
/// relay fans them out: how a mesh peer follows what another relay accepts.
///
/// ```swift
/// let (live, stored) = try await client.subscribe([Filter(limit: 0)])
/// while true { for event in try await live.next() { handle(event) } }
/// ```
public final class RelaySubscription: Sendable {
    public let id: SubscriptionID
    private let client: RelayClient
    private let mailbox: Mailbox
    /// Messages that came in one batch with the EOSE, after it.
    private let early: Mutex<[RelayMessage]>

    init(id: SubscriptionID, client: RelayClient, mailbox: Mailbox, early: [RelayMessage]) {
        self.id = id
        self.client = client
        self.mailbox = mailbox
        self.early = Mutex(early)
    }

    /// The events that arrived since the last call, waiting as long as it takes for one
    /// (decoded, not yet verified). Throws `.subscriptionClosed` when the relay sends
    /// `CLOSED`, `.connectionClosed` when the connection ends, `.cancelled` when the
    /// waiting task is.
    public func next() async throws -> [Event] {
        while true {
            var messages = early.withLock { early in
                defer { early = [] }
                return early
            }
            do {
                if messages.isEmpty {
                    messages = try await mailbox.next(timeout: .seconds(3600), waitingFor: "events of \(id)")
                }
            } catch RelayClientError.timedOut {
                // A quiet relay is not a failure; a dead connection ends the mailbox instead.
                continue
            }
            var events: [Event] = []
            for message in messages {
                switch message {
                case .event(_, let json):
                    if let event = try? EventDecoder.decode(json: json) { events.append(event) }
                case .closed(_, let reason):
                    throw RelayClientError.subscriptionClosed(id, reason)
                default:
                    continue
                }
            }
            if !events.isEmpty { return events }
        }
    }

    /// Ends the subscription on the relay (`CLOSE`) and here.
    public func close() async {
        client.routes.withLock { _ = $0.subscriptions.removeValue(forKey: id) }
        try? await client.send(.close(id))
    }
}

extension RelayClient {
    /// Opens a subscription and waits for its EOSE; returns it with the stored events that
    /// came before the EOSE. Retried once after authenticating when the relay closed it
    /// with `auth-required:` and this client has a signer.
    public func subscribe(_ filters: [Filter]) async throws -> (subscription: RelaySubscription, stored: [Event]) {
        try await retryingAfterAuthentication { try await subscribeOnce(filters) }
    }

    private func subscribeOnce(_ filters: [Filter]) async throws -> (subscription: RelaySubscription, stored: [Event]) {
        let id = makeSubscriptionID("live")
        let mailbox = try open { $0.subscriptions[id] = $1 }
        do {
            try await send(.req(id, filters))
            var stored: [Event] = []
            while true {
                let messages = try await mailbox.next(timeout: replyTimeout, waitingFor: "EOSE of \(id)")
                for (index, message) in messages.enumerated() {
                    switch message {
                    case .event(_, let json):
                        if let event = try? EventDecoder.decode(json: json) { stored.append(event) }
                    case .eose:
                        let early = Array(messages[(index + 1)...])
                        return (RelaySubscription(id: id, client: self, mailbox: mailbox, early: early), stored)
                    case .closed(_, let reason):
                        throw RelayClientError.subscriptionClosed(id, reason)
                    default:
                        continue
                    }
                }
            }
        } catch {
            routes.withLock { _ = $0.subscriptions.removeValue(forKey: id) }
            throw error
        }
    }
}
