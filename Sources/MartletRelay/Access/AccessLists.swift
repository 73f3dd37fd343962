public import NostrCore
import Synchronization

/// The relay's run-time access lists: allowed and banned pubkeys, banned events, blocked
/// IP addresses and allowed or denied kinds.
///
/// Seeded from the configuration; the management API (NIP-86) changes them while the relay
/// runs, and every connection sees a change at once because the policies read from here.
///
/// ```swift
/// relay.access.ban(pubkey)
/// relay.access.isAllowed(pubkey) // false
/// ```
public final class AccessLists: Sendable {
    public struct Snapshot: Sendable {
        public var allowedPubkeys: Set<PublicKey>
        public var bannedPubkeys: Set<PublicKey>
        public var bannedEvents: Set<EventID>
        public var blockedIPs: Set<String>
        public var allowedKinds: Set<Kind>?
        public var deniedKinds: Set<Kind>
    }

    private let state: Mutex<Snapshot>

    public init(_ access: RelayConfiguration.Access) {
        state = Mutex(
            Snapshot(
                allowedPubkeys: access.allowedPubkeys, bannedPubkeys: access.bannedPubkeys,
                bannedEvents: access.bannedEvents, blockedIPs: access.blockedIPs,
                allowedKinds: access.allowedKinds, deniedKinds: access.deniedKinds))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func isAllowed(_ pubkey: PublicKey) -> Bool { state.withLock { $0.allowedPubkeys.contains(pubkey) } }
    public func isBanned(_ pubkey: PublicKey) -> Bool { state.withLock { $0.bannedPubkeys.contains(pubkey) } }
    public func isBanned(_ event: EventID) -> Bool { state.withLock { $0.bannedEvents.contains(event) } }
    public func isBlocked(ip: String) -> Bool { state.withLock { $0.blockedIPs.contains(ip) } }

    /// Whether events of `kind` are accepted under the allow and deny lists.
    public func accepts(_ kind: Kind) -> Bool {
        state.withLock { lists in
            if lists.deniedKinds.contains(kind) { return false }
            return lists.allowedKinds?.contains(kind) ?? true
        }
    }

    public func allow(_ pubkey: PublicKey) { state.withLock { _ = $0.allowedPubkeys.insert(pubkey) } }
    public func disallow(_ pubkey: PublicKey) { state.withLock { _ = $0.allowedPubkeys.remove(pubkey) } }
    public func ban(_ pubkey: PublicKey) { state.withLock { _ = $0.bannedPubkeys.insert(pubkey) } }
    public func unban(_ pubkey: PublicKey) { state.withLock { _ = $0.bannedPubkeys.remove(pubkey) } }
    public func ban(_ event: EventID) { state.withLock { _ = $0.bannedEvents.insert(event) } }
    public func unban(_ event: EventID) { state.withLock { _ = $0.bannedEvents.remove(event) } }
    public func block(ip: String) { state.withLock { _ = $0.blockedIPs.insert(ip) } }
    public func unblock(ip: String) { state.withLock { _ = $0.blockedIPs.remove(ip) } }

    public func allow(_ kind: Kind) {
        state.withLock { lists in
            lists.deniedKinds.remove(kind)
            if lists.allowedKinds != nil { lists.allowedKinds?.insert(kind) }
        }
    }

    public func deny(_ kind: Kind) {
        state.withLock { lists in
            lists.deniedKinds.insert(kind)
            lists.allowedKinds?.remove(kind)
        }
    }
}
