import Foundation
import NostrCore

/// Signed events for tests.
struct Author {
    let secret: SecretKey
    var pubkey: PublicKey { secret.publicKey }

    init() { secret = SecretKey.generate() }

    func event(
        kind: Kind = 1, content: String = "hello", tags: [Tag] = [], createdAt: Int64? = nil
    ) -> Event {
        Event.signed(by: secret, kind: kind, createdAt: createdAt ?? now(), tags: tags, content: content)
    }
}

func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

extension [[String: Any]] {
    /// The `id` of each event object, in order.
    var ids: [String] { map { $0["id"] as? String ?? "" } }
}
