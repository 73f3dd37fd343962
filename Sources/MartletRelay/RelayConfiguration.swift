public import NostrCore

/// Everything an operator can set about the relay's protocol behaviour.
///
/// Built by the CLI from `martlet.yaml` and the environment; every limit here is
/// advertised in NIP-11 and enforced with the answer NIP-01 prescribes.
///
/// ```swift
/// var configuration = RelayConfiguration()
/// configuration.limits.maxSubscriptions = 20
/// ```
public struct RelayConfiguration: Sendable {
    public var info = RelayInfo()
    public var limits = Limits()
    /// How often expired events (NIP-40) are purged from the store.
    public var purgeInterval: Duration = .seconds(60)
    /// What the purge keeps: a rule's kinds for its `time` in seconds, and at most its
    /// `count` of them per author (`Retention`). Empty keeps everything.
    public var retention: [RetentionRule] = []
    /// How many events the writer commits in one transaction at most.
    public var writerBatchSize = 512
    /// Bytes queued for one connection before it counts as a slow consumer and is cut off.
    public var outboxByteLimit = 8 * 1024 * 1024
    /// NIP-77 sync sessions.
    public var negentropy = Negentropy()
    /// Who may read and write: NIP-42, allowlists, blocklists, PoW, rate limits.
    public var access = Access()
    /// Who may call the NIP-86 management API.
    public var management = Management()
    /// Who may see the status page, `/status.json` and `/metrics`; nil for the default:
    /// `.public`, or `.loopback` on a private relay.
    public var statusAccess: StatusAccess?

    /// `statusAccess` as it applies.
    public var effectiveStatusAccess: StatusAccess {
        statusAccess ?? (access.mode == .privateRelay ? .loopback : .public)
    }
    /// Per-address cap and handshake deadline for connections (`RelayConfiguration+Connections`).
    public var connections = Connections()
    /// NIP-50 search (`RelayConfiguration+Search`).
    public var search = Search()
    /// NIP-29 groups and NIP-43 membership (`RelayConfiguration+Groups`).
    public var groups = GroupSettings()
    /// The relay's own key, which signs what it publishes (group state); nil: one made for
    /// this run when something needs it.
    public var identity: RelayIdentity?
    /// The axon profile, MessagePack beside NIP-01 (`Axon/RelayConfiguration+Axon`).
    public var axon = Axon()
    /// NIP-EE, MLS messaging, behind `features.mls` (`RelayConfiguration+MLS`).
    public var mls = MLS()

    public init() {}

    /// The limits of NIP-11's `limitation` object.
    public struct Limits: Sendable {
        public var maxMessageLength = 512 * 1024
        public var maxSubscriptions = 50
        public var maxFilters = 10
        public var maxLimit = 500
        public var defaultLimit = 500
        public var maxSubscriptionIDLength = 64
        public var maxEventTags = 2000
        /// In unicode characters, as NIP-11 counts.
        public var maxContentLength = 64 * 1024
        /// How far in the past `created_at` may be, in seconds (NIP-11 `created_at_lower_limit`).
        public var createdAtLowerLimit: Int64 = 94_608_000
        /// How far in the future `created_at` may be, in seconds (NIP-11 `created_at_upper_limit`).
        public var createdAtUpperLimit: Int64 = 900

        // Filter bounds: every list of a filter costs index reads (one per author and kind
        // pair), so each is bounded and a REQ, COUNT or NEG-OPEN beyond is `invalid:`. The
        // defaults are generous for real clients: a follow list of a few thousand authors,
        // a thread of hundreds of ids, a handful of kinds per feed.
        /// Ids in one filter.
        public var maxFilterIDs = 1_000
        /// Authors in one filter: the largest follow lists seen in the wild are near 2,000.
        public var maxFilterAuthors = 2_500
        /// Kinds in one filter.
        public var maxFilterKinds = 100
        /// Values of one `#x` list of one filter.
        public var maxFilterTagValues = 2_500
        /// Authors × kinds of one filter: 2,500 followed authors with four kinds. Each pair
        /// costs an index read (about 9 µs); a million pairs took 9.4 s and 335 MB.
        public var maxAuthorsTimesKinds = 10_000
        /// How long one REQ's stored-event query may run before it is stopped and the REQ
        /// answered `CLOSED "error: ..."`; keeps one costly REQ from holding a reader that
        /// other clients' REQs wait for. Nil: the store's own limit only.
        public var queryTimeout: Duration? = .seconds(5)

        public init() {}
    }
}

extension RelayConfiguration {
    /// The bounds on NIP-77 sessions, which hold a whole item set in memory each.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.negentropy.maxRecords = 250_000
    /// ```
    public struct Negentropy: Sendable {
        /// Open sessions per connection; a `NEG-OPEN` beyond them is answered `blocked:`
        /// (0 turns NIP-77 off).
        public var maxSessionsPerConnection = 8
        /// Items a `NEG-OPEN` filter may match; beyond, `blocked:` (NIP-77's "too many records").
        /// A million keeps a whole-store sync of a million events working (the mesh,
        /// `martlet bench negentropy`); the relay-wide budget below bounds the memory.
        public var maxRecords = 1_000_000
        /// Items all sessions of the relay may hold together; a `NEG-OPEN` that does not
        /// fit is answered `blocked:` until others close (0: no limit). A held item costs
        /// 45 to 90 bytes (measured), so 1,000,000 keeps all of them within about 90 MB, the
        /// relay's memory bound under a sync flood: one whole-store sync of a million events
        /// at a time, or 16 sessions of 60,000; a session that finds no room retries later.
        public var maxTotalRecords = 1_000_000
        /// A session without a message for this long is dropped; a later `NEG-MSG` gets `closed:`.
        public var idleTimeout: Duration = .seconds(60)
        /// Bytes of one negentropy message the relay writes as the responder (before hex,
        /// which doubles it). 250 KB keeps a `NEG-MSG` under the 512 KiB messages Martlet
        /// takes, and reconciles a million events differing by a thousand in 6 round trips
        /// where 60 KB took 13 (`martlet bench negentropy`).
        public var frameSizeLimit = 250_000
        /// Bytes of one negentropy message this relay writes when it starts a sync (the mesh,
        /// `martlet sync`): 60 KB keeps a `NEG-MSG` under 128 KiB, the most that strfry and
        /// other relays take by default. Raise it between Martlet relays.
        public var initiatorFrameSizeLimit = 60_000

        public init() {}
    }
}

/// The descriptive fields of the NIP-11 document.
public struct RelayInfo: Sendable {
    public var name = "Martlet"
    public var description = "A Nostr relay written in Swift."
    public var pubkey: String?
    /// NIP-11's `self`: the relay's own key (`RelayIdentity`), apart from the operator's `pubkey`.
    public var selfPubkey: PublicKey?
    public var contact: String?
    public var icon: String?
    /// The public `wss://` URL of this relay (NIP-42 checks the `relay` tag against it).
    public var url: String?
    /// Other URLs the same relay is reached by (an onion address, a second domain); NIP-42
    /// and NIP-98 accept them as they accept `url`.
    public var alternateURLs: [String] = []

    // NIP-11's other fields, each served as given (nil or empty: left out of the document).
    // `self`, the relay's own identity key, is added with that key, not configured here.
    /// A link to an image that shows the relay's brand.
    public var banner: String?
    public var privacyPolicy: String?
    public var termsOfService: String?
    /// A link to the rules of what may be posted here.
    public var postingPolicy: String?
    /// Where fees are paid.
    public var paymentsURL: String?
    /// `limitation.payment_required`: writes are for paying users (an outside service that
    /// adds them with NIP-86 `allowpubkey`, say); it also makes `restricted_writes` true.
    public var paymentRequired = false
    public var fees: RelayFees?
    public var retention: [RetentionRule] = []
    /// ISO 3166-1 alpha-2 codes of the countries whose laws apply (`*` for any).
    public var relayCountries: [String] = []
    /// IETF language tags of the community (`en`, `en-419`; `*` for any).
    public var languageTags: [String] = []
    /// The community's kind (`sfw-only`, `bitcoin-only`).
    public var tags: [String] = []
    /// The software's homepage and version, when not Martlet's own.
    public var software: String?
    public var version: String?

    public init() {}

    /// `url` and `alternateURLs`: every URL the operator named.
    public var configuredURLs: [String] { (url.map { [$0] } ?? []) + alternateURLs }
}

/// Who may see the operator's pages: the status page, `/status.json` and `/metrics`.
///
/// They show connection counts, rates, the kinds stored and the latest events; on a
/// private relay that is already more than an outsider should learn, so there they are
/// served only to loopback peers and admins unless the operator says otherwise.
///
/// ```yaml
/// server:
///   status_access: admin   # public | loopback | admin
/// ```
public enum StatusAccess: String, Sendable, CaseIterable {
    /// Anyone.
    case `public`
    /// Peers on 127.0.0.0/8 or ::1, and admins (NIP-98) from anywhere. Behind a reverse
    /// proxy on the same machine every client is a loopback peer: use `admin` there.
    case loopback
    /// Admins only, each request with its own NIP-98 authorization.
    case admin
}
