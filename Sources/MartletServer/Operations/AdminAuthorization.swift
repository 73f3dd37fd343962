public import MartletRelay
public import NostrCore
import Synchronization

/// Who may use the operator's HTTP endpoints: a NIP-98 authorization signed by one of
/// `management.admin_pubkeys` for one of the relay's own URLs, used once.
///
/// NIP-98 bounds an authorization to a minute of clock skew; within that minute a copy of
/// it (from a log, a proxy, a shoulder) would work again, so the accepted ones are kept
/// until they could no longer pass the time check anyway. They are kept by signature, not
/// by id: an admin who sends the same request twice in one second signs two events with
/// one id (NIP-98's fields are the same), but BIP-340's random nonce gives each its own
/// signature, and a copy can only carry the one it copied (BIP-340 signatures are not
/// malleable).
///
/// ```swift
/// let admins = AdminAuthorization(relay: relay)
/// let admin = try admins.authorize(header, path: "/", method: "POST", body: body) // or throws
/// ```
public final class AdminAuthorization: Sendable {
    /// Why a request is not an admin's; `description` is the text of the 401 answer.
    public enum Refusal: Error, Sendable, CustomStringConvertible {
        case authorization(HTTPAuthorization.Failure)
        case notAdmin(PublicKey)

        public var description: String {
            switch self {
            case .authorization(let failure): failure.description
            case .notAdmin(let pubkey): "\(pubkey) is not an admin of this relay"
            }
        }
    }

    let relay: Relay
    private let used = Mutex(UsedAuthorizations())

    public init(relay: Relay) {
        self.relay = relay
    }

    /// Checks the `Authorization` header of a request to `path` and returns the admin.
    /// `requirePayload`: NIP-86 calls must sign their body; a GET has none.
    public func authorize(
        _ header: String?, path: String, method: String, body: [UInt8], requirePayload: Bool = true
    ) throws(Refusal) -> PublicKey {
        let authorization = try verify(header, path: path, method: method, body: body, requirePayload: requirePayload)
        guard relay.configuration.management.adminPubkeys.contains(authorization.pubkey) else {
            throw .notAdmin(authorization.pubkey)
        }
        try spend(authorization)
        return authorization.pubkey
    }

    /// A valid NIP-98 authorization of this request, not yet spent: for an endpoint with its
    /// own idea of who may call, which spends it (`spend`) once it admits the signer.
    public func verify(
        _ header: String?, path: String, method: String, body: [UInt8], requirePayload: Bool = true
    ) throws(Refusal) -> Event {
        do {
            return try HTTPAuthorization.verify(
                header, urls: relay.addresses.all, path: path, method: method, body: body, now: relay.clock(),
                requirePayload: requirePayload)
        } catch {
            throw .authorization(error)
        }
    }

    /// Spends an authorization whose signer the endpoint admits; a copy of it is refused from
    /// then on. Only admitted signers' authorizations are kept: anyone can sign as many as
    /// they like, and keeping a stranger's would let strangers fill the table.
    public func spend(_ authorization: Event) throws(Refusal) {
        let now = relay.clock()
        let expires = authorization.createdAt + HTTPAuthorization.allowedClockSkew
        guard used.withLock({ $0.claim(authorization.sig, until: expires, now: now) }) else {
            throw .authorization(.replayed)
        }
    }

    /// How many spent authorizations are kept now.
    var spentCount: Int { used.withLock { $0.count } }
}

/// The signatures of authorization events accepted lately, each until it expires.
///
/// Only events whose signer the endpoint admits get here, so the table is as large as those callers' own
/// request rate over two minutes; the bound is a backstop, and when it is reached the
/// oldest expiry goes first, which can only let an event that is about to expire through.
struct UsedAuthorizations {
    static let capacity = 65_536
    private var expiries: [Signature: Int64] = [:]

    var count: Int { expiries.count }

    /// Records `signature`; false when it was recorded before and has not expired.
    mutating func claim(_ signature: Signature, until expires: Int64, now: Int64) -> Bool {
        if let known = expiries[signature], known >= now { return false }
        if expiries.count >= Self.capacity {
            expiries = expiries.filter { $0.value >= now }
            if expiries.count >= Self.capacity, let oldest = expiries.min(by: { $0.value < $1.value }) {
                expiries[oldest.key] = nil
            }
        }
        expiries[signature] = expires
        return true
    }
}
