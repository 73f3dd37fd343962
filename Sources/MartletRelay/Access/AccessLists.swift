public import NostrCore
import Synchronization

/// The relay's run-time access lists: allowed and banned pubkeys, banned events, blocked
/// IP addresses and allowed or denied kinds.
///
/// Seeded from the configuration; the management API (NIP-86) changes them while the relay
/// runs, and every connection sees a change at once because the policies read from here.
///
/// Every change bumps `generation`, so that a connection can keep a decision about itself
/// (may it still read?) and look again only when the lists have changed.
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
        /// Blocked addresses and CIDR ranges, as `IPRange.description` spells them.
        public var blockedIPs: Set<String>
        public var allowedKinds: Set<Kind>?
        public var deniedKinds: Set<Kind>
    }

    private struct State {
        var lists: Snapshot
        /// `lists.blockedIPs` parsed: single addresses by their bytes, ranges to scan.
        var blockedAddresses: Set<[UInt8]> = []
        var blockedRanges: [IPRange] = []

        init(_ lists: Snapshot) {
            self.lists = lists
            parseBlockedIPs()
        }

        mutating func parseBlockedIPs() {
            let ranges = lists.blockedIPs.compactMap(IPRange.init)
            blockedAddresses = Set(ranges.filter(\.isSingleAddress).map(\.network))
            blockedRanges = ranges.filter { !$0.isSingleAddress }
        }
    }

    private let state: Mutex<State>
    private let changes = Atomic<UInt64>(0)

    /// Lists from the configuration; block-list entries that are not an address or a CIDR
    /// range are dropped (the CLI refuses to start with one).
    public init(_ access: RelayConfiguration.Access) {
        state = Mutex(
            State(
                Snapshot(
                    allowedPubkeys: access.allowedPubkeys, bannedPubkeys: access.bannedPubkeys,
                    bannedEvents: access.bannedEvents,
                    blockedIPs: Set(access.blockedIPs.compactMap { IPRange($0)?.description }),
                    allowedKinds: access.allowedKinds, deniedKinds: access.deniedKinds)))
    }

    public var snapshot: Snapshot { state.withLock { $0.lists } }

    /// Changes so far: a value that differs from one read earlier means some list changed.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public func isAllowed(_ pubkey: PublicKey) -> Bool { state.withLock { $0.lists.allowedPubkeys.contains(pubkey) } }
    public func isBanned(_ pubkey: PublicKey) -> Bool { state.withLock { $0.lists.bannedPubkeys.contains(pubkey) } }
    public func isBanned(_ event: EventID) -> Bool { state.withLock { $0.lists.bannedEvents.contains(event) } }

    /// Whether `ip` (any spelling, IPv4-mapped IPv6 included) is blocked by an address or a range.
    public func isBlocked(ip: String) -> Bool {
        // Asked for every message a connection sends; most relays block nobody, and parsing
        // the address each time was 2% of an empty REQ's cost.
        guard state.withLock({ !$0.blockedAddresses.isEmpty || !$0.blockedRanges.isEmpty }),
            let address = IPAddress.bytes(ip)
        else { return false }
        return state.withLock { state in
            state.blockedAddresses.contains(address) || state.blockedRanges.contains { $0.contains(address) }
        }
    }

    /// Whether events of `kind` are accepted under the allow and deny lists.
    public func accepts(_ kind: Kind) -> Bool {
        state.withLock { state in
            if state.lists.deniedKinds.contains(kind) { return false }
            return state.lists.allowedKinds?.contains(kind) ?? true
        }
    }

    public func allow(_ pubkey: PublicKey) { change { _ = $0.lists.allowedPubkeys.insert(pubkey) } }
    public func disallow(_ pubkey: PublicKey) { change { _ = $0.lists.allowedPubkeys.remove(pubkey) } }
    public func ban(_ pubkey: PublicKey) { change { _ = $0.lists.bannedPubkeys.insert(pubkey) } }
    public func unban(_ pubkey: PublicKey) { change { _ = $0.lists.bannedPubkeys.remove(pubkey) } }
    public func ban(_ event: EventID) { change { _ = $0.lists.bannedEvents.insert(event) } }
    public func unban(_ event: EventID) { change { _ = $0.lists.bannedEvents.remove(event) } }

    /// Blocks an address or a CIDR range; a spelling that is neither is ignored.
    public func block(ip: String) {
        guard let entry = IPRange(ip)?.description else { return }
        change { state in
            state.lists.blockedIPs.insert(entry)
            state.parseBlockedIPs()
        }
    }

    public func unblock(ip: String) {
        guard let entry = IPRange(ip)?.description else { return }
        change { state in
            state.lists.blockedIPs.remove(entry)
            state.parseBlockedIPs()
        }
    }

    public func allow(_ kind: Kind) {
        change { state in
            state.lists.deniedKinds.remove(kind)
            if state.lists.allowedKinds != nil { state.lists.allowedKinds?.insert(kind) }
        }
    }

    public func deny(_ kind: Kind) {
        change { state in
            state.lists.deniedKinds.insert(kind)
            state.lists.allowedKinds?.remove(kind)
        }
    }

    /// Replaces every list with a configuration's (a reload); the caller replays the
    /// operator's recorded changes over them.
    public func replace(with access: RelayConfiguration.Access) {
        change { state in
            state = State(
                Snapshot(
                    allowedPubkeys: access.allowedPubkeys, bannedPubkeys: access.bannedPubkeys,
                    bannedEvents: access.bannedEvents,
                    blockedIPs: Set(access.blockedIPs.compactMap { IPRange($0)?.description }),
                    allowedKinds: access.allowedKinds, deniedKinds: access.deniedKinds))
        }
    }

    private func change(_ body: (inout State) -> Void) {
        state.withLock { body(&$0) }
        changes.wrappingAdd(1, ordering: .releasing)
    }
}
