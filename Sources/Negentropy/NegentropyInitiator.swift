/// The side that starts a sync (a client, or a relay syncing from a peer) and learns
/// which ids each side is missing.
///
/// It holds no state between rounds: every answer is computed from the peer's last
/// message and the storage, so the same value can drive any number of rounds.
///
/// ```swift
/// let initiator = try NegentropyInitiator(storage: try SortedItems(localItems))
/// var message = initiator.initiate()                  // send as NEG-OPEN
/// while true {
///     let round = try initiator.reconcile(peerAnswer(to: message))
///     upload(round.haveIDs); download(round.needIDs)
///     guard let next = round.nextMessage else { break } // in sync: send NEG-CLOSE
///     message = next                                    // send as NEG-MSG
/// }
/// ```
public struct NegentropyInitiator<Storage: NegentropyStorage> {
    private let reconciler: Reconciler<Storage>

    /// `frameSizeLimit` caps every message this side writes after the first: 0 for no
    /// limit, otherwise at least 4096 bytes. Ranges that do not fit are deferred to a
    /// later round, so a limit costs round trips, never correctness.
    public init(storage: Storage, frameSizeLimit: Int = 0) throws(NegentropyError) {
        reconciler = try Reconciler(storage: storage, frameSizeLimit: frameSizeLimit, role: .initiator)
    }

    public var storage: Storage { reconciler.storage }

    /// The first message, covering the whole set (at most about 1 KB whatever its size).
    public func initiate() -> [UInt8] {
        reconciler.initialMessage()
    }

    /// Reads the responder's answer and writes the next message.
    ///
    /// Throws `.unsupportedProtocolVersion` if the responder speaks only a protocol
    /// this side does not, and the other cases of `NegentropyError` for a malformed
    /// answer.
    public func reconcile(_ message: [UInt8]) throws(NegentropyError) -> Reconciliation {
        let decoded = try NegentropyMessage(decoding: message)
        var round = Reconciliation(nextMessage: nil, haveIDs: [], needIDs: [])
        let out = reconciler.answer(decoded, have: &round.haveIDs, need: &round.needIDs)
        round.nextMessage = out.isEmpty ? nil : out.bytes
        return round
    }
}

extension NegentropyInitiator: Sendable where Storage: Sendable {}

/// What one round taught the initiator, and what to send next.
///
/// The id lists cover only this round; a caller that wants the totals adds them up.
///
/// ```swift
/// let round = try initiator.reconcile(answer)
/// if round.isComplete { print("in sync") }
/// ```
public struct Reconciliation: Equatable, Sendable {
    /// The next message for the responder, or `nil` when every range is settled.
    public var nextMessage: [UInt8]?
    /// Ids this side has and the responder lacks.
    public var haveIDs: [NegentropyID]
    /// Ids the responder has and this side lacks.
    public var needIDs: [NegentropyID]

    public init(nextMessage: [UInt8]?, haveIDs: [NegentropyID], needIDs: [NegentropyID]) {
        self.nextMessage = nextMessage
        self.haveIDs = haveIDs
        self.needIDs = needIDs
    }

    public var isComplete: Bool { nextMessage == nil }
}
