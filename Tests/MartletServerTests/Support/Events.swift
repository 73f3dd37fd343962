import Foundation
import MartletRelay
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

extension Author {
    /// An event mined to at least `difficulty` leading zero bits (NIP-13), committing to `target`.
    func minedEvent(difficulty: Int, target: Int? = nil, kind: Kind = 1, content: String = "mined") -> Event {
        let createdAt = now()
        var nonce = 0
        while true {
            let tags: [Tag] = [["nonce", String(nonce), String(target ?? difficulty)]]
            let id = Event.computeID(pubkey: pubkey, createdAt: createdAt, kind: kind, tags: tags, content: content)
            if ProofOfWork.difficulty(of: id) >= difficulty {
                return Event.signed(by: secret, kind: kind, createdAt: createdAt, tags: tags, content: content)
            }
            nonce += 1
        }
    }

    /// A NIP-42 authentication event for `challenge` naming `relayURL`.
    func authEvent(challenge: String, relayURL: String, createdAt: Int64? = nil) -> Event {
        event(kind: 22242, content: "", tags: [["relay", relayURL], ["challenge", challenge]], createdAt: createdAt)
    }
}

extension NostrTestClient {
    /// Waits for the relay's `["AUTH", <challenge>]`, skipping other messages.
    func challenge() async throws -> String {
        while true {
            let message = try await next()
            if message.type == "AUTH", let challenge = message.string(1) { return challenge }
        }
    }

    /// Authenticates as `author` with `challenge`; returns the relay's answer.
    func authenticate(as author: Author, challenge: String, relayURL: String) async throws -> (accepted: Bool, message: String) {
        let event = author.authEvent(challenge: challenge, relayURL: relayURL)
        try await send(#"["AUTH","# + event.jsonString + "]")
        return try await ok(for: event.id)
    }
}
