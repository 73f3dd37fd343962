public import NostrCore
import Synchronization

/// The relays found in the DHT, newest announcement per relay key, at most `capacity`;
/// each relay's URL is also handed once to whoever listens on `urls` (the mesh).
///
/// ```swift
/// let relays = DiscoveredRelays(capacity: 64, excluding: identity.publicKey)
/// relays.record(announcement, slot: 3, now: now)
/// for await url in relays.urls { mesh.add(url) }
/// ```
public final class DiscoveredRelays: Sendable {
    /// One discovered relay.
    public struct Entry: Sendable, Equatable {
        public var announcement: RelayAnnouncement
        public var slot: Int
        /// When this relay last found the announcement (Unix seconds).
        public var lastSeen: Int64
    }

    public let capacity: Int
    /// Each discovered relay's URL, once: a relay announcing a new URL is handed again.
    public let urls: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    /// The URL of each relay forgotten (`forget(seenBefore:)`), for the mesh to drop its peer.
    public let forgotten: AsyncStream<String>
    private let forgottenContinuation: AsyncStream<String>.Continuation
    private let ownKey: PublicKey?
    private let entries = Mutex<[PublicKey: Entry]>([:])

    public init(capacity: Int, excluding ownKey: PublicKey? = nil) {
        self.capacity = capacity
        self.ownKey = ownKey
        // Bounded like the list: a mesh that does not read yet loses only the oldest URLs.
        (urls, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(capacity))
        (forgotten, forgottenContinuation) = AsyncStream.makeStream(
            of: String.self, bufferingPolicy: .bufferingNewest(capacity))
    }

    /// Every relay known now, by slot.
    public var all: [Entry] { entries.withLock { Array($0.values) }.sorted { $0.slot < $1.slot } }

    /// Records a verified announcement. Returns true when it is a relay (or URL) not known before.
    @discardableResult
    public func record(_ announcement: RelayAnnouncement, slot: Int, now: Int64) -> Bool {
        guard announcement.relayKey != ownKey else { return false }
        let isNewURL: Bool = entries.withLock { entries in
            let key = announcement.relayKey
            if let known = entries[key] {
                guard announcement.createdAt >= known.announcement.createdAt else { return false }
                entries[key] = Entry(announcement: announcement, slot: slot, lastSeen: now)
                return known.announcement.url != announcement.url
            }
            guard entries.count < capacity else { return false }
            entries[key] = Entry(announcement: announcement, slot: slot, lastSeen: now)
            return true
        }
        if isNewURL { continuation.yield(announcement.url) }
        return isNewURL
    }

    /// Forgets the relays whose announcement was last found before `time` (Unix seconds): a
    /// relay that stopped announcing itself is gone, or no longer wants to be found. Returns
    /// their URLs, also handed to `forgotten`; a relay found again later is new again.
    @discardableResult
    public func forget(seenBefore time: Int64) -> [String] {
        let stale: [String] = entries.withLock { entries in
            let stale = entries.filter { $0.value.lastSeen < time }
            for key in stale.keys { entries[key] = nil }
            return stale.values.map(\.announcement.url)
        }
        for url in stale { forgottenContinuation.yield(url) }
        return stale
    }

    /// Ends `urls` and `forgotten` (the service stopped).
    func finish() {
        continuation.finish()
        forgottenContinuation.finish()
    }
}
