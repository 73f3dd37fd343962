import MartletRelay
import NostrCore
import Synchronization

/// NIP-42 on the client side: a relay's `["AUTH", <challenge>]` is answered with a kind
/// 22242 event naming the relay and the challenge, signed with the client's key, and a
/// request the relay refused `auth-required:` can wait for that answer's `OK` and be sent
/// once more.
///
/// ```swift
/// let client = try await RelayClient.connect(to: url, signer: meshKey)
/// let events = try await client.fetch([filter]) // retried after AUTH if the relay asked for it
/// ```
final class ClientAuthentication: Sendable {
    let secret: SecretKey

    private enum Phase {
        /// No challenge answered yet.
        case idle
        /// AUTH sent; its `OK` not yet come.
        case pending(EventID)
        case accepted
        case refused(String)
    }

    private struct State {
        var phase = Phase.idle
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var tickets: UInt64 = 0
    }

    private let state = Mutex(State())

    init(secret: SecretKey) {
        self.secret = secret
    }

    static func isRequired(_ reason: String) -> Bool {
        reason.hasPrefix("auth-required:")
    }

    /// Takes the messages that belong to authentication (the challenge, the `OK` of our
    /// AUTH); false for every other message.
    func handle(_ message: RelayMessage, from client: RelayClient) -> Bool {
        switch message {
        case .auth(let challenge):
            let event = Event.signed(
                by: secret, kind: .authentication, createdAt: Duration.secondsSinceEpoch,
                tags: [["relay", client.url], ["challenge", challenge]], content: "")
            state.withLock { $0.phase = .pending(event.id) }
            Task { try? await client.send(.auth(event)) }
            return true
        case .ok(let id, let accepted, let reason):
            let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>]? in
                guard case .pending(let pending) = state.phase, pending == id else { return nil }
                state.phase = accepted ? .accepted : .refused(reason)
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            guard let waiters else { return false }
            for waiter in waiters { waiter.resume(returning: accepted) }
            return true
        default:
            return false
        }
    }

    /// Whether the relay accepted our AUTH, waiting for its `OK` when one is awaited. A
    /// relay that refuses with `auth-required:` sends its challenge first, so by then the
    /// answer is on its way. `waitingForChallenge`: with no challenge yet, wait for one
    /// too (a relay that challenges every connection as it opens).
    func outcome(waitingForChallenge: Bool = false) async -> Bool {
        let ticket = state.withLock { state in
            state.tickets += 1
            return state.tickets
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { state in
                    switch state.phase {
                    case .accepted: return true
                    case .refused: return false
                    case .idle where !waitingForChallenge: return false
                    case .idle, .pending:
                        if Task.isCancelled { return false }
                        state.waiters[ticket] = continuation
                        return nil
                    }
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume(returning: false)
        }
    }

    func connectionEnded() {
        let waiters = state.withLock { state in
            if case .pending = state.phase { state.phase = .refused("connection closed") }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }
}

extension RelayClient {
    /// Whether this client has authenticated (NIP-42), waiting up to `replyTimeout` for the
    /// answer to a challenge already answered. False without a signer.
    /// `waitingForChallenge`: also wait for the relay's challenge when none came yet.
    public func authenticated(waitingForChallenge: Bool = false) async -> Bool {
        guard let authentication else { return false }
        let timeout = replyTimeout
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await authentication.outcome(waitingForChallenge: waitingForChallenge) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Runs `request`, and once more after authenticating if the relay refused it with
    /// `auth-required:` (a `CLOSED` or `NEG-ERR`) and this client can authenticate.
    func retryingAfterAuthentication<T>(_ request: () async throws -> T) async throws -> T {
        do {
            return try await request()
        } catch let error as RelayClientError {
            guard let reason = error.refusal, ClientAuthentication.isRequired(reason), await authenticated() else {
                throw error
            }
            return try await request()
        }
    }
}

extension RelayClientError {
    /// The relay's reason when it refused a request.
    var refusal: String? {
        switch self {
        case .subscriptionClosed(_, let reason), .negentropyRefused(_, let reason): reason
        default: nil
        }
    }
}
