public import NostrCore
import Synchronization

/// Every live subscription of every connection, indexed so that a new event is tested
/// only against the filters that could match it.
///
/// Each filter is filed under its most selective condition (ids, then authors, then one tag
/// condition, then kinds); filters with none of these go on a short list tested for every
/// event. An event then gathers candidates by its id, author, single-letter tag values and
/// kind, and each candidate's full filters decide.
///
/// ```swift
/// index.insert(LiveSubscription(session: session, id: subscription, filters: filters))
/// for target in index.matches(event) { target.session.deliver(event, to: target.id) }
/// ```
public final class SubscriptionIndex: Sendable {
    private let state = Mutex(State())

    public init() {}

    /// Adds `subscription`, replacing one with the same session and id.
    public func insert(_ subscription: LiveSubscription) {
        state.withLock { state in
            state.remove(subscription.key)
            state.insert(subscription)
        }
    }

    /// Removes one subscription.
    public func remove(session: UInt64, id: SubscriptionID) {
        state.withLock { $0.remove(.init(session: session, id: id)) }
    }

    /// Removes every subscription of a session.
    public func removeAll(session: UInt64) {
        state.withLock { state in
            for key in state.subscriptions.keys where key.session == session { state.remove(key) }
        }
    }

    /// The number of live subscriptions.
    public var count: Int { state.withLock { $0.subscriptions.count } }

    /// The subscriptions with at least one filter matching `event`.
    public func matches(_ event: Event) -> [LiveSubscription] {
        state.withLock { state in
            var candidates = Set<SubscriptionKey>()
            state.byID[event.id].map { candidates.formUnion($0) }
            state.byAuthor[event.pubkey].map { candidates.formUnion($0) }
            state.byKind[event.kind].map { candidates.formUnion($0) }
            candidates.formUnion(state.unindexed)
            for tag in event.tags where tag.fields.count > 1 {
                guard let letter = tag.indexLetter else { continue }
                state.byTag[TagKey(letter: letter, value: tag.fields[1])].map { candidates.formUnion($0) }
            }
            return candidates.compactMap { key in
                guard let subscription = state.subscriptions[key],
                    subscription.filters.contains(where: { $0.matches(event) })
                else { return nil }
                return subscription
            }
        }
    }
}

/// A subscription that receives live events.
public struct LiveSubscription: Sendable {
    public let session: RelaySession
    public let id: SubscriptionID
    public let filters: [Filter]

    public init(session: RelaySession, id: SubscriptionID, filters: [Filter]) {
        self.session = session
        self.id = id
        self.filters = filters
    }

    var key: SubscriptionKey { SubscriptionKey(session: session.id, id: id) }
}

struct SubscriptionKey: Hashable {
    var session: UInt64
    var id: SubscriptionID
}

struct TagKey: Hashable {
    var letter: UInt8
    var value: String
}

private struct State {
    var subscriptions: [SubscriptionKey: LiveSubscription] = [:]
    var byID: [EventID: Set<SubscriptionKey>] = [:]
    var byAuthor: [PublicKey: Set<SubscriptionKey>] = [:]
    var byTag: [TagKey: Set<SubscriptionKey>] = [:]
    var byKind: [Kind: Set<SubscriptionKey>] = [:]
    var unindexed = Set<SubscriptionKey>()

    /// Where one filter is filed: its most selective condition.
    enum Slot {
        case ids(Set<EventID>)
        case authors(Set<PublicKey>)
        case tag(UInt8, Set<String>)
        case kinds(Set<Kind>)
        case none
    }

    static func slot(for filter: Filter) -> Slot {
        if let ids = filter.ids { return .ids(ids) }
        if let authors = filter.authors { return .authors(authors) }
        if let (letter, values) = filter.tags.min(by: { $0.value.count < $1.value.count }) {
            return .tag(letter, values)
        }
        if let kinds = filter.kinds { return .kinds(kinds) }
        return .none
    }

    mutating func insert(_ subscription: LiveSubscription) {
        let key = subscription.key
        subscriptions[key] = subscription
        for filter in subscription.filters where !filter.isImpossible {
            switch State.slot(for: filter) {
            case .ids(let ids): for id in ids { byID[id, default: []].insert(key) }
            case .authors(let authors): for author in authors { byAuthor[author, default: []].insert(key) }
            case .tag(let letter, let values):
                for value in values { byTag[TagKey(letter: letter, value: value), default: []].insert(key) }
            case .kinds(let kinds): for kind in kinds { byKind[kind, default: []].insert(key) }
            case .none: unindexed.insert(key)
            }
        }
    }

    mutating func remove(_ key: SubscriptionKey) {
        guard let subscription = subscriptions.removeValue(forKey: key) else { return }
        for filter in subscription.filters {
            switch State.slot(for: filter) {
            case .ids(let ids): for id in ids { State.drop(key, id, from: &byID) }
            case .authors(let authors): for author in authors { State.drop(key, author, from: &byAuthor) }
            case .tag(let letter, let values):
                for value in values { State.drop(key, TagKey(letter: letter, value: value), from: &byTag) }
            case .kinds(let kinds): for kind in kinds { State.drop(key, kind, from: &byKind) }
            case .none: unindexed.remove(key)
            }
        }
    }

    static func drop<K: Hashable>(_ key: SubscriptionKey, _ slot: K, from table: inout [K: Set<SubscriptionKey>]) {
        guard var keys = table[slot] else { return }
        keys.remove(key)
        table[slot] = keys.isEmpty ? nil : keys
    }
}
