import MartletRelay
import NostrCore

/// A write-policy chain as a relay with some configuration builds it, with the event and the
/// context it is asked about.
struct PolicyChain: Sendable {
    let policies: [any WritePolicy]
    let event: Event
    let context: WriteContext

    init(_ configuration: RelayConfiguration, event: Event, context: WriteContext) {
        policies = Relay.builtInWritePolicies(configuration, access: AccessLists(configuration.access))
        self.event = event
        self.context = context
    }

    /// `Relay`'s own loop: every policy in order, the first refusal wins.
    func firstRefusal() async -> RejectReason? {
        for policy in policies {
            if let refusal = await policy.check(event, context: context) { return refusal }
        }
        return nil
    }
}

/// One kind-1 reply of the NostrCore benchmarks' shape, mined to NIP-13 difficulty 8, asked
/// about by a client at a documentation address ten seconds after it was created.
struct PolicyInputs: Sendable {
    static let shared = PolicyInputs()

    /// The default configuration: kind 22242, access lists (all empty), NIP-11 limits,
    /// NIP-70, NIP-90 expiry.
    let defaults: PolicyChain
    /// The rules operators commonly turn on, sized like a real deployment's lists.
    let configured: PolicyChain

    static let difficulty = 8

    init() {
        var random = SeededRandom(seed: 13)
        let author = SecretKey(hex: "b5de343c5a7024c93d7e40f56e5f739b1d27bb90ccf4fe6922e78ebdcb1dfae4")!
        let event = Self.minedReply(by: author)
        let context = WriteContext(now: event.createdAt + 10, remoteAddress: "203.0.113.7")

        var configuration = RelayConfiguration()
        configuration.limits.maxEventTags = 100
        configuration.limits.maxContentLength = 8_192
        configuration.limits.createdAtLowerLimit = 7 * 86_400
        var access = RelayConfiguration.Access()
        access.mode = .allowlistWrites
        access.allowedPubkeys = Set((0..<1_000).map { _ in PublicKey(random.bytes32()) } + [author.publicKey])
        access.bannedPubkeys = Set((0..<1_000).map { _ in PublicKey(random.bytes32()) })
        access.bannedEvents = Set((0..<1_000).map { _ in EventID(random.bytes32()) })
        access.blockedIPs = Set((0..<256).map { "198.51.100.\($0)" })
        access.allowedKinds = [0, 1, 3, 5, 6, 7, 1984, 9735, 10002, 30023]
        access.deniedKinds = [4]
        access.minPowDifficulty = Self.difficulty
        // Buckets that never run dry: the cost of taking a token, never a refusal.
        access.rateLimits.eventsPerSecondPerIP = 10
        access.rateLimits.eventsPerSecondPerPubkey = 5
        access.rateLimits.burst = 1e15
        configuration.access = access

        defaults = PolicyChain(RelayConfiguration(), event: event, context: context)
        configured = PolicyChain(configuration, event: event, context: context)
        precondition(defaults.policies.count == 5 && configured.policies.count == 7)
    }

    /// Tries nonces until the id has `difficulty` leading zero bits (256 hashes on average),
    /// committing to that target in the `nonce` tag as NIP-13 asks, and signs the result.
    static func minedReply(by author: SecretKey) -> Event {
        let content =
            "Benchmarks read best next to the NIP: every stage of an EVENT measured alone, "
            + "so the one that dominates is plain to see. 🤙 #nostr #swift"
        let createdAt: Int64 = 1_700_000_000
        var nonce = 0
        while true {
            let tags: [Tag] = [
                ["e", "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36", "wss://nostr.example.com", "root"],
                ["p", "f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca"],
                ["t", "nostr"], ["t", "swift"],
                ["nonce", String(nonce), String(difficulty)],
            ]
            let id = Event.computeID(
                pubkey: author.publicKey, createdAt: createdAt, kind: .textNote, tags: tags, content: content)
            if ProofOfWork.difficulty(of: id) >= difficulty {
                return Event.signed(by: author, kind: .textNote, createdAt: createdAt, tags: tags, content: content)
            }
            nonce += 1
        }
    }
}
