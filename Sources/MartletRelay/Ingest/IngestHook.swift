public import NostrCore

/// Something the relay does because of an event it is about to accept, when the event
/// stands for a change of state the relay keeps: a NIP-29 moderation event adds a member,
/// a join request redeems an invite code.
///
/// The pipeline asks every hook after every write policy has passed and before the event
/// is stored or fanned out, for events that come over a connection (a client's, a mesh
/// peer's). A hook that refuses must have changed nothing, so that a refused event leaves
/// no half-applied change behind; a hook that accepts has made its change by then, so that
/// the `OK` the author reads comes after it.
///
/// ```swift
/// struct Welcome: IngestHook {
///     func willAccept(_ event: Event, context: WriteContext) async -> RejectReason? {
///         event.kind == 9021 ? await admit(event.pubkey) : nil
///     }
/// }
/// ```
public protocol IngestHook: Sendable {
    func willAccept(_ event: Event, context: WriteContext) async -> RejectReason?
}
