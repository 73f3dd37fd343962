public import NIOCore

/// A 160-bit DHT identifier: a node id, an info-hash or a BEP 44 target.
///
/// Distance is XOR (BEP 5), compared as an unsigned big-endian number.
///
///     let id = NodeID.random()
///     id.distance(to: other) < id.distance(to: third)
public struct NodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let byteCount = 20
    public let bytes: [UInt8]

    public init?(_ bytes: [UInt8]) {
        guard bytes.count == NodeID.byteCount else { return nil }
        self.bytes = bytes
    }

    public init?<S: Sequence>(bytes: S) where S.Element == UInt8 { self.init(Array(bytes)) }

    public static func random() -> NodeID {
        var generator = SystemRandomNumberGenerator()
        return NodeID((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// The XOR distance, itself an id so that distances compare as numbers.
    public func distance(to other: NodeID) -> NodeID {
        NodeID(zip(bytes, other.bytes).map { $0 ^ $1 })!
    }

    /// How many leading bits the two ids share (160 when equal): the bucket index.
    public func commonPrefixLength(with other: NodeID) -> Int {
        for (index, (a, b)) in zip(bytes, other.bytes).enumerated() where a != b {
            return index * 8 + (a ^ b).leadingZeroBitCount
        }
        return NodeID.byteCount * 8
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public var description: String { bytes.hexString }
}

/// A node as BEP 5 writes it in `nodes`: 20-byte id, 4-byte IPv4 address, 2-byte port.
///
///     let packed = NodeInfo.pack(nodes)      // 26 bytes each
///     let nodes = NodeInfo.unpack(packed)    // nil when the length is not a multiple of 26
public struct NodeInfo: Sendable, Hashable {
    public static let compactSize = 26
    public let id: NodeID
    public let address: IPv4Endpoint

    public init(id: NodeID, address: IPv4Endpoint) {
        self.id = id
        self.address = address
    }

    public static func pack(_ nodes: [NodeInfo]) -> [UInt8] {
        nodes.flatMap { $0.id.bytes + $0.address.compact }
    }

    public static func unpack(_ bytes: [UInt8]) -> [NodeInfo]? {
        guard bytes.count % compactSize == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: compactSize).map { start in
            NodeInfo(
                id: NodeID(Array(bytes[start..<start + 20]))!,
                address: IPv4Endpoint(compact: Array(bytes[start + 20..<start + 26]))!)
        }
    }
}

/// An IPv4 address and UDP port, the only kind of endpoint BEP 5's compact format holds.
///
///     let endpoint = IPv4Endpoint(host: "127.0.0.1", port: 6881)!
public struct IPv4Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let octets: [UInt8]
    public let port: UInt16

    public init?(host: String, port: Int) {
        let parts = host.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4, (0...65_535).contains(port) else { return nil }
        self.octets = parts
        self.port = UInt16(port)
    }

    public init?(compact: [UInt8]) {
        guard compact.count == 6 else { return nil }
        octets = Array(compact[0..<4])
        port = UInt16(compact[4]) << 8 | UInt16(compact[5])
    }

    public init?(_ address: SocketAddress) {
        guard case .v4 = address, let ip = address.ipAddress, let port = address.port else { return nil }
        self.init(host: ip, port: port)
    }

    public var host: String { octets.map(String.init).joined(separator: ".") }
    public var compact: [UInt8] { octets + [UInt8(port >> 8), UInt8(port & 0xff)] }

    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(ipAddress: host, port: Int(port))
    }

    public var description: String { "\(host):\(port)" }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
