public import Negentropy
public import NostrCore

/// Why a `RelayClient` conversation failed.
///
/// ```swift
/// do { _ = try await client.reconcile(filter, items: items) }
/// catch RelayClientError.negentropyRefused(_, let reason) { print(reason) } // "blocked: …"
/// ```
public enum RelayClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection ended (or was never opened).
    case connectionClosed
    /// No reply came in time; the text says what was awaited.
    case timedOut(String)
    /// The task waiting for a reply was cancelled.
    case cancelled
    /// The relay ended a subscription with `CLOSED` before its EOSE.
    case subscriptionClosed(SubscriptionID, String)
    /// The relay answered a negentropy session with `NEG-ERR` (NIP-77).
    case negentropyRefused(SubscriptionID, String)
    /// The relay's `NEG-MSG` is not a negentropy message this side can read.
    case negentropy(NegentropyError)

    public var description: String {
        switch self {
        case .connectionClosed: "the connection to the relay is closed"
        case .timedOut(let what): "timed out waiting for \(what)"
        case .cancelled: "cancelled"
        case .subscriptionClosed(let id, let reason): "the relay closed subscription \(id): \(reason)"
        case .negentropyRefused(_, let reason): "the relay refused negentropy sync: \(reason)"
        case .negentropy(let error): "the relay sent a malformed negentropy message: \(error)"
        }
    }
}

/// What a NIP-77 reconciliation found: the ids only this side has, and the ids only the
/// relay has.
///
/// ```swift
/// let difference = try await client.reconcile(filter, items: items)
/// upload(difference.have); download(difference.need)
/// ```
public struct NegentropyDifference: Sendable, Equatable {
    /// Ids this side has and the relay lacks.
    public var have: [EventID] = []
    /// Ids the relay has and this side lacks.
    public var need: [EventID] = []
    /// Messages the relay answered.
    public var rounds = 0

    public init() {}

    mutating func add(_ round: Reconciliation) {
        have.append(contentsOf: round.haveIDs.map(EventID.init))
        need.append(contentsOf: round.needIDs.map(EventID.init))
        rounds += 1
    }
}

