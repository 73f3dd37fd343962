import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// Bounded fuzzing of `ClientMessage.decode` (and, one input in eight, `RelayMessage.decode`):
/// random bytes and mutations of valid messages.
///
/// Runs for `MARTLET_FUZZ_SECONDS` (default 3; CI sets 20) from seed `MARTLET_FUZZ_SEED`.
@Suite("fuzzing the client message decoder")
struct FuzzTests {
    static let run = FuzzRun(secondsVariable: "MARTLET_FUZZ_SECONDS", defaultSeed: 0x6d61_7274_6c65_74)

    /// Valid messages of every type, to mutate.
    static let corpus: [[UInt8]] = {
        let vectors = Fixture.vectors.filter { $0.json.utf8.count < 2000 }
        let pubkey = Fixture.plain.pubkey
        let id = Fixture.plain.id
        var messages = vectors.map(\.eventMessage)
        messages += vectors.prefix(8).map { #"["EVENT","#.bytes + $0.jsonASCII.bytes + "]".bytes }
        messages.append(#"["AUTH","#.bytes + Fixture.vector("kind 22242 auth").jsonBytes + "]".bytes)
        messages += [
            ##"["REQ","sub1",{"kinds":[1,7],"limit":20,"since":1,"until":9007199254740991},{"authors":["\##(pubkey)"],"#t":["nostr","\u00e9\ud83d\ude00"]}]"##,
            ##"["REQ","s",{"ids":["\##(id)"],"#e":["\##(id)"],"#p":["\##(pubkey)"],"search":"hello world"}]"##,
            ##"["COUNT","q",{"kinds":[3],"#p":["\##(pubkey)"]},{}]"##,
            #"["CLOSE","sub1"]"#,
            #"["NEG-OPEN","neg",{"kinds":[1]},"6100000200"]"#,
            #"["NEG-MSG","neg","61abcdef"]"#,
            #"["NEG-CLOSE","neg"]"#,
            #"["REQ","x",{"unknown":{"a":[1,-2.5e+3,true,false,null,"s"]}}]"#,
        ].map(\.bytes)
        return messages
    }()

    /// Relay messages, for the client-side decoder (`martlet sync`, mesh peers).
    static let relayCorpus: [[UInt8]] = {
        let event = try! EventDecoder.decode(json: Fixture.vector("every NIP-01 escape together").jsonBytes)
        let messages: [RelayMessage] = [
            .event(SubscriptionID("sub1"), eventJSON: event.json),
            .ok(event.id, accepted: false, message: "invalid: bad \"sig\""),
            .eose(SubscriptionID("sub1")),
            .closed(SubscriptionID("sub1"), message: "error: shutting down"),
            .notice("hello\nworld"),
            .auth(challenge: "c4a1"),
            .count(SubscriptionID("q"), count: 93_412_452, approximate: true, hll: "0607"),
            .negMsg(SubscriptionID("neg"), message: "6100000200"),
            .negErr(SubscriptionID("neg"), reason: "closed: timeout"),
        ]
        return messages.map { $0.encoded() }
    }()

    /// Checks one input to `RelayMessage.decode`, as `check` does for client messages.
    static func checkRelay(_ input: [UInt8]) -> String? {
        let message: RelayMessage
        do {
            message = try RelayMessage.decode(input)
        } catch {
            return error.reason.hasPrefix("invalid: ") ? nil : "rejection without an invalid: reason: \(error)"
        }
        guard (try? RelayMessage.decode(message.encoded())) == message else {
            return "relay message does not survive its own encoding: \(String(decoding: message.encoded(), as: UTF8.self))"
        }
        return nil
    }

    /// Bytes that steer mutations toward the reader's interesting states.
    static let tokens: [[UInt8]] = [
        "\"", "\\", "[", "]", "{", "}", ",", ":", "0", "-", "1.5", "e9", "\\u", "\\ud83d", "\\ude00", "\\u0000",
        "null", "true", "[[[[[[[[[[[[[", "\"kind\":", "\"id\":", "\"tags\":[[", "\u{0}", "\u{1F}", "é", "😀",
    ].map { Array($0.utf8) } + [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]

    /// JSON-ish noise reaches deeper into the reader than uniform bytes do.
    static let noiseAlphabet = Array(#"[]{}",:\u0123456789abcdefEVNTREQCLOSAUH-.e+ tnrufl"#.utf8)
    static let clientMutator = ByteMutator(corpus: corpus, tokens: tokens, noiseAlphabet: noiseAlphabet)
    static let relayMutator = ByteMutator(corpus: relayCorpus, tokens: tokens, noiseAlphabet: noiseAlphabet)

    /// Checks one input: whether it was accepted, and what went wrong if anything did.
    static func check(_ input: [UInt8]) -> (accepted: Bool, problem: String?) {
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(input, maxLength: 4096)
        } catch {
            guard error.reason.hasPrefix("invalid: "), error.reason.count > "invalid: ".count else {
                return (false, "rejection without an invalid: reason: \(error)")
            }
            return (false, nil)
        }
        return (true, checkAccepted(message))
    }

    static func checkAccepted(_ message: ClientMessage) -> String? {
        guard (try? ClientMessage.decode(message.encoded())) == message else {
            return "message does not survive its own encoding: \(String(decoding: message.encoded(), as: UTF8.self))"
        }
        switch message {
        case .event(let event), .auth(let event):
            let again: Event
            do { again = try EventDecoder.decode(json: event.json) } catch { return "re-encoded event refused: \(error)" }
            guard again == event, again.id == event.id, again.pubkey == event.pubkey, again.sig == event.sig,
                again.createdAt == event.createdAt, again.kind == event.kind,
                again.content.utf8.elementsEqual(event.content.utf8),
                again.tags.count == event.tags.count,
                zip(again.tags, event.tags).allSatisfy({ pair in
                    pair.0.fields.count == pair.1.fields.count
                        && zip(pair.0.fields, pair.1.fields).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
                })
            else { return "re-encoded event differs: \(event.jsonString) vs \(again.jsonString)" }
            let frame = #"["EVENT","#.bytes + event.json + "]".bytes
            guard (try? ClientMessage.decode(frame)) == .event(event) else { return "re-framed event differs" }
        case .req(_, let filters), .count(_, let filters):
            for filter in filters where (try? Filter.decode(json: filter.json)) != filter {
                return "filter does not survive its JSON: \(String(decoding: filter.json, as: UTF8.self))"
            }
        case .negOpen(_, let filter, _):
            if (try? Filter.decode(json: filter.json)) != filter { return "NEG-OPEN filter does not survive its JSON" }
        case .close, .negMsg, .negClose:
            break
        }
        return nil
    }

    @Test("random bytes and mutated messages never crash the decoder; every rejection is invalid:, every accepted EVENT re-encodes to the same event")
    func fuzz() async {
        // The corpus itself must pass first.
        for message in Self.corpus {
            #expect((try? ClientMessage.decode(message)) != nil, "\(String(decoding: message, as: UTF8.self))")
        }
        for message in Self.relayCorpus {
            #expect((try? RelayMessage.decode(message)) != nil, "\(String(decoding: message, as: UTF8.self))")
        }
        let (inputs, accepted) = await Self.run.loop { rng, number in
            if number % 8 == 7 {
                let input = Self.relayMutator.mutation(using: &rng)
                return (input, false, Self.checkRelay(input))
            }
            let input = Self.clientMutator.input(number: number, using: &rng)
            let (accepted, problem) = Self.check(input)
            return (input, accepted, problem)
        }
        print("fuzz: \(inputs) inputs, \(accepted) accepted, seed \(Self.run.seed), budget \(Self.run.budget)")
        #expect(inputs > 1000)
    }
}
