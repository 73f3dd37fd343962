import MartletRelay
import NIOCore
import Synchronization

/// The open connections of each remote address, refusing one beyond `limit`.
///
/// IPv6 clients are counted per /64, the block one subscriber usually holds: counting per
/// address would let one host take a fresh address for every connection. The table holds
/// only addresses with connections open, so it is bounded by the descriptors themselves.
///
/// ```swift
/// let connections = ConnectionsPerIP(limit: 256)
/// if let key = connections.admit(channel.remoteAddress) {
///     channel.closeFuture.whenComplete { _ in connections.release(key) }
/// }
/// ```
final class ConnectionsPerIP: Sendable {
    /// The outcome of `admit`.
    enum Admission: Sendable {
        /// Counted under `key`: call `release(key)` when the connection closes.
        case counted(key: String)
        /// Not counted: no cap, an address without an IP (a Unix socket), or a trusted proxy.
        case uncounted
        case refused
    }

    let limit: Int
    /// Addresses never capped: trusted reverse proxies, each carrying many clients.
    private let uncapped: @Sendable (String) -> Bool
    private let open = Mutex<[String: Int]>([:])

    /// `limit` 0 counts nothing and refuses nothing.
    init(limit: Int, uncapped: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.limit = limit
        self.uncapped = uncapped
    }

    func admit(_ address: SocketAddress?) -> Admission {
        guard limit > 0, let address, let key = Self.key(for: address) else { return .uncounted }
        if let ip = address.ipAddress, uncapped(ip) { return .uncounted }
        return open.withLock { open in
            let count = open[key, default: 0]
            guard count < limit else { return .refused }
            open[key] = count + 1
            return .counted(key: key)
        }
    }

    func release(_ key: String) {
        open.withLock { open in
            guard let count = open[key] else { return }
            open[key] = count > 1 ? count - 1 : nil
        }
    }

    /// Connections open under `address`'s key.
    func count(for address: SocketAddress) -> Int {
        guard let key = Self.key(for: address) else { return 0 }
        return open.withLock { $0[key, default: 0] }
    }

    /// The address itself for IPv4 (IPv4-mapped IPv6 included), the /64 for IPv6: the key
    /// the rate limits use too (`AddressKey`).
    static func key(for address: SocketAddress) -> String? {
        address.ipAddress.map(AddressKey.of)
    }
}
