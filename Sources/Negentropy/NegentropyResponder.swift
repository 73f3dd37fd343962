/// The side that answers a sync (a relay serving `NEG-OPEN` / `NEG-MSG`).
///
/// It learns nothing itself: it answers each message so that the initiator can work
/// out the differences. It holds no state between messages, so a relay can keep one
/// per open subscription and drop it on `NEG-CLOSE`.
///
/// ```swift
/// let responder = try NegentropyResponder(storage: try SortedItems(matchingItems))
/// let reply = try responder.reconcile(try NegentropyHex.decode(initialMessageHex))
/// send(["NEG-MSG", subscriptionID, NegentropyHex.encode(reply)])
/// ```
public struct NegentropyResponder<Storage: NegentropyStorage> {
    private let reconciler: Reconciler<Storage>

    /// `frameSizeLimit` caps every answer: 0 for no limit, otherwise at least 4096
    /// bytes. Ranges that do not fit are deferred to a later round.
    public init(storage: Storage, frameSizeLimit: Int = 0) throws(NegentropyError) {
        reconciler = try Reconciler(storage: storage, frameSizeLimit: frameSizeLimit, role: .responder)
    }

    public var storage: Storage { reconciler.storage }

    /// The answer to one message from the initiator.
    ///
    /// A message in another protocol version is answered with `[0x61]` alone, so the
    /// initiator can retry in version 1; any other malformed message throws.
    public func reconcile(_ message: [UInt8]) throws(NegentropyError) -> [UInt8] {
        let decoded: NegentropyMessage
        do throws(NegentropyError) {
            decoded = try NegentropyMessage(decoding: message)
        } catch .unsupportedProtocolVersion {
            return [NegentropyMessage.protocolVersion]
        }
        var unusedHave = [NegentropyID]()
        var unusedNeed = [NegentropyID]()
        return reconciler.answer(decoded, have: &unusedHave, need: &unusedNeed).bytes
    }
}

extension NegentropyResponder: Sendable where Storage: Sendable {}
