public import MartletAxon
import Synchronization

/// The ed25519 keys that may open an axon session: the configuration's, changed at run time
/// through NIP-86 (`allowaxonkey`, `disallowaxonkey`). A change holds for the next auth;
/// sessions already authenticated stay open, as a NIP-42 session does.
///
/// ```swift
/// let allowlist = AxonAllowlist(configuration.axon.allowlist)
/// allowlist.allow(key)
/// allowlist.contains(key) // true
/// ```
public final class AxonAllowlist: Sendable {
    private let keys: Mutex<Set<AxonAuthKey>>

    public init(_ keys: Set<AxonAuthKey>) {
        self.keys = Mutex(keys)
    }

    public func contains(_ key: AxonAuthKey) -> Bool { keys.withLock { $0.contains(key) } }

    /// `true` when the key was not listed yet.
    @discardableResult
    public func allow(_ key: AxonAuthKey) -> Bool { keys.withLock { $0.insert(key).inserted } }

    /// `true` when the key was listed.
    @discardableResult
    public func disallow(_ key: AxonAuthKey) -> Bool { keys.withLock { $0.remove(key) != nil } }

    /// Every key, sorted by hex.
    public var all: [AxonAuthKey] { keys.withLock { $0.sorted { $0.hex < $1.hex } } }
}
