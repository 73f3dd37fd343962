import NostrCore
import Testing

/// JSON that is not the shape NIP-01 gives a message is refused with a `WireError` that
/// names the field, under the `invalid:` prefix.
@Suite("messages of the wrong shape are refused with invalid:")
struct MessageShapeTests {
    let event = EventMembers()
    let pubkey = Fixture.plain.pubkey

    // MARK: Arity

    @Test("each message type with the wrong number of elements is refused as wrong-arity", arguments: [
        ("[]", "invalid: empty message array"),
        (#"["EVENT"]"#, "invalid: EVENT message has too few elements"),
        (#"["AUTH"]"#, "invalid: AUTH message has too few elements"),
        (#"["REQ"]"#, "invalid: REQ message has too few elements"),
        (#"["REQ","s"]"#, "invalid: REQ needs at least one filter"),
        (#"["COUNT"]"#, "invalid: COUNT message has too few elements"),
        (#"["COUNT","q"]"#, "invalid: COUNT needs at least one filter"),
        (#"["CLOSE"]"#, "invalid: CLOSE message has too few elements"),
        (#"["CLOSE","s","t"]"#, "invalid: CLOSE message must have 2 elements"),
        (#"["CLOSE","s",{}]"#, "invalid: CLOSE message must have 2 elements"),
        (#"["NEG-OPEN"]"#, "invalid: NEG-OPEN message has too few elements"),
        (#"["NEG-OPEN","n"]"#, "invalid: NEG-OPEN message has too few elements"),
        (#"["NEG-OPEN","n",{}]"#, "invalid: NEG-OPEN message has too few elements"),
        (#"["NEG-OPEN","n",{},"61",{}]"#, "invalid: NEG-OPEN message must have 4 elements"),
        (#"["NEG-MSG","n"]"#, "invalid: NEG-MSG message has too few elements"),
        (#"["NEG-MSG","n","61","62"]"#, "invalid: NEG-MSG message must have 3 elements"),
        (#"["NEG-CLOSE"]"#, "invalid: NEG-CLOSE message has too few elements"),
        (#"["NEG-CLOSE","n","x"]"#, "invalid: NEG-CLOSE message must have 2 elements"),
    ])
    func arity(_ input: String, _ reason: String) {
        expectRefused(input, .wrongArity, reason)
    }

    @Test("EVENT and AUTH carry exactly one event")
    func eventArity() {
        expectRefused(
            #"["EVENT","# + event.object + "," + event.object + "]", .wrongArity,
            "invalid: EVENT message must have 2 elements")
        expectRefused(#"["AUTH","# + event.object + ",1]", .wrongArity, "invalid: AUTH message must have 2 elements")
    }

    // MARK: Types

    @Test("a field of the wrong JSON type is refused as wrong-type, naming the field")
    func wrongTypes() {
        let cases: [(String, String)] = [
            (#"[1]"#, #"invalid: "message type" must be a string"#),
            (#"[["EVENT"]]"#, #"invalid: "message type" must be a string"#),
            (#"["EVENT",[]]"#, #"invalid: "event" must be an object"#),
            (#"["EVENT","{}"]"#, #"invalid: "event" must be an object"#),
            (event.replacing("kind", with: #""1""#).eventMessage, #"invalid: "kind" must be an integer"#),
            (event.replacing("kind", with: "true").eventMessage, #"invalid: "kind" must be an integer"#),
            (event.replacing("created_at", with: "null").eventMessage, #"invalid: "created_at" must be an integer"#),
            (event.replacing("tags", with: "{}").eventMessage, #"invalid: "tags" must be an array"#),
            (event.replacing("tags", with: #"["e"]"#).eventMessage, #"invalid: "tags[0]" must be an array"#),
            (event.replacing("tags", with: #"[["e","x"],["p",1]]"#).eventMessage,
             #"invalid: "tags[1][1]" must be a string"#),
            (event.replacing("tags", with: #"[["e",null]]"#).eventMessage, #"invalid: "tags[0][1]" must be a string"#),
            (event.replacing("tags", with: #"[[["e"]]]"#).eventMessage, #"invalid: "tags[0][0]" must be a string"#),
            (event.replacing("content", with: "1").eventMessage, #"invalid: "content" must be a string"#),
            (event.replacing("content", with: "null").eventMessage, #"invalid: "content" must be a string"#),
            (event.replacing("id", with: "1").eventMessage,
             #"invalid: "id" must be a 64-character lowercase hex string"#),
            (event.replacing("pubkey", with: "null").eventMessage,
             #"invalid: "pubkey" must be a 64-character lowercase hex string"#),
            (event.replacing("sig", with: "[]").eventMessage, #"invalid: "sig" must be a string"#),
            (#"["CLOSE",1]"#, #"invalid: "subscription id" must be a string"#),
            (#"["REQ",null,{}]"#, #"invalid: "subscription id" must be a string"#),
            (#"["REQ","s",[]]"#, #"invalid: "filter" must be an object"#),
            (#"["REQ","s",{},"{}"]"#, #"invalid: "filter" must be an object"#),
            (#"["COUNT","q",1]"#, #"invalid: "filter" must be an object"#),
            (#"["REQ","s",{"ids":"x"}]"#, #"invalid: "ids" must be an array"#),
            (#"["REQ","s",{"authors":{}}]"#, #"invalid: "authors" must be an array"#),
            (#"["REQ","s",{"ids":[1]}]"#, #"invalid: "ids" must be a 64-character lowercase hex string"#),
            (#"["REQ","s",{"kinds":1}]"#, #"invalid: "kinds" must be an array"#),
            (#"["REQ","s",{"kinds":["1"]}]"#, #"invalid: "kinds" must be an integer"#),
            (##"["REQ","s",{"#t":"x"}]"##, ##"invalid: "#t" must be an array"##),
            (##"["REQ","s",{"#t":[1]}]"##, ##"invalid: "#t" must be a string"##),
            (##"["REQ","s",{"#e":[null]}]"##, ##"invalid: "#e" must be a 64-character lowercase hex string"##),
            (#"["REQ","s",{"since":"1"}]"#, #"invalid: "since" must be an integer"#),
            (#"["REQ","s",{"until":[]}]"#, #"invalid: "until" must be an integer"#),
            (#"["REQ","s",{"limit":true}]"#, #"invalid: "limit" must be an integer"#),
            (#"["REQ","s",{"search":1}]"#, #"invalid: "search" must be a string"#),
            (#"["NEG-OPEN","n","{}","61"]"#, #"invalid: "filter" must be an object"#),
            (#"["NEG-OPEN","n",{},61]"#, #"invalid: "negentropy message" must be a string"#),
            (#"["NEG-MSG","n",null]"#, #"invalid: "negentropy message" must be a string"#),
        ]
        for (input, reason) in cases { expectRefused(input, .wrongType, reason) }
    }

    // MARK: Hex

    @Test("ids, pubkeys and signatures of the wrong length are refused as bad-hex")
    func hexLength() {
        let id = Fixture.plain.id
        let sig = Fixture.plain.sig
        let cases: [(String, String)] = [
            (event.replacing("id", with: "\"\(id.dropLast())\"").eventMessage,
             #"invalid: "id" must be 64 lowercase hex characters"#),
            (event.replacing("id", with: "\"\(id)0\"").eventMessage,
             #"invalid: "id" must be 64 lowercase hex characters"#),
            (event.replacing("id", with: #""""#).eventMessage, #"invalid: "id" must be 64 lowercase hex characters"#),
            (event.replacing("id", with: "\"\(id.dropLast())g\"").eventMessage,
             #"invalid: "id" must be 64 lowercase hex characters"#),
            (event.replacing("pubkey", with: "\"\(pubkey.dropFirst(2))\"").eventMessage,
             #"invalid: "pubkey" must be 64 lowercase hex characters"#),
            (event.replacing("pubkey", with: "\"0x\(pubkey.dropFirst(2))\"").eventMessage,
             #"invalid: "pubkey" must be 64 lowercase hex characters"#),
            (event.replacing("pubkey", with: "\" \(pubkey.dropFirst())\"").eventMessage,
             #"invalid: "pubkey" must be 64 lowercase hex characters"#),
            (event.replacing("sig", with: "\"\(sig.dropLast())\"").eventMessage,
             #"invalid: "sig" must be 128 lowercase hex characters"#),
            (event.replacing("sig", with: "\"\(sig)0\"").eventMessage,
             #"invalid: "sig" must be 128 lowercase hex characters"#),
            (event.replacing("sig", with: "\"\(sig.dropLast())z\"").eventMessage,
             #"invalid: "sig" must be 128 lowercase hex characters"#),
            (#"["REQ","s",{"ids":["abcd"]}]"#, #"invalid: "ids" must be 64 lowercase hex characters"#),
            (#"["REQ","s",{"authors":["\#(pubkey)0"]}]"#, #"invalid: "authors" must be 64 lowercase hex characters"#),
            (##"["REQ","s",{"#e":["\##(id.dropLast())"]}]"##, ##"invalid: "#e" must be 64 lowercase hex characters"##),
            (##"["REQ","s",{"#p":["npub1xyz"]}]"##, ##"invalid: "#p" must be 64 lowercase hex characters"##),
            (#"["NEG-MSG","n","616"]"#, "invalid: negentropy message must be lowercase hex"),
            (#"["NEG-MSG","n","zz"]"#, "invalid: negentropy message must be lowercase hex"),
            (#"["NEG-OPEN","n",{},"6x"]"#, "invalid: negentropy message must be lowercase hex"),
        ]
        for (input, reason) in cases { expectRefused(input, .badHex, reason) }
    }

    @Test("hex in upper case is refused: NIP-01 says lowercase hex")
    func hexUpperCase() {
        let id = Fixture.plain.id
        let sig = Fixture.plain.sig
        let cases: [(String, String)] = [
            (event.replacing("id", with: "\"\(id.uppercased())\"").eventMessage, #"invalid: "id" must be lowercase hex"#),
            (event.replacing("pubkey", with: "\"\(pubkey.uppercased())\"").eventMessage,
             #"invalid: "pubkey" must be lowercase hex"#),
            (event.replacing("sig", with: "\"\(sig.uppercased())\"").eventMessage,
             #"invalid: "sig" must be lowercase hex"#),
            (#"["REQ","s",{"ids":["\#(id.uppercased())"]}]"#, #"invalid: "ids" must be lowercase hex"#),
            (#"["REQ","s",{"authors":["\#(pubkey.uppercased())"]}]"#, #"invalid: "authors" must be lowercase hex"#),
            (##"["REQ","s",{"#e":["\##(id.uppercased())"]}]"##, ##"invalid: "#e" must be lowercase hex"##),
            (##"["REQ","s",{"#p":["\##(pubkey.uppercased())"]}]"##, ##"invalid: "#p" must be lowercase hex"##),
            (#"["NEG-MSG","n","6A"]"#, "invalid: negentropy message must be lowercase hex"),
        ]
        for (input, reason) in cases { expectRefused(input, .badHex, reason) }
        #expect(EventID(hex: id.uppercased()) == nil)
        #expect(PublicKey(hex: pubkey.uppercased()) == nil)
        #expect(Signature(hex: sig.uppercased()) == nil)
        #expect(Hex.decode("AB") == nil)
    }

    // MARK: Numbers

    @Test("numbers out of range are refused as out-of-range")
    func outOfRange() {
        let kind = #"invalid: "kind" must be an integer between 0 and 65535"#
        let createdAt = #"invalid: "created_at" must be an integer between 0 and 9007199254740991"#
        let cases: [(String, String)] = [
            (event.replacing("kind", with: "65536").eventMessage, kind),
            (event.replacing("kind", with: "-1").eventMessage, kind),
            (event.replacing("kind", with: "18446744073709551617").eventMessage, kind),
            (event.replacing("created_at", with: "-1").eventMessage, createdAt),
            (event.replacing("created_at", with: "9007199254740992").eventMessage, createdAt),
            (event.replacing("created_at", with: "9223372036854775808").eventMessage, createdAt),
            (event.replacing("created_at", with: "-9223372036854775809").eventMessage, createdAt),
            (event.replacing("created_at", with: "99999999999999999999999999").eventMessage, createdAt),
            (#"["REQ","s",{"kinds":[1,65536]}]"#, #"invalid: "kinds" must be an integer between 0 and 65535"#),
            (#"["REQ","s",{"limit":-1}]"#, #"invalid: "limit" must be an integer between 0 and 2147483647"#),
            (#"["REQ","s",{"limit":2147483648}]"#, #"invalid: "limit" must be an integer between 0 and 2147483647"#),
            (#"["REQ","s",{"since":-5}]"#, #"invalid: "since" must be an integer between 0 and 9007199254740991"#),
            (#"["REQ","s",{"until":9007199254740992}]"#,
             #"invalid: "until" must be an integer between 0 and 9007199254740991"#),
        ]
        for (input, reason) in cases { expectRefused(input, .outOfRange, reason) }
    }

    @Test("the bounds themselves are accepted: kind 0 and 65535, created_at 0 and 2^53-1, limit 2^31-1")
    func inRangeBounds() throws {
        for (key, value) in [("kind", "0"), ("kind", "65535"), ("created_at", "0"), ("created_at", "9007199254740991")] {
            _ = try decode(event.replacing(key, with: value).eventMessage)
        }
        let message = try decode(#"["REQ","s",{"limit":2147483647,"kinds":[0,65535],"since":0,"until":9007199254740991}]"#)
        #expect(message == .req(SubscriptionID("s"), [Filter(kinds: [0, 65535], since: 0, until: 9_007_199_254_740_991, limit: 2_147_483_647)]))
    }

    @Test("fractions and exponents where integers are due are refused as not-integer", arguments: [
        ("kind", "1.0"), ("kind", "1.5"), ("kind", "1e3"), ("kind", "1E3"), ("kind", "1e+3"), ("kind", "0.0"),
        ("created_at", "1.7e9"), ("created_at", "1700000000.0"), ("created_at", "17E8"),
    ])
    func notInteger(_ key: String, _ value: String) {
        expectRefused(event.replacing(key, with: value).eventMessage, .notInteger, #"invalid: "\#(key)" must be an integer"#)
    }

    @Test("fractions and exponents in filter integers are refused as not-integer", arguments: [
        (#"{"limit":10.0}"#, "limit"), (#"{"kinds":[1.0]}"#, "kinds"), (#"{"since":1e9}"#, "since"),
        (#"{"until":1.5}"#, "until"),
    ])
    func filterNotInteger(_ filter: String, _ key: String) {
        expectRefused(#"["REQ","s",\#(filter)]"#, .notInteger, #"invalid: "\#(key)" must be an integer"#)
    }

    @Test("integers that are not JSON numbers are refused as not-json")
    func malformedIntegers() {
        expectRefused(event.replacing("kind", with: "01").eventMessage, .notJSON,
                      #"invalid: number with a leading zero for "kind""#)
        expectRefused(event.replacing("kind", with: "-").eventMessage, .notJSON, #"invalid: malformed number for "kind""#)
        expectRefused(event.replacing("kind", with: "+1").eventMessage, .notJSON, "invalid: not valid JSON")
        expectRefused(event.replacing("kind", with: "0x10").eventMessage, .notJSON,
                      "invalid: expected ',' or '}' in an object")
    }

    // MARK: Message types

    @Test("an unknown message type is refused as unknown-message", arguments: [
        (#"["HELLO","x"]"#, #"invalid: unknown message type "HELLO""#),
        (#"["event",{}]"#, #"invalid: unknown message type "event""#),
        (#"["Req","s",{}]"#, #"invalid: unknown message type "Req""#),
        (#"[""]"#, #"invalid: unknown message type """#),
        (#"["OK","x",true,""]"#, #"invalid: unknown message type "OK""#),
        (#"["EOSE","s"]"#, #"invalid: unknown message type "EOSE""#),
        (#"["EVENT "]"#, #"invalid: unknown message type "EVENT ""#),
        ("[\"\(String(repeating: "X", count: 100))\"]",
         "invalid: unknown message type \"\(String(repeating: "X", count: 32))\""),
    ])
    func unknownType(_ input: String, _ reason: String) {
        expectRefused(input, .unknownMessage, reason)
    }

    // MARK: Fields

    @Test("an event with a field twice is refused as duplicate-field",
          arguments: ["id", "pubkey", "created_at", "kind", "tags", "content", "sig"])
    func duplicateEventField(_ key: String) {
        let value = event.members.first { $0.key == key }!.value
        expectRefused(event.adding(key, value).eventMessage, .duplicateField, #"invalid: event has "\#(key)" twice"#)
    }

    @Test("a filter with a field twice is refused as duplicate-field", arguments: [
        (#"{"kinds":[1],"kinds":[1]}"#, "kinds"), (##"{"#t":["a"],"limit":1,"#t":["b"]}"##, "#t"),
        (#"{"since":1,"since":1}"#, "since"), (#"{"ids":[],"ids":[]}"#, "ids"),
    ])
    func duplicateFilterField(_ filter: String, _ key: String) {
        expectRefused(#"["REQ","s",\#(filter)]"#, .duplicateField, #"invalid: filter has "\#(key)" twice"#)
    }

    @Test("an event without a field is refused as missing-field",
          arguments: ["id", "pubkey", "created_at", "kind", "tags", "content", "sig"])
    func missingEventField(_ key: String) {
        expectRefused(event.removing(key).eventMessage, .missingField, #"invalid: event has no "\#(key)""#)
        expectRefused(#"["AUTH","# + event.removing(key).object + "]", .missingField, #"invalid: event has no "\#(key)""#)
    }

    @Test("a tag must hold at least one string")
    func emptyTag() {
        expectRefused(event.replacing("tags", with: "[[]]").eventMessage, .invalidValue,
                      "invalid: a tag must hold at least one string")
        expectRefused(event.replacing("tags", with: #"[["e"],[]]"#).eventMessage, .invalidValue,
                      "invalid: a tag must hold at least one string")
    }

    // MARK: Subscription ids

    @Test("<subscription_id> is an arbitrary, non-empty string of max length 64 chars", arguments: [
        #"["REQ",%,{}]"#, #"["COUNT",%,{}]"#, #"["CLOSE",%]"#, #"["NEG-OPEN",%,{},""]"#, #"["NEG-MSG",%,""]"#,
        #"["NEG-CLOSE",%]"#,
    ])
    func subscriptionIDLength(_ template: String) throws {
        let reason = "invalid: subscription id must be 1 to 64 characters"
        func message(_ id: String) -> String { template.replacingOccurrences(of: "%", with: "\"\(id)\"") }
        expectRefused(message(""), .invalidValue, reason)
        expectRefused(message(String(repeating: "a", count: 65)), .invalidValue, reason)
        expectRefused(message(String(repeating: "🦩", count: 65)), .invalidValue, reason)
        for valid in ["a", String(repeating: "a", count: 64), String(repeating: "🦩", count: 64), #"\n\u0000 \""#] {
            #expect(try decode(message(valid)).subscriptionID != nil)
        }
    }
}
