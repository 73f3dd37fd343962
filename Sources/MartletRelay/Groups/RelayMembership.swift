import MartletStore
public import NostrCore

/// The NIP-43 event kinds.
public enum MembershipKind {
    /// The relay's member list, signed by the relay.
    public static let memberList: Kind = 13534
    public static let addMember: Kind = 8000
    public static let removeMember: Kind = 8001
    /// A user's request to join with an invite code (`claim`).
    public static let joinRequest: Kind = 28934
    /// An invite code, made by the relay when a member asks for one (a REQ for this kind).
    public static let invite: Kind = 28935
    /// A user's request to leave.
    public static let leaveRequest: Kind = 28936
}

/// NIP-43 relay membership: the members are the relay's allowlist (the one
/// `access.mode: private` and `allowlist-writes` read, and NIP-86's `allowpubkey` edits),
/// so a member admitted with an invite code may write at once, on every node.
///
/// As an `IngestHook` it takes join requests (28934, with a `claim`) and leave requests
/// (28936); both "MUST include a NIP 70 `-` tag", which `ProtectedEventPolicy` already
/// holds to a connection authenticated as the author, and their `created_at` "MUST be
/// now, plus or minus a few minutes". Every change of the list, here or through NIP-86,
/// is published as the relay-signed 13534 list and an 8000 or 8001.
struct RelayMembership: IngestHook {
    let groups: Groups

    /// NIP-43's "a few minutes".
    static let clockSkew: Int64 = 300
    /// How long an invite code made on request admits (NIP-43: relays may be "expiring claims").
    static let inviteLifetime: Int64 = 86_400

    func willAccept(_ event: Event, context: WriteContext) async -> RejectReason? {
        guard event.kind == MembershipKind.joinRequest || event.kind == MembershipKind.leaveRequest else {
            if event.kind == MembershipKind.memberList || event.kind == MembershipKind.addMember
                || event.kind == MembershipKind.removeMember || event.kind == MembershipKind.invite
            {
                return event.pubkey == groups.identity.publicKey
                    ? nil : .restricted("relay membership events are signed by this relay only")
            }
            return nil
        }
        guard event.isProtected else { return .invalid("a membership request must carry the NIP-70 \"-\" tag") }
        guard abs(event.createdAt - context.now) <= Self.clockSkew else {
            return .invalid("a membership request must be dated now, give or take \(Self.clockSkew / 60) minutes")
        }
        guard let relay = groups.attachedRelay else { return .error("the relay is shutting down") }
        let administration = RelayAdministration(relay: relay)
        let isMember = relay.access.isAllowed(event.pubkey)
        if event.kind == MembershipKind.leaveRequest {
            guard isMember else { return .invalid("you are not a member of this relay") }
            do {
                try await administration.disallow(event.pubkey)
            } catch {
                return .error("could not record the departure")
            }
            return nil
        }
        guard let code = event.tags.firstValue(named: "claim"), GroupNames.isValidCode(code) else {
            return .invalid("a join request needs a claim tag with an invite code")
        }
        if isMember { return RejectReason(.duplicate, "you are already a member of this relay") }
        do {
            // "Failed claims SHOULD use the same standard "restricted: " prefix".
            let issuedAfter = context.now - Self.inviteLifetime
            switch try await groups.store.redeemRelayInvite(code: code, by: event.pubkey, issuedAfter: issuedAfter) {
            case .joined, .alreadyMember: break
            case .unknownCode: return .restricted("that is an invalid invite code")
            case .alreadyUsed: return .restricted("that invite code was used already")
            case .expired: return .restricted("that invite code is expired")
            }
            try await administration.allow(event.pubkey, reason: "NIP-43 invite")
        } catch {
            return .error("could not record the membership")
        }
        return nil
    }
}

extension Groups {
    /// The hook for NIP-43's requests.
    var membership: RelayMembership { RelayMembership(groups: self) }

    /// After the allowlist changed (a NIP-43 request, NIP-86's `allowpubkey` or
    /// `unallowpubkey`): the relay-signed 8000 or 8001, then the whole 13534 list.
    public func relayMembershipChanged(_ pubkey: PublicKey, isMember: Bool) async {
        guard let relay = attachedRelay else { return }
        let now = relay.clock()
        let change = isMember ? MembershipKind.addMember : MembershipKind.removeMember
        await publish(
            Event.signed(by: identity.secretKey, kind: change, createdAt: now, tags: [["-"], ["p", pubkey.hex]], content: ""))
        let members = relay.access.snapshot.allowedPubkeys.map(\.hex).sorted()
        let stored = (try? await relay.store.query(
            [Filter(authors: [identity.publicKey], kinds: [MembershipKind.memberList], limit: 1)], maxLimit: 1, now: now))
            ?? []
        let createdAt = max(now, (stored.first?.createdAt ?? 0) + 1)
        await publish(
            Event.signed(
                by: identity.secretKey, kind: MembershipKind.memberList, createdAt: createdAt,
                tags: [["-"]] + members.map { ["member", $0] }, content: ""))
    }

    /// NIP-43's invite request: "Users may request a claim string from a relay by making a
    /// request for kind 28935 events". A claim is made for a reader authenticated as a
    /// member or an operator of the relay, single-use; nil for anyone else or another REQ.
    public func invite(answering filters: [Filter], reader: ReadContext) async -> Event? {
        guard filters.contains(where: { $0.kinds?.contains(MembershipKind.invite) == true }),
            let relay = attachedRelay
        else { return nil }
        let operators = relay.configuration.management.adminPubkeys
        guard reader.authenticated.contains(where: { relay.access.isAllowed($0) || operators.contains($0) }) else {
            return nil
        }
        var generator = SystemRandomNumberGenerator()
        let code = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let now = relay.clock()
        do {
            try await store.createRelayInvite(code: code, createdAt: now, forgetBefore: now - RelayMembership.inviteLifetime)
        } catch {
            logger.warning("could not record an invite code: \(error)")
            return nil
        }
        return Event.signed(
            by: identity.secretKey, kind: MembershipKind.invite, createdAt: now, tags: [["-"], ["claim", code]],
            content: "")
    }
}
