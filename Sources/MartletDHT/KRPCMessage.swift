/// One KRPC packet (BEP 5): a query, a response or an error, tagged by its transaction id.
///
///     let ping = KRPCMessage(transactionID: [0, 1], body: .query(.ping(id: myID)))
///     channel.write(ping.encoded())
///     let reply = try KRPCMessage.decode(datagramBytes)
public struct KRPCMessage: Sendable, Equatable {
    public var transactionID: [UInt8]
    public var body: Body
    /// BEP 43: a read-only node asks not to be added to routing tables.
    public var readOnly: Bool

    public enum Body: Sendable, Equatable {
        case query(KRPCQuery)
        case response(KRPCResponse)
        case error(code: Int64, message: String)
    }

    public init(transactionID: [UInt8], body: Body, readOnly: Bool = false) {
        self.transactionID = transactionID
        self.body = body
        self.readOnly = readOnly
    }
}

/// The queries Martlet understands: BEP 5's four and BEP 44's get and put.
public enum KRPCQuery: Sendable, Equatable {
    case ping(id: NodeID)
    case findNode(id: NodeID, target: NodeID)
    case getPeers(id: NodeID, infoHash: NodeID)
    case announcePeer(id: NodeID, infoHash: NodeID, port: UInt16, token: [UInt8], impliedPort: Bool)
    /// BEP 44 get; `sequence` asks only for an item newer than that.
    case get(id: NodeID, target: NodeID, sequence: Int64?)
    /// BEP 44 put; `compareAndSwap` is the `cas` the stored item must have.
    case put(id: NodeID, token: [UInt8], item: DHTItem, compareAndSwap: Int64?)

    public var senderID: NodeID {
        switch self {
        case .ping(let id), .findNode(let id, _), .getPeers(let id, _), .announcePeer(let id, _, _, _, _),
            .get(let id, _, _), .put(let id, _, _, _):
            id
        }
    }

    public var methodName: String {
        switch self {
        case .ping: "ping"
        case .findNode: "find_node"
        case .getPeers: "get_peers"
        case .announcePeer: "announce_peer"
        case .get: "get"
        case .put: "put"
        }
    }
}

/// A response's `r` dictionary. Responses do not name their query, so every field a
/// Martlet query can receive is optional here; the caller knows what it asked.
public struct KRPCResponse: Sendable, Equatable {
    public var id: NodeID
    public var nodes: [NodeInfo]
    public var token: [UInt8]?
    /// get_peers' `values`: compact peers.
    public var peers: [IPv4Endpoint]
    /// BEP 44 get: the item's fields as sent (checked by the caller against its target).
    public var value: Bencode?
    public var publicKey: [UInt8]?
    public var signature: [UInt8]?
    public var sequence: Int64?

    public init(
        id: NodeID, nodes: [NodeInfo] = [], token: [UInt8]? = nil, peers: [IPv4Endpoint] = [],
        value: Bencode? = nil, publicKey: [UInt8]? = nil, signature: [UInt8]? = nil, sequence: Int64? = nil
    ) {
        self.id = id
        self.nodes = nodes
        self.token = token
        self.peers = peers
        self.value = value
        self.publicKey = publicKey
        self.signature = signature
        self.sequence = sequence
    }
}

/// BEP 5 and BEP 44 error codes.
public enum KRPCErrorCode {
    public static let generic: Int64 = 201
    public static let server: Int64 = 202
    public static let protocolError: Int64 = 203
    public static let methodUnknown: Int64 = 204
    public static let messageTooBig: Int64 = 205
    public static let invalidSignature: Int64 = 206
    public static let saltTooBig: Int64 = 207
    public static let casMismatch: Int64 = 301
    public static let sequenceTooLow: Int64 = 302
}

/// Why a datagram is not a KRPC message Martlet can act on.
public enum KRPCDecodeError: Error, Sendable, Equatable {
    case bencode(BencodeError)
    /// A required key is absent or has the wrong type or size.
    case invalidField(String)
    /// A well-formed query for a method we do not serve; BEP 5 answers it with error 204.
    case unknownMethod(String, transactionID: [UInt8])
}
