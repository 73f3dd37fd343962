public import NostrCore

/// Where an event enters the relay. The origin decides which rules it passes: a client's
/// connection brings its address and NIP-42 authentication; the operator's own tools
/// (`martlet sync`, `martlet import`) bring neither and store events only.
///
/// ```swift
/// let outcome = await relay.ingest(event, origin: .peer("wss://b.example.com"))
/// ```
public enum IngestOrigin: Sendable, Hashable {
    /// A client's `EVENT` on a connection: every write policy, with the connection's
    /// address and the pubkeys it authenticated as.
    case client(session: UInt64, remoteAddress: String?, authenticated: Set<PublicKey>)
    /// A replication peer of the mesh, by the URL it is configured (or discovered) under, or
    /// the relay a missing note was fetched from (`martlet fetch`, `discovery.fetch_missing`):
    /// every write policy, as for a client with no address and no authentication, and the
    /// whole pipeline, ephemeral events and requests to vanish included.
    case peer(String)
    /// `martlet sync` downloading from the relay at this URL.
    case sync(String)
    /// `martlet import` reading a file.
    case importFile
    /// The relay itself: events it signs with its own key (NIP-29 group state, NIP-43
    /// membership). Stored and fanned out with no write policy and no hook, as the relay
    /// is their authority.
    case relay

    /// Whether the policies about the connection an event arrives on (its rate, its NIP-42
    /// authentication for NIP-70) apply. The operator's own tools have no connection: an
    /// archive they restore may hold protected events and arrive faster than any client.
    var hasConnection: Bool {
        switch self {
        case .client, .peer: true
        case .sync, .importFile, .relay: false
        }
    }

    /// Whether the relay made the event itself.
    var isRelay: Bool { self == .relay }

    /// Whether only events to store are taken. The operator's tools fill a store; an
    /// ephemeral event has nobody to reach there, and a request to vanish is an action to
    /// send to the relay, not a record to restore.
    var storesOnly: Bool { !hasConnection }

    var remoteAddress: String? {
        if case .client(_, let address, _) = self { address } else { nil }
    }

    var authenticated: Set<PublicKey> {
        if case .client(_, _, let pubkeys) = self { pubkeys } else { [] }
    }
}
