import Foundation
import NostrCore
import Testing

@Suite("relay messages: exact bytes")
struct RelayMessageTests {
    let id = EventID(hex: Fixture.plain.id)!
    let idHex = Fixture.plain.id

    static func isJSON(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [])) != nil
    }

    func expectEncoding(_ message: RelayMessage, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = message.encoded()
        #expect(String(decoding: bytes, as: UTF8.self) == text, sourceLocation: sourceLocation)
        #expect(bytes == text.bytes, sourceLocation: sourceLocation)
        #expect(Self.isJSON(bytes), "not JSON: \(text)", sourceLocation: sourceLocation)
        var appended = Array("prefix".utf8)
        message.encode(into: &appended)
        #expect(appended == "prefix".bytes + text.bytes, sourceLocation: sourceLocation)
    }

    @Test(#"["EVENT", <subscription_id>, <event JSON>] splices the stored JSON in verbatim"#)
    func event() {
        for vector in Fixture.vectors {
            expectEncoding(
                .event(SubscriptionID("sub1"), eventJSON: vector.jsonBytes), #"["EVENT","sub1","# + vector.json + "]")
        }
        let json = Fixture.plain.json
        expectEncoding(.event(SubscriptionID(#"a"b\c"#), eventJSON: json.bytes), #"["EVENT","a\"b\\c","# + json + "]")
    }

    @Test("the EVENT prefix of a subscription, the stored JSON and ] are exactly the EVENT message")
    func eventPrefix() {
        let json = Fixture.plain.json.bytes
        for id in ["sub1", #"a"b\c"#, "ü ✓", ""] {
            let subscription = SubscriptionID(id)
            let joined = RelayMessage.eventPrefix(subscription) + json + [UInt8(ascii: "]")]
            #expect(joined == RelayMessage.event(subscription, eventJSON: json).encoded(), "\(id)")
        }
    }

    @Test(#"["OK", <event_id>, <true|false>, <message>]"#)
    func ok() {
        expectEncoding(.ok(id, accepted: true, message: ""), #"["OK","\#(idHex)",true,""]"#)
        expectEncoding(
            .ok(id, accepted: true, message: "duplicate: already have this event"),
            #"["OK","\#(idHex)",true,"duplicate: already have this event"]"#)
        expectEncoding(
            .ok(id, accepted: false, message: #"invalid: "sig" must be lowercase hex"#),
            #"["OK","\#(idHex)",false,"invalid: \"sig\" must be lowercase hex"]"#)
        expectEncoding(
            .ok(id, accepted: false, message: "blocked: you are banned from posting here"),
            #"["OK","\#(idHex)",false,"blocked: you are banned from posting here"]"#)
    }

    @Test(#"["EOSE", <subscription_id>]"#)
    func eose() {
        expectEncoding(.eose(SubscriptionID("sub1")), #"["EOSE","sub1"]"#)
        expectEncoding(.eose(SubscriptionID("🦩\n")), #"["EOSE","🦩\n"]"#)
    }

    @Test(#"["CLOSED", <subscription_id>, <message>]"#)
    func closed() {
        expectEncoding(
            .closed(SubscriptionID("sub1"), message: "unsupported: filter contains unknown elements"),
            #"["CLOSED","sub1","unsupported: filter contains unknown elements"]"#)
        expectEncoding(
            .closed(SubscriptionID("sub1"), message: "error: shutting down idle subscription"),
            #"["CLOSED","sub1","error: shutting down idle subscription"]"#)
    }

    @Test(#"["NOTICE", <message>]"#)
    func notice() {
        expectEncoding(.notice("hello"), #"["NOTICE","hello"]"#)
        expectEncoding(.notice("tab\tquote\"nul\u{0}bell\u{7}"), #"["NOTICE","tab\tquote\"nul\u0000bell\u0007"]"#)
    }

    @Test(#"["AUTH", <challenge-string>] (NIP-42)"#)
    func auth() {
        expectEncoding(.auth(challenge: "c4a1-2b"), #"["AUTH","c4a1-2b"]"#)
    }

    @Test(#"["COUNT", <query_id>, {"count": <integer>}] with optional approximate and hll (NIP-45)"#)
    func count() {
        expectEncoding(.count(SubscriptionID("q"), count: 5), #"["COUNT","q",{"count":5}]"#)
        expectEncoding(.count(SubscriptionID("q"), count: 0), #"["COUNT","q",{"count":0}]"#)
        expectEncoding(
            .count(SubscriptionID("q"), count: 93_412_452, approximate: true),
            #"["COUNT","q",{"count":93412452,"approximate":true}]"#)
        let hll = String(repeating: "07", count: 256)
        expectEncoding(
            .count(SubscriptionID("q"), count: 16578, hll: hll), #"["COUNT","q",{"count":16578,"hll":"\#(hll)"}]"#)
        expectEncoding(
            .count(SubscriptionID("q"), count: 1, approximate: true, hll: "00"),
            #"["COUNT","q",{"count":1,"approximate":true,"hll":"00"}]"#)
    }

    @Test(#"["NEG-MSG", <subscription ID>, <message, lowercase hex>] (NIP-77)"#)
    func negMsg() {
        expectEncoding(.negMsg(SubscriptionID("neg1"), message: "6100000200"), #"["NEG-MSG","neg1","6100000200"]"#)
    }

    @Test(#"["NEG-ERR", <subscription ID>, <reason code>] (NIP-77)"#)
    func negErr() {
        expectEncoding(
            .negErr(SubscriptionID("neg1"), reason: "blocked: this query is too big"),
            #"["NEG-ERR","neg1","blocked: this query is too big"]"#)
        expectEncoding(
            .negErr(SubscriptionID("neg1"), reason: "closed: timeout"), #"["NEG-ERR","neg1","closed: timeout"]"#)
    }

    @Test("every relay message decodes back from its own bytes (the client side of martlet sync)")
    func decodesBack() throws {
        let event = try EventDecoder.decode(json: Fixture.vector("emoji").jsonBytes)
        let messages: [RelayMessage] = [
            .event(SubscriptionID("sub1"), eventJSON: event.json),
            .ok(id, accepted: true, message: ""),
            .ok(id, accepted: false, message: "blocked: \"no\""),
            .eose(SubscriptionID("🦩")),
            .closed(SubscriptionID("s"), message: "error: shutting down idle subscription"),
            .notice("tab\tnul\u{0}"),
            .auth(challenge: "c4a1"),
            .count(SubscriptionID("q"), count: 5),
            .count(SubscriptionID("q"), count: 16578, approximate: true, hll: "0607"),
            .negMsg(SubscriptionID("neg1"), message: "6100000200"),
            .negErr(SubscriptionID("neg1"), reason: "closed: timeout"),
        ]
        for message in messages {
            #expect(try RelayMessage.decode(message.encoded()) == message)
        }
    }
}
