import Benchmark
import CSecp256k1
import MartletAxon
import NostrCore

/// The stages of one EVENT on its way through NostrCore, each measured alone on one core:
/// decode, canonical hash, signature verification (through the Swift wrapper and straight
/// into libsecp256k1, to show the wrapper costs nothing), filter matching, frame encoding.
let benchmarks: @Sendable () -> Void = {
    // Stages of a microsecond or more are timed one call at a time: a sample that short is
    // rarely cut by the scheduler, so the median stays honest on a busy two-core machine.
    let single = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(4),
        maxIterations: 2_000_000)
    // Stages of ~100 ns run 1000 times per sample, so the clock's own cost (~20 ns) vanishes;
    // the figures are still per operation.
    let batched = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(3),
        maxIterations: 100_000)

    let sample = Sample.shared

    Benchmark("decode: EVENT message, \(sample.message.count) bytes", configuration: single) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! ClientMessage.decode(sample.message))
        }
    }

    // The same event as an axon Publish frame (docs/axon.md): decode cost per event of the
    // two wires side by side.
    let axonFrame = AxonClientMessage.publish(sample.event).encoded()
    Benchmark("decode: axon Publish frame, \(axonFrame.count) bytes", configuration: single) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! AxonClientMessage.decode(axonFrame))
        }
    }

    Benchmark("hash: Event.computeID, NIP-01 serialization + SHA-256", configuration: single) { benchmark in
        let event = sample.event
        for _ in benchmark.scaledIterations {
            blackHole(
                Event.computeID(
                    pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
                    content: event.content))
        }
    }

    Benchmark("verify: Schnorr.verify, Swift wrapper, cached XOnlyKey", configuration: single) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Schnorr.verify(sample.event.sig, digest: sample.event.id.raw, key: sample.key))
        }
    }

    Benchmark("verify: secp256k1_schnorrsig_verify, direct C call", configuration: single) { benchmark in
        let c = CVerifyInputs.shared
        for _ in benchmark.scaledIterations {
            blackHole(
                secp256k1_schnorrsig_verify(martlet_secp256k1_static_context(), c.signature, c.message, 32, c.key))
        }
    }

    Benchmark("verify: Event.validate(), id + key lift + verify", configuration: single) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! sample.event.validate())
        }
    }

    Benchmark("key lift: XOnlyKey(pubkey), secp256k1_xonly_pubkey_parse", configuration: single) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(XOnlyKey(sample.event.pubkey))
        }
    }

    Benchmark("match: Filter.matches hit, kinds + authors + #t", configuration: batched) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sample.hit.matches(sample.event))
        }
    }

    Benchmark("match: Filter.matches miss on #t", configuration: batched) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sample.miss.matches(sample.event))
        }
    }

    Benchmark("encode: relay EVENT frame", configuration: batched) { benchmark in
        let subscription = SubscriptionID("timeline-1")
        for _ in benchmark.scaledIterations {
            blackHole(RelayMessage.event(subscription, eventJSON: sample.event.json).encoded())
        }
    }
}

/// A typical kind-1 note: a reply with e, p and t tags and a tweet-sized content.
struct Sample: Sendable {
    static let shared = Sample()

    let event: Event
    let message: [UInt8]
    let key: XOnlyKey
    let hit: Filter
    let miss: Filter

    init() {
        let secret = SecretKey(hex: "b5de343c5a7024c93d7e40f56e5f739b1d27bb90ccf4fe6922e78ebdcb1dfae4")!
        event = Event.signed(
            by: secret, kind: 1, createdAt: 1_700_000_000,
            tags: [
                ["e", "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36", "wss://nostr.example.com", "root"],
                ["p", "f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca"],
                ["t", "nostr"], ["t", "swift"],
            ],
            content: "Benchmarks read best next to the NIP: every stage of an EVENT measured alone, "
                + "so the one that dominates is plain to see. 🤙 #nostr #swift")
        message = Array(#"["EVENT","#.utf8) + event.json + Array("]".utf8)
        key = XOnlyKey(event.pubkey)!
        hit = Filter(authors: [event.pubkey], kinds: [1, 6, 7], tags: [UInt8(ascii: "t"): ["nostr", "bitcoin"]])
        miss = Filter(authors: [event.pubkey], kinds: [1, 6, 7], tags: [UInt8(ascii: "t"): ["rust", "bitcoin"]])
        precondition((try? event.validate()) != nil && hit.matches(event) && !miss.matches(event))
    }
}

/// The same signature, digest and parsed key as `Sample`, held in C memory for the direct call.
struct CVerifyInputs: @unchecked Sendable {
    // @unchecked: written once here, only read afterwards.
    static let shared = CVerifyInputs(Sample.shared.event)

    let signature: UnsafeMutablePointer<UInt8>
    let message: UnsafeMutablePointer<UInt8>
    let key: UnsafeMutablePointer<secp256k1_xonly_pubkey>

    init(_ event: Event) {
        signature = .allocate(capacity: 64)
        signature.initialize(from: event.sig.bytes, count: 64)
        message = .allocate(capacity: 32)
        message.initialize(from: event.id.raw.bytes, count: 32)
        key = .allocate(capacity: 1)
        key.initialize(to: secp256k1_xonly_pubkey())
        let parsed = event.pubkey.raw.bytes.withUnsafeBufferPointer {
            secp256k1_xonly_pubkey_parse(martlet_secp256k1_static_context(), key, $0.baseAddress!)
        }
        precondition(parsed == 1)
        precondition(secp256k1_schnorrsig_verify(martlet_secp256k1_static_context(), signature, message, 32, key) == 1)
    }
}
