public import NostrCore

/// One rule that decides whether an event may be written. The ingest pipeline asks every
/// configured policy in order, after the id and signature checks; the first refusal wins.
///
/// An operator or a test adds a rule without touching the pipeline:
///
/// ```swift
/// struct NoKindFour: WritePolicy {
///     func check(_ event: Event, context: WriteContext) -> RejectReason? {
///         event.kind == 4 ? .blocked("kind 4 is not accepted here") : nil
///     }
/// }
/// ```
public protocol WritePolicy: Sendable {
    func check(_ event: Event, context: WriteContext) async -> RejectReason?
}

/// A write rule about the connection an event arrives on (its rate, its NIP-42
/// authentication) rather than about the event. The operator's tools (`martlet import`,
/// `martlet sync`) have no connection, so the pipeline skips these for them.
///
/// ```swift
/// extension MyPerConnectionQuota: ConnectionPolicy {}
/// ```
public protocol ConnectionPolicy: WritePolicy {}

extension EventRateLimitPolicy: ConnectionPolicy {}
extension ProtectedEventPolicy: ConnectionPolicy {}

/// What a write policy may know about the write.
public struct WriteContext: Sendable {
    /// The current time in seconds.
    public var now: Int64
    /// The client's IP address, if known.
    public var remoteAddress: String?
    /// The pubkeys the connection has authenticated as (NIP-42).
    public var authenticated: Set<PublicKey>
    /// Where the event entered the relay (a plugin tells its sources apart by it).
    public var origin: IngestOrigin

    public init(now: Int64, origin: IngestOrigin) {
        self.now = now
        self.origin = origin
        self.remoteAddress = origin.remoteAddress
        self.authenticated = origin.authenticated
    }

    /// A client's write, for policies tested or timed outside the pipeline.
    public init(now: Int64, remoteAddress: String?, authenticated: Set<PublicKey> = []) {
        self.init(now: now, origin: .client(session: 0, remoteAddress: remoteAddress, authenticated: authenticated))
    }
}

/// NIP-11's advertised event limits: tag count, content length and the `created_at` window,
/// plus NIP-40's rule that an event already expired is not accepted.
public struct EventLimitsPolicy: WritePolicy {
    private let source: ReloadableLimits

    public init(limits: RelayConfiguration.Limits) {
        self.source = ReloadableLimits(limits)
    }

    /// Limits that SIGHUP may replace.
    public init(limits: ReloadableLimits) {
        self.source = limits
    }

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        let limits = source.current
        if event.tags.count > limits.maxEventTags {
            return .invalid("too many tags (max \(limits.maxEventTags))")
        }
        // Counting characters walks the string; the byte count bounds it from above for free.
        if event.content.utf8.count > limits.maxContentLength,
            event.content.unicodeScalars.count > limits.maxContentLength
        {
            return .invalid("content is longer than \(limits.maxContentLength) characters")
        }
        if event.createdAt < context.now - limits.createdAtLowerLimit {
            return .invalid("event creation date is too far in the past")
        }
        if event.createdAt > context.now + limits.createdAtUpperLimit {
            return .invalid("event creation date is too far in the future")
        }
        if let expiration = event.expiration, expiration <= context.now {
            return .invalid("event has expired")
        }
        return nil
    }
}
