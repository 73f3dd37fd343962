import Crypto
import Foundation
@testable import MartletDHT
import MartletTestSupport
import Testing

/// Bounded fuzzing of the bencode and KRPC decoders and of a node's packet handling, as
/// NostrCoreTests' FuzzTests does for NIP-01: random bytes and mutations of valid packets.
///
/// Runs for `MARTLET_DHT_FUZZ_SECONDS` (default 3) from seed `MARTLET_FUZZ_SEED`. Not
/// `MARTLET_FUZZ_SECONDS`, which CI raises to 20 for the NIP-01 decoder: two 20-second
/// fuzzers at once hold both cooperative threads of a 2-core machine, and the end-to-end
/// suites beside them miss their time limits.
@Suite("fuzzing the KRPC decoder")
struct KRPCFuzzTests {
    static let run = FuzzRun(secondsVariable: "MARTLET_DHT_FUZZ_SECONDS", defaultSeed: 0x6b72_7063_6468_74)

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

    static let mutator = ByteMutator(
        // Bencode-ish noise reaches deeper into the reader than uniform bytes do.
        corpus: corpus, tokens: tokens, noiseAlphabet: Array("dleil0123456789:-:aqrtyevk".utf8))

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
        for packet in Self.corpus {
            #expect((try? KRPCMessage.decode(packet)) != nil, "\(String(decoding: packet, as: UTF8.self))")
        }
        let (inputs, accepted) = await Self.run.loop { rng, number in
            let input = Self.mutator.input(number: number, using: &rng)
            let (accepted, problem) = Self.check(input, core: core)
            return (input, accepted, problem)
        }
        print("krpc fuzz: \(inputs) inputs, \(accepted) accepted, seed \(Self.run.seed), budget \(Self.run.budget)")
        #expect(inputs > 1000)
        #expect(core.state.withLock { $0.storage.count } <= configuration.maxStoredItems)
    }
}
