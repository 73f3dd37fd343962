import MartletAxon
import MartletTestSupport
import NostrCore
import Testing

/// Bounded fuzzing of the axon decoders, as `FuzzTests` does the JSON one: mutations of
/// valid frames and noise. Every input is either a message that survives its own encoding
/// or a decoding error; nothing crashes, hangs or allocates what the input only claims.
///
/// Runs for `MARTLET_FUZZ_SECONDS` (default 3) from seed `MARTLET_FUZZ_SEED`.
@Suite("fuzzing the axon decoder")
struct AxonFuzzTests {
    static let run = FuzzRun(secondsVariable: "MARTLET_FUZZ_SECONDS", defaultSeed: 0x6178_6f6e)

    static let corpus: [[UInt8]] = {
        let author = Author()
        var filter = Filter(kinds: [1, 3000], since: 1, until: 9_999_999_999, limit: 20)
        filter.tags[UInt8(ascii: "e")] = ["x", "é"]
        let event = author.event(kind: 5000, content: "job 😀", tags: [["expires_at", "1"], ["p", author.pubkey.hex]])
        let key = try! AxonAuthentication.publicKey(of: [UInt8](repeating: 1, count: 32))
        let client: [AxonClientMessage] = [
            .auth(key, signature: [UInt8](repeating: 2, count: 64)),
            .publish(event),
            .publish(author.event(kind: 3000, content: "")),
            .subscribe("sub", [AxonFilter(filter: filter), AxonFilter(filter: Filter(authors: [author.pubkey]), idPrefixes: [[1, 2]])]),
            .unsubscribe("sub"),
        ]
        let relay: [AxonRelayMessage] = [
            .challenge(nonce: [UInt8](repeating: 0, count: 32)), .ok(event.id), .error(.tooLarge, "big", id: event.id),
            .event(sub: "s", encodedEvent: AxonEventCoding.encode(event)), .endOfStored(sub: "s"),
        ]
        return client.map { $0.encoded() } + relay.map { $0.encoded() }
    }()

    /// Markers of every MessagePack family and the field names, so mutations change types.
    static let tokens: [[UInt8]] =
        [[0xc0], [0xc1], [0xc4, 0x20], [0xcd, 0x01, 0x02], [0xdc, 0xff, 0xff], [0xdd, 0x7f, 0xff, 0xff, 0xff],
         [0xdf, 0, 0, 0, 9], [0x91, 0x91, 0x91, 0x91], [0xa2, 0xff, 0xfe], [0xd4, 0, 0], [0xcb], [0x90], [0x80]]
        + ["id", "sig", "kind", "tags", "event", "sub", "filters", "#e", "ids"].map { [0xa0 | UInt8($0.utf8.count)] + Array($0.utf8) }

    static let mutator = ByteMutator(corpus: corpus, tokens: tokens, noiseAlphabet: Array(0x80...0xdf) + Array(0...0x10))

    @Test("random and mutated frames decode or fail with a reason, and decoded ones re-encode to themselves")
    func fuzz() async {
        let summary = await Self.run.loop { rng, number in
            let input = Self.mutator.input(number: number, using: &rng)
            if number % 8 == 0 {
                do {
                    let message = try AxonRelayMessage.decode(input)
                    let again = try AxonRelayMessage.decode(message.encoded())
                    return (input, true, again == message ? nil : "relay message does not survive its own encoding")
                } catch {
                    return (input, false, nil)
                }
            }
            do {
                let message = try AxonClientMessage.decode(input)
                let again = try? AxonClientMessage.decode(message.encoded())
                return (input, true, again == message ? nil : "client message does not survive its own encoding")
            } catch {
                let reason = (error as? AxonDecodingError)?.detail ?? ""
                return (input, false, reason.isEmpty ? "an error without a reason: \(error)" : nil)
            }
        }
        #expect(summary.inputs >= 4_096)
        // Mutations must reach the message layer, not only the MessagePack layer.
        #expect(summary.accepted > 0)
    }
}
