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
    /// A `search` filter matches live only the kinds the stores index, as a stored event would.
    private let searchableKinds: SearchableKinds

    public init(searchableKinds: SearchableKinds = .all) {
        self.searchableKinds = searchableKinds
    }

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
            for key in state.keys(of: session) { state.remove(key) }
        }
    }

    /// The number of live subscriptions.
    public var count: Int { state.withLock { $0.subscriptions.count } }

    /// The subscriptions with at least one filter matching `event`.
    public func matches(_ event: Event) -> [LiveSubscription] {
        state.withLock { state in
            // Candidates are gathered as integer handles: at a thousand subscribers an event,
            // hashing each candidate's session and subscription id was a tenth of fan-out.
            var candidates: [Handle] = []
            var sources = 0
            func gather(_ handles: Set<Handle>?) {
                guard let handles, !handles.isEmpty else { return }
                candidates.append(contentsOf: handles)
                sources += 1
            }
            gather(state.byID[event.id])
            gather(state.byAuthor[event.pubkey])
            gather(state.byKind[event.kind])
            gather(state.unindexed)
            for tag in event.tags where tag.fields.count > 1 {
                guard let letter = tag.indexLetter else { continue }
                gather(state.byTag[TagKey(letter: letter, value: tag.fields[1])])
            }
            // A subscription filed under several of the event's keys is delivered once.
            if sources > 1 {
                candidates.sort()
                candidates = candidates.enumerated().compactMap { index, handle in
                    index > 0 && candidates[index - 1] == handle ? nil : handle
                }
            }
            return candidates.compactMap { handle in
                guard let subscription = state.subscriptions[handle],
                    subscription.filters.contains(where: { filter in
                        filter.matches(event) && (filter.search == nil || searchableKinds.contains(event.kind))
                    })
                else { return nil }
                return subscription
            }
        }
    }
}

/// A connection that receives live events, whatever protocol it speaks: a NIP-01
/// `RelaySession` or an axon `AxonSession`. Its `id` is unique among the relay's sessions.
public protocol LiveEventSubscriber: AnyObject, Sendable {
    var id: UInt64 { get }
    /// Sends a live event to one of its subscriptions (called by fan-out, on any task).
    func deliver(_ event: Event, to subscription: SubscriptionID)
}

extension RelaySession: LiveEventSubscriber {}

/// A subscription that receives live events.
///
/// A class: fan-out hands a thousand of them out for one event, and copying a struct of a
/// session, an id and filters retained each of the three.
public final class LiveSubscription: Sendable {
    public let session: any LiveEventSubscriber
    public let id: SubscriptionID
    public let filters: [Filter]

    public init(session: any LiveEventSubscriber, id: SubscriptionID, filters: [Filter]) {
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

/// A live subscription's number inside the index, cheaper to hash than its key.
private typealias Handle = Int

private struct State {
    var subscriptions: [Handle: LiveSubscription] = [:]
    var handles: [SubscriptionKey: Handle] = [:]
    var bySession: [UInt64: Set<SubscriptionID>] = [:]
    var byID: [EventID: Set<Handle>] = [:]
    var byAuthor: [PublicKey: Set<Handle>] = [:]
    var byTag: [TagKey: Set<Handle>] = [:]
    var byKind: [Kind: Set<Handle>] = [:]
    var unindexed = Set<Handle>()
    var nextHandle: Handle = 0

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

    func keys(of session: UInt64) -> [SubscriptionKey] {
        (bySession[session] ?? []).map { SubscriptionKey(session: session, id: $0) }
    }

    mutating func insert(_ subscription: LiveSubscription) {
        let key = subscription.key
        let handle = nextHandle
        nextHandle += 1
        subscriptions[handle] = subscription
        handles[key] = handle
        bySession[key.session, default: []].insert(key.id)
        for filter in subscription.filters where !filter.isImpossible {
            switch State.slot(for: filter) {
            case .ids(let ids): for id in ids { byID[id, default: []].insert(handle) }
            case .authors(let authors): for author in authors { byAuthor[author, default: []].insert(handle) }
            case .tag(let letter, let values):
                for value in values { byTag[TagKey(letter: letter, value: value), default: []].insert(handle) }
            case .kinds(let kinds): for kind in kinds { byKind[kind, default: []].insert(handle) }
            case .none: unindexed.insert(handle)
            }
        }
    }

    mutating func remove(_ key: SubscriptionKey) {
        guard let handle = handles.removeValue(forKey: key),
            let subscription = subscriptions.removeValue(forKey: handle)
        else { return }
        State.drop(key.id, key.session, from: &bySession)
        for filter in subscription.filters {
            switch State.slot(for: filter) {
            case .ids(let ids): for id in ids { State.drop(handle, id, from: &byID) }
            case .authors(let authors): for author in authors { State.drop(handle, author, from: &byAuthor) }
            case .tag(let letter, let values):
                for value in values { State.drop(handle, TagKey(letter: letter, value: value), from: &byTag) }
            case .kinds(let kinds): for kind in kinds { State.drop(handle, kind, from: &byKind) }
            case .none: unindexed.remove(handle)
            }
        }
    }

    /// Removes `member` from the set under `slot`, and the set once empty. In place: taken
    /// out and put back, the set was copied whole while the table still held it (a REQ's
    /// CLOSE copied the set of every subscription to its kind).
    static func drop<K: Hashable, Member: Hashable>(_ member: Member, _ slot: K, from table: inout [K: Set<Member>]) {
        guard let index = table.index(forKey: slot) else { return }
        table.values[index].remove(member)
        if table.values[index].isEmpty { table.remove(at: index) }
    }
}
