import MartletDHT
import Testing

@Suite("KRPC messages (BEP 5 and BEP 44)")
struct KRPCMessageTests {
    let a = NodeID(Array("abcdefghij0123456789".utf8))!
    let b = NodeID(Array("mnopqrstuvwxyz123456".utf8))!

    @Test("BEP 5's ping example encodes byte for byte")
    func pingExample() throws {
        // BEP 5: ping Query = {"t":"aa", "y":"q", "q":"ping", "a":{"id":"abcdefghij0123456789"}}
        let ping = KRPCMessage(transactionID: Array("aa".utf8), body: .query(.ping(id: a)))
        let wire = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
        #expect(String(decoding: ping.encoded(), as: UTF8.self) == wire)
        #expect(try KRPCMessage.decode(Array(wire.utf8)) == ping)
    }

    @Test("BEP 5's find_node response with compact node info decodes")
    func findNodeResponse() throws {
        let node = NodeInfo(id: b, address: IPv4Endpoint(host: "127.0.0.1", port: 6881)!)
        let response = KRPCMessage(
            transactionID: Array("aa".utf8), body: .response(KRPCResponse(id: a, nodes: [node, node])))
        let decoded = try KRPCMessage.decode(response.encoded())
        #expect(decoded == response)
        #expect(NodeInfo.pack([node]).count == 26)
        #expect(NodeInfo.pack([node]).suffix(6) == [127, 0, 0, 1, 0x1a, 0xe1])
    }

    @Test("every query type survives its own encoding")
    func queriesRoundTrip() throws {
        let item = MutableItem(
            publicKey: [UInt8](repeating: 7, count: 32), salt: Array("foobar".utf8), sequence: 4,
            value: .string("Hello World!"), signature: [UInt8](repeating: 9, count: 64))
        let queries: [KRPCQuery] = [
            .ping(id: a), .findNode(id: a, target: b), .getPeers(id: a, infoHash: b),
            .announcePeer(id: a, infoHash: b, port: 6881, token: [1, 2], impliedPort: true),
            .get(id: a, target: b, sequence: 3), .get(id: a, target: b, sequence: nil),
            .put(id: a, token: [5], item: .mutable(item), compareAndSwap: 3),
            .put(id: a, token: [5], item: .immutable(.list([.integer(1)])), compareAndSwap: nil),
        ]
        for query in queries {
            let message = KRPCMessage(transactionID: [0, 1], body: .query(query))
            #expect(try KRPCMessage.decode(message.encoded()) == message)
        }
        let error = KRPCMessage(transactionID: [0, 1], body: .error(code: 201, message: "A Generic Error Ocurred"))
        #expect(String(decoding: error.encoded(), as: UTF8.self) == "d1:eli201e23:A Generic Error Ocurrede1:t2:\0\u{1}1:y1:ee")
        #expect(try KRPCMessage.decode(error.encoded()) == error)
    }

    @Test("a query for an unknown method is told apart, so it can get error 204")
    func unknownMethod() {
        let wire = "d1:ad2:id20:abcdefghij0123456789e1:q5:fancy1:t2:aa1:y1:qe"
        #expect(throws: KRPCDecodeError.unknownMethod("fancy", transactionID: Array("aa".utf8))) {
            try KRPCMessage.decode(Array(wire.utf8))
        }
    }

    @Test("short ids, bad node lists and missing fields are refused")
    func invalidFields() {
        let cases: [(String, String)] = [
            ("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", "id"),
            ("d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re", "nodes"),
            ("d1:t2:aa1:y1:xe", "y"),
            ("d1:y1:qe", "t"),
        ]
        for (wire, field) in cases {
            #expect(throws: KRPCDecodeError.invalidField(field), "\(wire)") { try KRPCMessage.decode(Array(wire.utf8)) }
        }
    }
}
