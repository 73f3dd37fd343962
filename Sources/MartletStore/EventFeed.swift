public import NostrCore

/// A store that several relay nodes share tells each node about the events the other nodes
/// accepted, so that the node's live subscribers see them as well as the events accepted here.
///
/// The relay fans out what it accepts itself; this feed carries only what it did not: the
/// events the other nodes saved, and the ephemeral ones (never stored) that they passed on
/// with `publishEphemeral`.
///
/// ```swift
/// if let feed = store as? any EventFeed {
///     await feed.publishEphemeral(typingNotice)  // on the node that accepted it
///     for await event in feed.eventsFromOtherNodes() { relay.fanOut(event) }  // on every other
/// }
/// ```
public protocol EventFeed: Sendable {
    /// Events other writers commit from now on, each once, roughly in commit order, and the
    /// ephemeral events they publish from now on, each once, as they come. The stream ends
    /// when the consuming task is cancelled or the store is closed; a database that is
    /// unreachable for a while delays stored events but loses none (ephemeral ones sent
    /// meanwhile are lost, as an ephemeral event may be).
    func eventsFromOtherNodes() -> AsyncStream<Event>

    /// Hands an ephemeral event (kinds 20000-29999) accepted here to the other nodes' feeds.
    /// It is not stored, and not fed back to this store's own feed. Best effort, as ephemeral
    /// events are: when the database cannot be reached the other nodes miss it; this returns
    /// within the store's time limit all the same, and the store logs the failure.
    func publishEphemeral(_ event: Event) async
}
