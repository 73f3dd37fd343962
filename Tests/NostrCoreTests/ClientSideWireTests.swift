import NostrCore
import Testing

/// The client's side of the wire, used by `martlet sync` and mesh peers: client messages
/// encoded, relay messages decoded. Each is checked against the relay's side of the codec.
@Suite("client-side wire codec: ClientMessage.encoded and RelayMessage.decode")
struct ClientSideWireTests {
    static let secret = SecretKey.generate()
    let event = Event.signed(
        by: ClientSideWireTests.secret, kind: 1, createdAt: 1_700_000_000, tags: [["t", "nostr"]],
        content: "emoji 🐦, \"quotes\" and \\ backslash\n")
    let sub = SubscriptionID("sub \"1\"")

    @Test("every client message decodes back to itself after encoding")
    func clientMessagesRoundTrip() throws {
        let filter = Filter(
            ids: [event.id], authors: [event.pubkey], kinds: [1, 7], tags: [UInt8(ascii: "t"): ["nostr", "swift"]],
            since: 10, until: 20, limit: 5, search: "bird")
        let messages: [ClientMessage] = [
            .event(event), .auth(event), .req(sub, [filter, Filter()]), .count(sub, [filter]), .close(sub),
            .negOpen(sub, Filter(kinds: [1]), "6100"), .negMsg(sub, "61"), .negClose(sub),
        ]
        for message in messages {
            #expect(try ClientMessage.decode(message.encoded()) == message, "\(message)")
        }
        #expect(String(decoding: ClientMessage.close(SubscriptionID("s")).encoded(), as: UTF8.self) == #"["CLOSE","s"]"#)
        #expect(
            String(decoding: ClientMessage.negOpen(SubscriptionID("n"), Filter(), "61").encoded(), as: UTF8.self)
                == #"["NEG-OPEN","n",{},"61"]"#)
    }

    @Test("every relay message decodes back to itself after encoding, EVENT bytes verbatim")
    func relayMessagesRoundTrip() throws {
        let messages: [RelayMessage] = [
            .event(sub, eventJSON: event.json), .ok(event.id, accepted: true, message: "duplicate: already have it"),
            .ok(event.id, accepted: false, message: "invalid: bad"), .eose(sub), .closed(sub, message: "error: x"),
            .notice("hello"), .auth(challenge: "challenge-1"), .count(sub, count: 42),
            .count(sub, count: 7, approximate: true, hll: "00ff"), .negMsg(sub, message: "6100"),
            .negErr(sub, reason: "blocked: too many records"),
        ]
        for message in messages {
            #expect(try RelayMessage.decode(message.encoded()) == message, "\(message)")
        }
    }

    @Test("an EVENT's object is kept as received and decodes to the event")
    func eventObjectKeptVerbatim() throws {
        let frame = Array(#"[ "EVENT" , "s" ,  "#.utf8) + event.json + Array(" ]".utf8)
        guard case .event(let id, let json) = try RelayMessage.decode(frame) else {
            Issue.record("not an EVENT")
            return
        }
        #expect(id == SubscriptionID("s"))
        #expect(json == event.json)
        #expect(try EventDecoder.decode(json: json) == event)
    }

    @Test("extra trailing elements are skipped: NEG-ERR may carry the record limit as a 4th element (NIP-77)")
    func lenientReading() throws {
        #expect(
            try RelayMessage.decode(Array(#"["NEG-ERR","n","blocked: too big",100000]"#.utf8))
                == .negErr(SubscriptionID("n"), reason: "blocked: too big"))
        #expect(try RelayMessage.decode(Array(#"["CLOSED","s"]"#.utf8)) == .closed(SubscriptionID("s"), message: ""))
        #expect(
            try RelayMessage.decode(Array(#"["OK","\#(event.id.hex)",true]"#.utf8))
                == .ok(event.id, accepted: true, message: ""))
        #expect(
            try RelayMessage.decode(Array(#"["COUNT","c",{"count":3,"extra":[1,2]}]"#.utf8))
                == .count(SubscriptionID("c"), count: 3))
    }

    @Test("malformed relay messages are refused with a WireError that names the problem")
    func refusals() {
        let cases: [(String, WireError.Code)] = [
            (#"{"EVENT":1}"#, .wrongType),
            (#"[]"#, .wrongArity),
            (#"["HELLO","x"]"#, .unknownMessage),
            (#"["OK","abc",true,""]"#, .badHex),
            (#"["OK","\#(event.id.hex)","yes",""]"#, .wrongType),
            (#"["EVENT","s",[1]]"#, .wrongType),
            (#"["EVENT","s",{"id":1"#, .truncated),
            (#"["EOSE"]"#, .wrongArity),
            (#"["COUNT","c",{"approximate":true}]"#, .missingField),
            (#"["NOTICE","hi"] x"#, .trailingData),
        ]
        for (text, code) in cases {
            #expect(throws: WireError.self, "\(text)") { try RelayMessage.decode(Array(text.utf8)) }
            do {
                _ = try RelayMessage.decode(Array(text.utf8))
            } catch {
                #expect(error.code == code, "\(text): \(error)")
                #expect(error.reason.hasPrefix("invalid:"))
            }
        }
    }
}
