import MartletStore
import NostrCore

/// NIP-29's read rules: "`private` indicates that only members can read group messages"
/// and "`hidden` indicates that relays should hide group metadata from non-members". A
/// member is known by the pubkeys the connection authenticated as (NIP-42).
///
/// It answers from this node's copy of the groups (`GroupDirectory`), which follows the
/// store; until that copy is loaded it shows no group event at all.
struct GroupReadPolicy: ReadPolicy {
    let directory: GroupDirectory

    private static let h = UInt8(ascii: "h")
    private static let d = UInt8(ascii: "d")

    /// A request for nothing but private groups' events the reader may not read is refused,
    /// so that the client learns to authenticate (NIP-42), rather than answered with an
    /// empty EOSE that reads as "no messages".
    func check(_ filters: [Filter], context: ReadContext) -> RejectReason? {
        guard !filters.isEmpty else { return nil }
        let closed = directory.closedTo(context.authenticated) { $0.isPrivate }
        for filter in filters {
            guard let named = filter.tags[Self.h], !named.isEmpty, named.isSubset(of: closed) else { return nil }
        }
        if context.authenticated.isEmpty {
            return .authRequired("this group is private: authenticate as one of its members")
        }
        return .restricted("this group is private and you are not one of its members")
    }

    func canSee(_ event: some EventFields, context: ReadContext) -> Bool {
        guard let tags = try? event.tags else { return false }
        let isStateEvent = GroupKind.relaySigned.contains(event.kind.rawValue)
        guard let id = isStateEvent ? tags.firstValue(named: "d") : tags.firstValue(named: "h") else {
            return true
        }
        guard directory.isLoaded else { return false }
        guard let group = directory.group(id) else { return true }
        let hidden = isStateEvent ? group.metadata.isHidden : group.metadata.isPrivate
        return !hidden || context.authenticated.contains { group.members[$0] != nil }
    }

    /// For COUNT and NEG-OPEN: the events of private groups and the metadata of hidden
    /// groups this reader may not see; none of them is visible.
    func scope(of filters: [Filter], context: ReadContext) -> HiddenScope? {
        let privateGroups = directory.closedTo(context.authenticated) { $0.isPrivate }
        let hiddenGroups = directory.closedTo(context.authenticated) { $0.isHidden }
        var candidates: [Filter] = []
        for filter in filters {
            if let messages = Self.narrowed(filter, tag: Self.h, to: privateGroups) { candidates.append(messages) }
            if var metadata = Self.narrowed(filter, tag: Self.d, to: hiddenGroups) {
                let stateKinds = Set(GroupKind.relaySigned.map { Kind($0) })
                metadata.kinds = metadata.kinds.map { $0.intersection(stateKinds) } ?? stateKinds
                if !(metadata.kinds?.isEmpty ?? true) { candidates.append(metadata) }
            }
        }
        return candidates.isEmpty ? nil : HiddenScope(candidates: candidates, visible: [])
    }

    /// `filter` limited to events whose `tag` names one of `groups`, without a limit; nil
    /// when that leaves nothing.
    private static func narrowed(_ filter: Filter, tag: UInt8, to groups: Set<String>) -> Filter? {
        guard !groups.isEmpty else { return nil }
        let values = filter.tags[tag].map { $0.intersection(groups) } ?? groups
        guard !values.isEmpty else { return nil }
        var narrowed = filter
        narrowed.tags[tag] = values
        narrowed.limit = nil
        return narrowed
    }
}
