extension KRPCMessage {
    /// KRPC never nests deeper than `d a d ...` plus a BEP 44 value; 1,000 bytes of `v` can
    /// still hold deep lists, so the bound is generous but finite.
    public static let decoder = BencodeDecoder(maxDepth: 32, maxLength: 65_536)
    /// Transaction ids are opaque but short ("2 characters ... sufficient", BEP 5).
    public static let maxTransactionIDLength = 16

    public func encoded() -> [UInt8] {
        var top: [String: Bencode] = ["t": .bytes(transactionID)]
        switch body {
        case .query(let query):
            top["y"] = .string("q")
            top["q"] = .string(query.methodName)
            top["a"] = .dictionary(query.arguments)
        case .response(let response):
            top["y"] = .string("r")
            top["r"] = .dictionary(response.fields)
        case .error(let code, let message):
            top["y"] = .string("e")
            top["e"] = .list([.integer(code), .string(message)])
        }
        if readOnly { top["ro"] = .integer(1) }
        return Bencode.dictionary(top).encoded()
    }

    public static func decode(_ bytes: [UInt8]) throws(KRPCDecodeError) -> KRPCMessage {
        let root: Bencode
        do { root = try decoder.decode(bytes) } catch { throw .bencode(error) }
        guard let transactionID = root["t"]?.byteValue, transactionID.count <= maxTransactionIDLength else {
            throw .invalidField("t")
        }
        let readOnly = root["ro"]?.integerValue == 1
        switch root["y"]?.byteValue {
        case Array("q".utf8):
            guard let method = root["q"]?.byteValue, case .dictionary = root["a"] else { throw .invalidField("q") }
            let query = try KRPCQuery.decode(method: method, arguments: root["a"]!, transactionID: transactionID)
            return KRPCMessage(transactionID: transactionID, body: .query(query), readOnly: readOnly)
        case Array("r".utf8):
            guard let fields = root["r"] else { throw .invalidField("r") }
            return KRPCMessage(transactionID: transactionID, body: .response(try KRPCResponse.decode(fields)))
        case Array("e".utf8):
            guard let list = root["e"]?.listValue, list.count >= 2, let code = list[0].integerValue,
                let message = list[1].byteValue
            else { throw .invalidField("e") }
            return KRPCMessage(
                transactionID: transactionID, body: .error(code: code, message: String(decoding: message, as: UTF8.self)))
        default:
            throw .invalidField("y")
        }
    }
}

extension KRPCQuery {
    var arguments: [String: Bencode] {
        var args: [String: Bencode] = ["id": .bytes(senderID.bytes)]
        switch self {
        case .ping:
            break
        case .findNode(_, let target):
            args["target"] = .bytes(target.bytes)
        case .getPeers(_, let infoHash):
            args["info_hash"] = .bytes(infoHash.bytes)
        case .announcePeer(_, let infoHash, let port, let token, let impliedPort):
            args["info_hash"] = .bytes(infoHash.bytes)
            args["port"] = .integer(Int64(port))
            args["token"] = .bytes(token)
            if impliedPort { args["implied_port"] = .integer(1) }
        case .get(_, let target, let sequence):
            args["target"] = .bytes(target.bytes)
            if let sequence { args["seq"] = .integer(sequence) }
        case .put(_, let token, let item, let compareAndSwap):
            args["token"] = .bytes(token)
            switch item {
            case .immutable(let value):
                args["v"] = value
            case .mutable(let mutable):
                args["v"] = mutable.value
                args["k"] = .bytes(mutable.publicKey)
                args["sig"] = .bytes(mutable.signature)
                args["seq"] = .integer(mutable.sequence)
                if !mutable.salt.isEmpty { args["salt"] = .bytes(mutable.salt) }
            }
            if let compareAndSwap { args["cas"] = .integer(compareAndSwap) }
        }
        return args
    }

    static func decode(method: [UInt8], arguments a: Bencode, transactionID: [UInt8]) throws(KRPCDecodeError)
        -> KRPCQuery
    {
        let id = try a.nodeID("id")
        switch String(decoding: method, as: UTF8.self) {
        case "ping":
            return .ping(id: id)
        case "find_node":
            return .findNode(id: id, target: try a.nodeID("target"))
        case "get_peers":
            return .getPeers(id: id, infoHash: try a.nodeID("info_hash"))
        case "announce_peer":
            guard let port = a["port"]?.integerValue, (0...65_535).contains(port) else { throw .invalidField("port") }
            guard let token = a["token"]?.byteValue else { throw .invalidField("token") }
            let implied = a["implied_port"]?.integerValue.map { $0 != 0 } ?? false
            return .announcePeer(
                id: id, infoHash: try a.nodeID("info_hash"), port: UInt16(port), token: token, impliedPort: implied)
        case "get":
            return .get(id: id, target: try a.nodeID("target"), sequence: a["seq"]?.integerValue)
        case "put":
            guard let token = a["token"]?.byteValue else { throw .invalidField("token") }
            guard let value = a["v"] else { throw .invalidField("v") }
            let cas = a["cas"]?.integerValue
            guard let key = a["k"] else { return .put(id: id, token: token, item: .immutable(value), compareAndSwap: cas) }
            guard let publicKey = key.byteValue, publicKey.count == 32 else { throw .invalidField("k") }
            guard let signature = a["sig"]?.byteValue, signature.count == 64 else { throw .invalidField("sig") }
            guard let sequence = a["seq"]?.integerValue, sequence >= 0 else { throw .invalidField("seq") }
            let salt = a["salt"]?.byteValue ?? []
            let item = MutableItem(
                publicKey: publicKey, salt: salt, sequence: sequence, value: value, signature: signature)
            return .put(id: id, token: token, item: .mutable(item), compareAndSwap: cas)
        case let other:
            throw .unknownMethod(other, transactionID: transactionID)
        }
    }
}

extension KRPCResponse {
    var fields: [String: Bencode] {
        var r: [String: Bencode] = ["id": .bytes(id.bytes)]
        if !nodes.isEmpty { r["nodes"] = .bytes(NodeInfo.pack(nodes)) }
        if let token { r["token"] = .bytes(token) }
        if !peers.isEmpty { r["values"] = .list(peers.map { .bytes($0.compact) }) }
        if let value { r["v"] = value }
        if let publicKey { r["k"] = .bytes(publicKey) }
        if let signature { r["sig"] = .bytes(signature) }
        if let sequence { r["seq"] = .integer(sequence) }
        return r
    }

    static func decode(_ r: Bencode) throws(KRPCDecodeError) -> KRPCResponse {
        var response = KRPCResponse(id: try r.nodeID("id"))
        if let packed = r["nodes"] {
            guard let bytes = packed.byteValue, let nodes = NodeInfo.unpack(bytes) else { throw .invalidField("nodes") }
            response.nodes = nodes
        }
        if let token = r["token"] {
            guard let bytes = token.byteValue else { throw .invalidField("token") }
            response.token = bytes
        }
        if let values = r["values"] {
            guard let list = values.listValue else { throw .invalidField("values") }
            // BEP 32 adds 18-byte IPv6 peers to the same list; they are skipped, not refused.
            response.peers = list.compactMap { $0.byteValue.flatMap(IPv4Endpoint.init(compact:)) }
        }
        response.value = r["v"]
        if let key = r["k"] {
            guard let bytes = key.byteValue, bytes.count == 32 else { throw .invalidField("k") }
            response.publicKey = bytes
        }
        if let sig = r["sig"] {
            guard let bytes = sig.byteValue, bytes.count == 64 else { throw .invalidField("sig") }
            response.signature = bytes
        }
        if let seq = r["seq"] {
            guard let value = seq.integerValue, value >= 0 else { throw .invalidField("seq") }
            response.sequence = value
        }
        return response
    }
}

extension Bencode {
    fileprivate func nodeID(_ key: String) throws(KRPCDecodeError) -> NodeID {
        guard let bytes = self[key]?.byteValue, let id = NodeID(bytes) else { throw .invalidField(key) }
        return id
    }
}
