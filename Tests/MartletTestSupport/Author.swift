import Foundation
import MartletRelay
public import NostrCore

/// A key pair that signs test events.
///
/// ```swift
/// let alice = Author()
/// let note = alice.event(content: "hi")                 // kind 1, dated now
/// let old = alice.event(kind: 0, createdAt: 1_700_000_000)
/// ```
public struct Author: Sendable {
    public let secret: SecretKey
    public var pubkey: PublicKey { secret.publicKey }

    public init() { secret = SecretKey.generate() }

    /// A signed event; `createdAt` defaults to the current time.
    public func event(
        kind: Kind = .textNote, content: String = "hello", tags: [Tag] = [], createdAt: Int64? = nil
    ) -> Event {
        Event.signed(by: secret, kind: kind, createdAt: createdAt ?? now(), tags: tags, content: content)
    }

    /// An event mined to at least `difficulty` leading zero bits (NIP-13), committing to `target`.
    public func minedEvent(difficulty: Int, target: Int? = nil, kind: Kind = 1, content: String = "mined") -> Event {
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
    public func authEvent(challenge: String, relayURL: String, createdAt: Int64? = nil) -> Event {
        event(kind: 22242, content: "", tags: [["relay", relayURL], ["challenge", challenge]], createdAt: createdAt)
    }
}

/// The current time in seconds, as `created_at` counts it.
public func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
