import Crypto
import Foundation
@testable import MartletDHT
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

/// Bounded fuzzing of the bencode and KRPC decoders and of a node's packet handling, as
/// NostrCoreTests' FuzzTests does for NIP-01: random bytes and mutations of valid packets.
///
/// Runs for `MARTLET_DHT_FUZZ_SECONDS` (default 3) from seed `MARTLET_FUZZ_SEED`. Not
/// `MARTLET_FUZZ_SECONDS`, which CI raises to 20 for the NIP-01 decoder: two 20-second
/// fuzzers at once hold both cooperative threads of a 2-core machine, and the end-to-end
/// suites beside them miss their time limits.
@Suite("fuzzing the KRPC decoder")
struct KRPCFuzzTests {
    static var budget: Duration {
        let seconds = ProcessInfo.processInfo.environment["MARTLET_DHT_FUZZ_SECONDS"].flatMap(Double.init) ?? 3
        return .milliseconds(Int(seconds * 1000))
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MARTLET_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x6b72_7063_6468_74
    }

    /// Valid packets of every kind, to mutate.
    static let corpus: [[UInt8]] = {
        let a = NodeID(Array("abcdefghij0123456789".utf8))!
        let b = NodeID(Array("mnopqrstuvwxyz123456".utf8))!
        let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 3, count: 32))
        let item = try! MutableItem.signed(
            value: .list([.string("wss://relay.example"), .integer(-5), .dictionary(["k": .string("v")])]),
            sequence: 4, salt: Array("nostr:relay:1".utf8), key: key)
        let node = NodeInfo(id: b, address: IPv4Endpoint(host: "127.0.0.1", port: 6881)!)
        let bodies: [KRPCMessage.Body] = [
            .query(.ping(id: a)), .query(.findNode(id: a, target: b)), .query(.getPeers(id: a, infoHash: b)),
            .query(.announcePeer(id: a, infoHash: b, port: 1, token: [1, 2, 3], impliedPort: true)),
            .query(.get(id: a, target: item.target, sequence: 2)),
            .query(.put(id: a, token: [9, 9], item: .mutable(item), compareAndSwap: 3)),
            .query(.put(id: a, token: [9], item: .immutable(.string("Hello World!")), compareAndSwap: nil)),
            .response(KRPCResponse(id: b, nodes: [node, node], token: [1], peers: [node.address])),
            .response(KRPCResponse(id: b, nodes: [node], token: [4], value: item.value, publicKey: item.publicKey,
                signature: item.signature, sequence: item.sequence)),
            .error(code: 201, message: "A Generic Error Ocurred"),
        ]
        return bodies.map { KRPCMessage(transactionID: Array("aa".utf8), body: $0).encoded() }
    }()

    /// Bytes that steer mutations toward the decoder's interesting states.
    static let tokens: [[UInt8]] = [
        "d", "e", "l", "i", "i0e", "i-1e", "i-0e", "i01e", "0:", "1:", "20:", "26:", "64:", "99999999999:",
        "1:t", "1:y1:q", "1:y1:r", "1:y1:e", "1:q4:ping", "1:q3:get", "1:q3:put", "1:ad", "1:rd", "2:id20:",
        "5:nodes", "5:token", "1:v", "1:k32:", "3:sig64:", "3:seqi", "4:salt", "3:casi", "llllllllllllllllll",
    ].map { Array($0.utf8) } + [[0x00], [0xff], [0x3a], [0x80]]

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0 where !bytes.isEmpty:  // bit flip
                bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1:  // truncation
                bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &rng)...)
            case 2:  // splice with another packet
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
        // Bencode-ish noise reaches deeper into the reader than uniform bytes do.
        let alphabet = Array("dleil0123456789:-:aqrtyevk".utf8)
        return (0..<count).map { _ in alphabet.randomElement(using: &rng)! }
    }

    /// Checks one input against the decoders and a node's core; returns what went wrong, if anything.
    static func check(_ input: [UInt8], core: DHTCore) -> (accepted: Bool, problem: String?) {
        // Strictness means one encoding per value: whatever is accepted re-encodes to the input.
        if let value = try? KRPCMessage.decoder.decode(input), value.encoded() != input {
            return (false, "bencode accepted a non-canonical input")
        }
        var accepted = false
        if let message = try? KRPCMessage.decode(input) {
            accepted = true
            guard (try? KRPCMessage.decode(message.encoded())) == message else {
                return (true, "message does not survive its own encoding")
            }
        }
        if let reply = core.receive(input, from: IPv4Endpoint(host: "127.0.0.1", port: 9)!) {
            guard (try? KRPCMessage.decode(reply)) != nil else { return (accepted, "the node replied with a bad packet") }
        }
        return (accepted, nil)
    }

    @Test("random bytes and mutated packets never crash the decoders or the node; accepted input is canonical and re-encodes to itself")
    func fuzz() async {
        var configuration = DHTConfiguration(host: "127.0.0.1", port: 0)
        configuration.packetsPerSecondPerIP = 1_000_000_000
        configuration.packetBurstPerIP = 1_000_000_000
        let core = DHTCore(ownID: .random(), configuration: configuration)
        var rng = SplitMix64(state: Self.seed)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Self.budget)
        var inputs = 0
        var accepted = 0
        var failures = 0
        for packet in Self.corpus {
            #expect((try? KRPCMessage.decode(packet)) != nil, "\(String(decoding: packet, as: UTF8.self))")
        }
        while (clock.now < deadline || inputs < 4_096) && failures < 5 {
            // Yield the cooperative thread between batches: this machine has two, shared with
            // the end-to-end suites (see NostrCoreTests' FuzzTests).
            if inputs % 4_096 == 0 { await Task.yield() }
            for _ in 0..<64 {
                inputs += 1
                let input = inputs % 4 == 0
                    ? Self.randomBytes(using: &rng) : Self.mutate(Self.corpus.randomElement(using: &rng)!, using: &rng)
                let (wasAccepted, problem) = Self.check(input, core: core)
                if wasAccepted { accepted += 1 }
                if let problem {
                    failures += 1
                    Issue.record("seed \(Self.seed) input #\(inputs): \(problem)\ninput: \(String(decoding: input, as: UTF8.self).debugDescription)")
                }
            }
        }
        print("krpc fuzz: \(inputs) inputs, \(accepted) accepted, seed \(Self.seed), budget \(Self.budget)")
        #expect(inputs > 1000)
        #expect(core.state.withLock { $0.storage.count } <= configuration.maxStoredItems)
    }
}
