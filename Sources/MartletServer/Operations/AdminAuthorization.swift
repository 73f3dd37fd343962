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
        let now = relay.clock()
        let event: Event
        do {
            event = try HTTPAuthorization.verify(
                header, urls: relay.addresses.all, path: path, method: method, body: body, now: now,
                requirePayload: requirePayload)
        } catch {
            throw .authorization(error)
        }
        guard relay.configuration.management.adminPubkeys.contains(event.pubkey) else {
            throw .notAdmin(event.pubkey)
        }
        let expires = event.createdAt + HTTPAuthorization.allowedClockSkew
        guard used.withLock({ $0.claim(event.sig, until: expires, now: now) }) else {
            throw .authorization(.replayed)
        }
        return event.pubkey
    }
}

/// The signatures of authorization events accepted lately, each until it expires.
///
/// Only events signed by an admin get here, so the table is as large as the admins' own
/// request rate over two minutes; the bound is a backstop, and when it is reached the
/// oldest expiry goes first, which can only let an event that is about to expire through.
struct UsedAuthorizations {
    static let capacity = 65_536
    private var expiries: [Signature: Int64] = [:]

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
