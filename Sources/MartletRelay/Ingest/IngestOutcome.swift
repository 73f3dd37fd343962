public import NostrCore

/// What the pipeline did with one event: the typed answer every entry point gets back.
/// The text of an `OK` is made from it only at the protocol's edge (`RelayMessage.ok(_:_:)`).
///
/// ```swift
/// switch await relay.ingest(event, origin: .importFile) {
/// case .accepted: saved += 1
/// case .duplicate: alreadyStored += 1
/// case .refused(let reason): print(reason.prefix, reason.detail)
/// }
/// ```
public enum IngestOutcome: Sendable, Equatable {
    /// Stored (or, for an ephemeral event, delivered) and told to the observers.
    case accepted
    /// Nothing new: NIP-01 answers these `OK true` with a `duplicate:` message.
    case duplicate(Duplicate)
    /// Refused, with NIP-01's prefix and a reason for people.
    case refused(RejectReason)
    /// Refused without telling the writer (a policy's silent refusal, strfry's
    /// `shadowReject`): not stored, not sent on, and answered `OK true`.
    case shadowRejected

    public enum Duplicate: Sendable, Equatable {
        /// The same id is stored (or was lately seen).
        case alreadyStored
        /// A newer version of this replaceable or addressable event is stored.
        case superseded
    }

    public var isAccepted: Bool { self == .accepted }

    /// The refusal, if the event was refused.
    public var refusal: RejectReason? {
        if case .refused(let reason) = self { reason } else { nil }
    }
}

extension IngestOutcome {
    /// NIP-01's `OK` text for this outcome: empty when accepted, `duplicate:` for what is
    /// already here, the refusal's prefix and reason otherwise. The one place an outcome
    /// becomes words.
    public var message: String {
        switch self {
        case .accepted, .shadowRejected: ""
        case .duplicate(.alreadyStored): "duplicate: already have this event"
        case .duplicate(.superseded): "duplicate: a newer version of this event is already stored"
        case .refused(let reason): reason.message
        }
    }
}

extension RelayMessage {
    /// NIP-01's `OK` for an ingest outcome; duplicates are `true` with a `duplicate:`
    /// message, as NIP-01 shows.
    public static func ok(_ id: EventID, _ outcome: IngestOutcome) -> RelayMessage {
        .ok(id, accepted: outcome.refusal == nil, message: outcome.message)
    }
}
