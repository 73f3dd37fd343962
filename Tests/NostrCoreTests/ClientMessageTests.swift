import Foundation
import NostrCore
import Testing

@Suite("client messages: EVENT, REQ, CLOSE, AUTH, COUNT, NEG-OPEN, NEG-MSG, NEG-CLOSE")
struct ClientMessageTests {
    let pubkey = Fixture.plain.pubkey
    let id = Fixture.plain.id

    @Test(#"["EVENT", <event JSON as defined above>], used to publish events"#)
    func event() throws {
        let vector = Fixture.vector("every NIP-01 escape together")
        let message = try ClientMessage.decode(vector.eventMessage)
        let expected = try EventDecoder.decode(json: vector.jsonBytes)
        #expect(message == .event(expected))
        #expect(message.subscriptionID == nil)
        guard case .event(let event) = message else { return }
        #expect(event.json == vector.jsonBytes)
    }

    @Test(#"["AUTH", <signed event JSON>] carries a kind 22242 event (NIP-42)"#)
    func auth() throws {
        let vector = Fixture.vector("kind 22242 auth")
        let message = try ClientMessage.decode(#"["AUTH","#.bytes + vector.jsonBytes + "]".bytes)
        #expect(message == .auth(try EventDecoder.decode(json: vector.jsonBytes)))
        #expect(message.subscriptionID == nil)
    }

    @Test(#"["REQ", <subscription_id>, <filters1>, <filters2>, ...]"#)
    func req() throws {
        let message = try decode(##"["REQ","sub1",{"kinds":[1,7],"limit":20},{"authors":["\##(pubkey)"],"#t":["nostr"]}]"##)
        let author = try #require(PublicKey(hex: pubkey))
        #expect(message == .req(SubscriptionID("sub1"), [
            Filter(kinds: [1, 7], limit: 20),
            Filter(authors: [author], tags: [UInt8(ascii: "t"): ["nostr"]]),
        ]))
        #expect(message.subscriptionID == SubscriptionID("sub1"))
    }

    @Test("REQ with an empty filter {} asks for everything")
    func reqEmptyFilter() throws {
        #expect(try decode(#"["REQ","all",{}]"#) == .req(SubscriptionID("all"), [Filter()]))
    }

    @Test(#"["CLOSE", <subscription_id>], used to stop previous subscriptions"#)
    func close() throws {
        let message = try decode(#"["CLOSE","sub1"]"#)
        #expect(message == .close(SubscriptionID("sub1")))
        #expect(message.subscriptionID == SubscriptionID("sub1"))
    }

    @Test(#"["COUNT", <query_id>, <filters JSON>...] (NIP-45)"#)
    func count() throws {
        let message = try decode(##"["COUNT","q1",{"kinds":[3],"#p":["\##(pubkey)"]},{"ids":["\##(id)"]}]"##)
        let event = try #require(EventID(hex: id))
        #expect(message == .count(SubscriptionID("q1"), [
            Filter(kinds: [3], tags: [UInt8(ascii: "p"): [pubkey]]),
            Filter(ids: [event]),
        ]))
        #expect(message.subscriptionID == SubscriptionID("q1"))
    }

    @Test(#"["NEG-OPEN", <subscription ID>, <filter>, <initialMessage, lowercase hex>] (NIP-77)"#)
    func negOpen() throws {
        let message = try decode(#"["NEG-OPEN","neg1",{"kinds":[1],"since":10},"6100000200"]"#)
        #expect(message == .negOpen(SubscriptionID("neg1"), Filter(kinds: [1], since: 10), "6100000200"))
        #expect(message.subscriptionID == SubscriptionID("neg1"))
    }

    @Test(#"["NEG-MSG", <subscription ID>, <message, lowercase hex>] (NIP-77)"#)
    func negMsg() throws {
        let message = try decode(#"["NEG-MSG","neg1","61abcdef"]"#)
        #expect(message == .negMsg(SubscriptionID("neg1"), "61abcdef"))
        #expect(message.subscriptionID == SubscriptionID("neg1"))
    }

    @Test(#"["NEG-CLOSE", <subscription ID>] (NIP-77)"#)
    func negClose() throws {
        let message = try decode(#"["NEG-CLOSE","neg1"]"#)
        #expect(message == .negClose(SubscriptionID("neg1")))
        #expect(message.subscriptionID == SubscriptionID("neg1"))
    }

    @Test("unknown members of an event are dropped, not stored")
    func unknownEventMembers() throws {
        let text = EventMembers().adding("seen_on", #"["wss://x"]"#).adding("id2", "null").eventMessage
        guard case .event(let event) = try decode(text) else {
            Issue.record("not an EVENT")
            return
        }
        #expect(event.json == Fixture.plain.jsonBytes)
        #expect(throws: Never.self) { try event.validate() }
    }

    @Test("unknown filter members are skipped so a newer client's extra field does not break a subscription")
    func unknownFilterMembers() throws {
        let message = try decode(###"["REQ","s",{"kinds":[1],"x-new":{"a":[1,2,{"b":null}]},"##":[1],"#ab":"x"}]"###)
        #expect(message == .req(SubscriptionID("s"), [Filter(kinds: [1])]))
    }

    @Test("every client message encodes to bytes that decode to the same message")
    func encodesBack() throws {
        let event = try EventDecoder.decode(json: Fixture.vector("every NIP-01 escape together").jsonBytes)
        let auth = try EventDecoder.decode(json: Fixture.vector("kind 22242 auth").jsonBytes)
        let author = try #require(PublicKey(hex: pubkey))
        let messages: [ClientMessage] = [
            .event(event), .auth(auth),
            .req(SubscriptionID("sub1"), [Filter(kinds: [1, 7], limit: 20), Filter(authors: [author], search: "q\n")]),
            .count(SubscriptionID("q"), [Filter(tags: [UInt8(ascii: "p"): [pubkey], UInt8(ascii: "T"): ["x"]])]),
            .close(SubscriptionID("a\"b")),
            .negOpen(SubscriptionID("n"), Filter(since: 1, until: 2), "6100000200"),
            .negMsg(SubscriptionID("n"), "61"),
            .negClose(SubscriptionID("n")),
        ]
        for message in messages {
            #expect(try ClientMessage.decode(message.encoded()) == message)
        }
        #expect(ClientMessage.close(SubscriptionID("s")).encoded() == #"["CLOSE","s"]"#.bytes)
    }
}
