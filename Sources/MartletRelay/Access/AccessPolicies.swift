public import NostrCore

/// Banned pubkeys and events, blocked IP addresses, kind allow/deny lists and the
/// allowlist of the `allowlist-writes` mode, read from the live `AccessLists`.
public struct AccessListPolicy: WritePolicy {
    public let lists: AccessLists
    public let mode: RelayConfiguration.Access.Mode

    public init(lists: AccessLists, mode: RelayConfiguration.Access.Mode) {
        self.lists = lists
        self.mode = mode
    }

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        if let ip = context.remoteAddress, lists.isBlocked(ip: ip) {
            return .blocked("your IP address is blocked")
        }
        if lists.isBanned(event.pubkey) { return .blocked("this pubkey is banned") }
        if lists.isBanned(event.id) { return .blocked("this event is banned") }
        if !lists.accepts(event.kind) { return .blocked("kind \(event.kind.rawValue) is not accepted here") }
        if mode == .allowlistWrites, !lists.isAllowed(event.pubkey) {
            return .restricted("only allowlisted authors may write to this relay")
        }
        return nil
    }
}

/// NIP-70: an event carrying `["-"]` is accepted only from a connection authenticated as
/// its author, and a repost (kind 6 or 16) that embeds one is refused ("Reposts of
/// protected events MUST NOT embed the reposted event. If a repost of a protected event
/// embeds the event anyway, relays SHOULD summarily reject it").
public struct ProtectedEventPolicy: WritePolicy {
    public init() {}

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        if event.kind == 6 || event.kind == 16, EmbeddedEvent.isProtected(event.content) {
            return .blocked("a repost must not embed a protected event (NIP-70)")
        }
        guard event.isProtected, !context.authenticated.contains(event.pubkey) else { return nil }
        if context.authenticated.isEmpty {
            return .authRequired("this event may only be published by its author")
        }
        return .restricted("this event may only be published by its author")
    }
}

/// NIP-42: kind 22242 is for AUTH only and must never be stored or broadcast.
public struct AuthenticationEventPolicy: WritePolicy {
    public init() {}

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        event.kind == .authentication ? .invalid("authentication events are sent with AUTH, not EVENT") : nil
    }
}

/// NIP-13: a minimum number of leading zero bits in the id, and a committed target (the
/// third element of the `nonce` tag) no lower than that minimum.
public struct ProofOfWorkPolicy: WritePolicy {
    public let minimum: Int

    public init(minimum: Int) {
        self.minimum = minimum
    }

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        let difficulty = ProofOfWork.difficulty(of: event.id)
        if difficulty < minimum {
            return .init(.pow, "difficulty \(difficulty) is less than \(minimum)")
        }
        if let nonce = event.tags.first(where: { $0.name == "nonce" }), nonce.fields.count > 2,
            let target = Int(nonce.fields[2]), target < minimum
        {
            return .init(.pow, "committed target difficulty \(target) is less than \(minimum)")
        }
        return nil
    }
}

/// NIP-13 difficulty: the number of leading zero bits of an event id.
public enum ProofOfWork {
    public static func difficulty(of id: EventID) -> Int {
        let words = [id.raw.w0, id.raw.w1, id.raw.w2, id.raw.w3]
        var bits = 0
        for word in words {
            if word == 0 {
                bits += 64
                continue
            }
            return bits + word.leadingZeroBitCount
        }
        return bits
    }
}

/// NIP-90: a job request (kinds 5000-5999) whose `expiration` tag, or the `expires_at` tag
/// some agent clients send, is already past is refused.
public struct JobRequestExpirationPolicy: WritePolicy {
    public init() {}

    static let jobKinds: ClosedRange<UInt16> = 5000...5999

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        guard Self.jobKinds.contains(event.kind.rawValue) else { return nil }
        let deadline = event.tags.firstValue(named: "expiration") ?? event.tags.firstValue(named: "expires_at")
        if let deadline, let time = Int64(deadline), time <= context.now {
            return .invalid("job request has expired")
        }
        return nil
    }
}
