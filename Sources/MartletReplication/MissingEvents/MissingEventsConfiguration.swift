/// How far the relay goes to find an event a REQ asked for by id and it does not hold
/// (`discovery.fetch_missing`, `discovery.fetch_*` in `martlet.yaml`). Every bound is one a
/// client could otherwise stretch: the wait it adds before EOSE, the relays it makes us
/// call, the fetches running at once, the ids in one fetch.
///
/// ```swift
/// var configuration = MissingEventsConfiguration()
/// configuration.enabled = true
/// configuration.timeout = .seconds(3)
/// ```
public struct MissingEventsConfiguration: Sendable {
    public var enabled = false
    /// The whole search, relay lists and fetches included; EOSE waits at most this long.
    public var timeout: Duration = .seconds(3)
    /// Relays asked for one request, at once.
    public var maxRelays = 4
    /// Searches running at once, relay-wide; a REQ past it gets EOSE with what is stored.
    public var maxConcurrentSearches = 8
    /// Ids looked for in one search; the rest of a larger REQ are not looked for.
    public var maxIDs = 32
    /// Ids found nowhere are not looked for again for this long.
    public var missMemory: Duration = .seconds(60)
    /// Ids kept in that memory; past it the oldest are forgotten.
    public var maxRememberedMisses = 4096

    public init() {}
}
