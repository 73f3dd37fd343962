public import MartletStore
public import NostrCore

/// One rule about what a connection may read. The relay asks every read policy before a
/// REQ, COUNT or NEG-OPEN runs, and for every event it would send or count.
///
/// ```swift
/// struct NoKindFour: ReadPolicy {
///     func canSee(_ event: some EventFields, context: ReadContext) -> Bool { event.kind != 4 }
/// }
/// ```
public protocol ReadPolicy: Sendable {
    /// Refuses a request outright (CLOSED / NEG-ERR with the reason).
    func check(_ filters: [Filter], context: ReadContext) -> RejectReason?
    /// Whether one event may be sent to this reader: a live `Event`, or a `StoredEvent`
    /// whose tags are decoded only if the policy reads them. Tags that cannot be read
    /// (a damaged store) keep the event back.
    func canSee(_ event: some EventFields, context: ReadContext) -> Bool
    /// For counts and sync, where events are not looked at one by one: the part of
    /// `filters` this policy may hide (`candidates`) and the part of that the reader may
    /// see (`visible`). `nil` when the policy hides nothing from these filters.
    func scope(of filters: [Filter], context: ReadContext) -> HiddenScope?
    /// The part of `canSee` the store applies inside its query, before `LIMIT`, so that
    /// hidden events do not take the places of visible ones. `.everything` when the policy
    /// has no such part (then `canSee` alone filters, after the limit).
    func visibility(context: ReadContext) -> ReadVisibility
}

extension ReadPolicy {
    public func check(_ filters: [Filter], context: ReadContext) -> RejectReason? { nil }
    public func scope(of filters: [Filter], context: ReadContext) -> HiddenScope? { nil }
    public func visibility(context: ReadContext) -> ReadVisibility { .everything }
}

/// Filters bounding what a read policy may hide: hidden = candidates minus visible.
public struct HiddenScope: Sendable {
    public var candidates: [Filter]
    public var visible: [Filter]
}

/// What a read policy may know about the reader.
public struct ReadContext: Sendable {
    public var authenticated: Set<PublicKey>
    public var remoteAddress: String?

    public init(authenticated: Set<PublicKey>, remoteAddress: String?) {
        self.authenticated = authenticated
        self.remoteAddress = remoteAddress
    }
}

/// NIP-17/59: gift wraps (and any other configured private kinds) are served only to a
/// connection authenticated as a pubkey named in their `p` tags. COUNT and negentropy use
/// `scope` so that neither the number nor the ids of hidden events leak.
public struct PrivateKindsPolicy: ReadPolicy {
    public let kinds: Set<Kind>

    public init(kinds: Set<Kind>) {
        self.kinds = kinds
    }

    /// NIP-42's own example ("we can't serve DMs to unauthenticated users"): a request
    /// whose every filter can match only private kinds, and none of them an event this
    /// reader could see, is refused so that the client learns to authenticate; an empty
    /// EOSE would tell a NIP-17 client there is nothing for it. Not authenticated at all:
    /// `auth-required:`; authenticated, but not as a recipient the filters name:
    /// `restricted:`, as NIP-42 defines the two. A request that can match public kinds
    /// too is served, with the private events left out.
    public func check(_ filters: [Filter], context: ReadContext) -> RejectReason? {
        guard !filters.isEmpty else { return nil }
        for filter in filters {
            guard let requested = filter.kinds, !requested.isEmpty, requested.isSubset(of: kinds) else { return nil }
            if !recipients(filter, context: context).isEmpty { return nil }
        }
        if context.authenticated.isEmpty {
            return .authRequired("these kinds are served only to their recipients; authenticate first")
        }
        return .restricted("these kinds are served only to their recipients, and no pubkey you authenticated as is one")
    }

    /// The authenticated pubkeys (hex) among those `filter` asks for as recipients.
    private func recipients(_ filter: Filter, context: ReadContext) -> Set<String> {
        let readers = Set(context.authenticated.map(\.hex))
        return filter.tags[UInt8(ascii: "p")].map { $0.intersection(readers) } ?? readers
    }

    public func canSee(_ event: some EventFields, context: ReadContext) -> Bool {
        guard kinds.contains(event.kind) else { return true }
        guard let tags = try? event.tags else { return false }
        return tags.contains { tag in
            tag.name == "p" && tag.fields.count > 1 && PublicKey(hex: tag.fields[1]).map(context.authenticated.contains) == true
        }
    }

    public func visibility(context: ReadContext) -> ReadVisibility {
        ReadVisibility(privateKinds: kinds, readers: context.authenticated)
    }

    public func scope(of filters: [Filter], context: ReadContext) -> HiddenScope? {
        var candidates: [Filter] = []
        var visible: [Filter] = []
        for filter in filters {
            let privateKinds = filter.kinds.map { $0.intersection(kinds) } ?? kinds
            guard !privateKinds.isEmpty else { continue }
            var candidate = filter
            candidate.kinds = privateKinds
            candidate.limit = nil
            candidates.append(candidate)
            let recipients = recipients(filter, context: context)
            if !recipients.isEmpty {
                var seen = candidate
                seen.tags[UInt8(ascii: "p")] = recipients
                visible.append(seen)
            }
        }
        return candidates.isEmpty ? nil : HiddenScope(candidates: candidates, visible: visible)
    }
}
