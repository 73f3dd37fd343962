import Foundation
import NostrCore
import Testing

/// SplitMix64: a tiny seeded generator, so a failing input can be found again from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Bounded fuzzing of `ClientMessage.decode` (and, one input in eight, `RelayMessage.decode`):
/// random bytes and mutations of valid messages.
///
/// Runs for `MARTLET_FUZZ_SECONDS` (default 3; CI sets 20) from seed `MARTLET_FUZZ_SEED`.
@Suite("fuzzing the client message decoder")
struct FuzzTests {
    static var budget: Duration {
        let seconds = ProcessInfo.processInfo.environment["MARTLET_FUZZ_SECONDS"].flatMap(Double.init) ?? 3
        return .milliseconds(Int(seconds * 1000))
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MARTLET_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6d61_7274_6c65_74
    }

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

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64, corpus: [[UInt8]] = corpus) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0 where !bytes.isEmpty:  // bit flip
                bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1:  // truncation
                bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &rng)...)
            case 2:  // splice with another message
                let other = corpus.randomElement(using: &rng)!
                bytes = Array(bytes[..<position]) + other[Int.random(in: 0...other.count, using: &rng)...]
            case 3 where !bytes.isEmpty:  // duplicate a range
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 4 where !bytes.isEmpty:  // delete a range
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &rng)))
            case 5:  // insert a token
                bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: position)
            case 6 where !bytes.isEmpty:  // overwrite with a token
                let token = tokens.randomElement(using: &rng)!
                bytes.replaceSubrange(position..<min(bytes.count, position + token.count), with: token)
            default:  // random byte
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            }
        }
        return bytes
    }

    static func randomBytes(using rng: inout SplitMix64) -> [UInt8] {
        let count = Int.random(in: 0...96, using: &rng)
        if Bool.random(using: &rng) {
            return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        // JSON-ish noise reaches deeper into the reader than uniform bytes do.
        let alphabet = Array(#"[]{}",:\u0123456789abcdefEVNTREQCLOSAUH-.e+ tnrufl"#.utf8)
        return (0..<count).map { _ in alphabet.randomElement(using: &rng)! }
    }

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
        var rng = SplitMix64(state: Self.seed)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Self.budget)
        var inputs = 0
        var accepted = 0
        var failures = 0
        // The corpus itself must pass first.
        for message in Self.corpus {
            #expect((try? ClientMessage.decode(message)) != nil, "\(String(decoding: message, as: UTF8.self))")
        }
        for message in Self.relayCorpus {
            #expect((try? RelayMessage.decode(message)) != nil, "\(String(decoding: message, as: UTF8.self))")
        }
        // At least a few thousand inputs whatever the machine's load, so that the budget
        // bounds the run's length but never empties it.
        while (clock.now < deadline || inputs < 4_096) && failures < 5 {
            // Tests share the cooperative pool, one thread per core: a loop that never
            // suspends would hold one of this machine's two threads for the whole budget,
            // and the end-to-end tests beside it would starve (a relay's shutdown, waiting
            // for readers only a free thread can hand back, hung a CI run). A pause every
            // 4,096 inputs (milliseconds of work) frees it without queueing behind every
            // other test's job after each small batch.
            if inputs % 4_096 == 0 { await Task.yield() }
            for _ in 0..<64 {
                inputs += 1
                if inputs % 8 == 7 {
                    let relayInput = Self.mutate(
                        Self.relayCorpus.randomElement(using: &rng)!, using: &rng, corpus: Self.relayCorpus)
                    if let problem = Self.checkRelay(relayInput) {
                        failures += 1
                        Issue.record("seed \(Self.seed) input #\(inputs): \(problem)\ninput: \(String(decoding: relayInput, as: UTF8.self).debugDescription)")
                    }
                    continue
                }
                let input: [UInt8]
                if inputs % 4 == 0 {
                    input = Self.randomBytes(using: &rng)
                } else {
                    input = Self.mutate(Self.corpus.randomElement(using: &rng)!, using: &rng)
                }
                let (wasAccepted, problem) = Self.check(input)
                if wasAccepted { accepted += 1 }
                if let problem {
                    failures += 1
                    Issue.record(
                        "seed \(Self.seed) input #\(inputs): \(problem)\ninput: \(String(decoding: input, as: UTF8.self).debugDescription)"
                    )
                }
            }
        }
        print("fuzz: \(inputs) inputs, \(accepted) accepted, seed \(Self.seed), budget \(Self.budget)")
        #expect(inputs > 1000)
    }
}
