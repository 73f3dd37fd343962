import Logging
public import MartletAxon
import MartletStore
public import NostrCore

/// The operator's run-time changes to a relay (NIP-86's methods without the HTTP): bans,
/// allowlists, blocked addresses, kinds and the relay's name, description and icon.
///
/// Every change goes to the relay's live `AccessLists` or `RelayInfoBox`, so it holds for
/// connections already open, and is recorded in the store (when it keeps settings, see
/// `RelaySettingsStore`) before it is applied, so that what a caller was told is what a
/// restart brings back. `restore()` replays the recorded changes over the configuration's
/// lists; call it once before the relay takes connections. When the store is shared by
/// several relay nodes (`RelaySettingsFeed`), `followChangesOfOtherNodes()`, which the relay
/// runs, replays them again whenever another node records one, so that a change through any
/// node holds on all of them within moments.
///
/// ```swift
/// let administration = RelayAdministration(relay: relay)
/// try await administration.restore()
/// try await administration.ban(pubkey, reason: "spam")
/// ```
public actor RelayAdministration {
    /// The names of the recorded lists.
    public enum List: String, Sendable, CaseIterable {
        case bannedPubkeys = "banned_pubkeys"
        case allowedPubkeys = "allowed_pubkeys"
        case bannedEvents = "banned_events"
        case blockedIPs = "blocked_ips"
        /// Listed: `allowkind`; taken off: `disallowkind`.
        case kinds = "allowed_kinds"
        /// The ed25519 keys that may authenticate over axon (docs/axon.md).
        case axonKeys = "axon_allowlist"
    }

    /// The keys of the recorded settings.
    public enum Setting: String, Sendable, CaseIterable {
        case name = "relay.name"
        case description = "relay.description"
        case icon = "relay.icon"
    }

    /// One entry of a list as the API shows it.
    public struct Listed<Value: Sendable>: Sendable {
        public var value: Value
        public var reason: String?
    }

    public let relay: Relay
    private let settingsStore: (any RelaySettingsStore)?
    private let logger: Logger

    public init(relay: Relay) {
        self.relay = relay
        self.settingsStore = relay.store as? any RelaySettingsStore
        self.logger = relay.logger
    }

    // MARK: Start

    /// Applies every recorded change over the configuration's lists and info.
    public func restore() async throws {
        guard let settingsStore else { return }
        let (entries, settings) = try await replay(from: settingsStore, warn: true)
        if entries > 0 || settings > 0 {
            logger.info("restored management changes", metadata: ["entries": "\(entries)", "settings": "\(settings)"])
        }
    }

    /// Replays the recorded changes each time the shared store says they may have moved,
    /// until the task is cancelled; returns at once when the store is not shared. A replay
    /// that fails (the database is away) is tried again every 2 s, so that no change waits
    /// for the next one to be applied.
    public func followChangesOfOtherNodes() async {
        guard let shared = settingsStore as? any RelaySettingsFeed else { return }
        for await _ in shared.settingsChanges() {
            var failures = 0
            while !Task.isCancelled {
                do {
                    _ = try await replay(from: shared, warn: false)
                    if failures > 0 { logger.notice("management changes of other nodes read again") }
                    break
                } catch {
                    if failures == 0 { logger.warning("could not read the management changes of other nodes: \(error)") }
                    failures += 1
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
    }

    /// Applies every recorded entry and setting. The lists need no clearing first: each value
    /// has one entry, the operator's last word on it, and applying it twice changes nothing.
    private func replay(from store: any RelaySettingsStore, warn: Bool) async throws -> (entries: Int, settings: Int) {
        let entries = try await store.listEntries()
        let settings = try await store.settings()
        let bannedEvents = relay.access.snapshot.bannedEvents
        for entry in entries {
            guard let list = List(rawValue: entry.list), apply(list, entry.value, listed: entry.isListed) else {
                if warn {
                    logger.warning(
                        "ignoring a recorded list entry", metadata: ["list": "\(entry.list)", "value": "\(entry.value)"])
                }
                continue
            }
        }
        // A newly banned event must be refused, not answered from memory as a duplicate.
        if relay.access.snapshot.bannedEvents != bannedEvents { relay.pipeline.bannedEventsChanged() }
        relay.info.update { info in
            if let name = settings[Setting.name.rawValue] { info.name = name }
            if let description = settings[Setting.description.rawValue] { info.description = description }
            if let icon = settings[Setting.icon.rawValue] { info.icon = icon.isEmpty ? nil : icon }
        }
        return (entries.count, settings.count)
    }

    // MARK: Changes

    public func ban(_ pubkey: PublicKey, reason: String?) async throws {
        try await change(.bannedPubkeys, pubkey.hex, listed: true, reason: reason)
    }

    public func unban(_ pubkey: PublicKey) async throws {
        try await change(.bannedPubkeys, pubkey.hex, listed: false, reason: nil)
    }

    /// Also a NIP-43 member from now on: the relay publishes its member list again.
    public func allow(_ pubkey: PublicKey, reason: String?) async throws {
        try await change(.allowedPubkeys, pubkey.hex, listed: true, reason: reason)
        await relay.groups?.relayMembershipChanged(pubkey, isMember: true)
    }

    public func disallow(_ pubkey: PublicKey) async throws {
        try await change(.allowedPubkeys, pubkey.hex, listed: false, reason: nil)
        await relay.groups?.relayMembershipChanged(pubkey, isMember: false)
    }

    /// Bans an event and takes it out of the store, so it is neither served nor accepted again.
    public func ban(_ event: EventID, reason: String?) async throws {
        try await change(.bannedEvents, event.hex, listed: true, reason: reason)
        // Removed without a trace: the ban, not a deletion record, refuses it from now on.
        if try await relay.removeEvents([event]) > 0 {
            logger.info("banned event removed from the store", metadata: ["id": "\(event)"])
        }
    }

    public func unban(_ event: EventID) async throws {
        try await change(.bannedEvents, event.hex, listed: false, reason: nil)
    }

    /// Lets an ed25519 key authenticate over axon.
    public func allow(axonKey key: AxonAuthKey) async throws {
        try await change(.axonKeys, key.hex, listed: true, reason: nil)
    }

    public func disallow(axonKey key: AxonAuthKey) async throws {
        try await change(.axonKeys, key.hex, listed: false, reason: nil)
    }

    public func allowedAxonKeys() -> [AxonAuthKey] {
        relay.axonAllowlist.all
    }

    public func allow(_ kind: Kind) async throws {
        try await change(.kinds, String(kind.rawValue), listed: true, reason: nil)
    }

    public func disallow(_ kind: Kind) async throws {
        try await change(.kinds, String(kind.rawValue), listed: false, reason: nil)
    }

    /// Blocks an IP address or a CIDR range, recorded as `IPRange.description` spells it.
    public func block(ip: String, reason: String?) async throws {
        try await change(.blockedIPs, IPRange(ip)?.description ?? ip, listed: true, reason: reason)
    }

    public func unblock(ip: String) async throws {
        try await change(.blockedIPs, IPRange(ip)?.description ?? ip, listed: false, reason: nil)
    }

    public func change(_ setting: Setting, to value: String) async throws {
        try await settingsStore?.setSetting(setting.rawValue, to: value)
        relay.info.update { info in
            switch setting {
            case .name: info.name = value
            case .description: info.description = value
            case .icon: info.icon = value.isEmpty ? nil : value
            }
        }
        logger.notice("relay information changed", metadata: ["setting": "\(setting.rawValue)"])
    }

    /// Records the change, then applies it: a failed write changes nothing.
    private func change(_ list: List, _ value: String, listed: Bool, reason: String?) async throws {
        try await settingsStore?.recordListEntry(
            SettingsListEntry(list: list.rawValue, value: value, isListed: listed, reason: reason))
        _ = apply(list, value, listed: listed)
        logger.notice(
            "access list changed",
            metadata: ["list": "\(list.rawValue)", "value": "\(value)", "listed": "\(listed)"])
    }

    /// One change to the live lists; false when `value` is not of the list's type.
    private func apply(_ list: List, _ value: String, listed: Bool) -> Bool {
        let access = relay.access
        switch list {
        case .bannedPubkeys, .allowedPubkeys:
            guard let pubkey = PublicKey(hex: value) else { return false }
            switch (list, listed) {
            case (.bannedPubkeys, true): access.ban(pubkey)
            case (.bannedPubkeys, false): access.unban(pubkey)
            case (_, true): access.allow(pubkey)
            case (_, false): access.disallow(pubkey)
            }
        case .bannedEvents:
            guard let id = EventID(hex: value) else { return false }
            listed ? access.ban(id) : access.unban(id)
        case .blockedIPs:
            guard IPRange(value) != nil else { return false }
            listed ? access.block(ip: value) : access.unblock(ip: value)
        case .kinds:
            guard let number = UInt16(value) else { return false }
            listed ? access.allow(Kind(number)) : access.deny(Kind(number))
        case .axonKeys:
            guard let key = AxonAuthKey(hex: value) else { return false }
            if listed { relay.axonAllowlist.allow(key) } else { relay.axonAllowlist.disallow(key) }
        }
        return true
    }

    // MARK: Lists

    public func bannedPubkeys() async throws -> [Listed<PublicKey>] {
        try await listed(.bannedPubkeys, relay.access.snapshot.bannedPubkeys, \.hex)
    }

    public func allowedPubkeys() async throws -> [Listed<PublicKey>] {
        try await listed(.allowedPubkeys, relay.access.snapshot.allowedPubkeys, \.hex)
    }

    public func bannedEvents() async throws -> [Listed<EventID>] {
        try await listed(.bannedEvents, relay.access.snapshot.bannedEvents, \.hex)
    }

    public func blockedIPs() async throws -> [Listed<String>] {
        try await listed(.blockedIPs, relay.access.snapshot.blockedIPs, { $0 })
    }

    /// The kind allowlist, or nil when the relay has none (every kind not disallowed is accepted).
    public func allowedKinds() -> [Kind]? {
        relay.access.snapshot.allowedKinds.map { $0.sorted() }
    }

    public func disallowedKinds() -> [Kind] {
        relay.access.snapshot.deniedKinds.sorted()
    }

    /// The live list's values in a stable order, each with the reason recorded when it was
    /// added at run time (values from the configuration file have none).
    private func listed<Value: Sendable>(
        _ list: List, _ values: Set<Value>, _ text: (Value) -> String
    ) async throws -> [Listed<Value>] {
        var reasons: [String: String] = [:]
        for entry in try await settingsStore?.listEntries() ?? [] where entry.list == list.rawValue && entry.isListed {
            reasons[entry.value] = entry.reason
        }
        return values.map { (text: text($0), value: $0) }.sorted { $0.text < $1.text }.map { item in
            Listed(value: item.value, reason: reasons[item.text].flatMap { $0.isEmpty ? nil : $0 })
        }
    }
}
