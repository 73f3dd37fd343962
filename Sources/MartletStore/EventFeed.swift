public import NostrCore

/// A store that several relay nodes share tells each node about the events the other nodes
/// saved, so that the node's live subscribers see them as well as the events saved here.
///
/// The relay fans out what it saves itself; this feed carries only what it did not.
///
/// ```swift
/// if let feed = store as? any EventFeed {
///     for await event in feed.eventsFromOtherNodes() { relay.fanOut(event) }
/// }
/// ```
public protocol EventFeed: Sendable {
    /// Events other writers commit from now on, each once, roughly in commit order. The
    /// stream ends when the consuming task is cancelled or the store is closed; a database
    /// that is unreachable for a while delays events but loses none.
    func eventsFromOtherNodes() -> AsyncStream<Event>
}
