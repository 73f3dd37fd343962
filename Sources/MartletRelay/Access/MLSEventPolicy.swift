public import NostrCore

/// NIP-EE's rules on what a relay takes, when MLS is on. Only the envelope is read (kind,
/// tags, `created_at`): the relay never holds a key that could open the MLS content.
///
/// - kind 444 (Welcome) "MUST never be signed" and travels "sealed and gift-wrapped as
///   detailed in NIP-59": a bare one is a leak of a private invitation and is refused;
///   inside a kind 1059 wrap it is invisible to the relay, which stores the wrap as any other.
/// - kind 443 (KeyPackage): "The `mls_protocol_version` tag is required".
/// - kind 445 (Group Event): needs its group's `h` tag, the one way members read it back,
///   and is refused once older than the retention, since it would only be purged again.
public struct MLSEventPolicy: WritePolicy {
    public var groupEventRetention: Int64

    public init(groupEventRetention: Int64) {
        self.groupEventRetention = groupEventRetention
    }

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        switch event.kind {
        case .mlsWelcome:
            return .invalid("an MLS Welcome (kind 444) is only accepted sealed and gift-wrapped in a kind 1059 (NIP-EE, NIP-59)")
        case .mlsKeyPackage:
            guard event.tags.firstValue(named: "mls_protocol_version") != nil else {
                return .invalid("an MLS KeyPackage (kind 443) needs an mls_protocol_version tag (NIP-EE)")
            }
            return nil
        case .mlsGroupEvent:
            guard let group = event.tags.firstValue(named: "h"), !group.isEmpty else {
                return .invalid("an MLS group event (kind 445) needs an h tag naming its group (NIP-EE)")
            }
            if event.createdAt < context.now - groupEventRetention {
                return .invalid("MLS group events (kind 445) are kept \(groupEventRetention) s and this one is older")
            }
            return nil
        default:
            return nil
        }
    }
}
