import MartletTestSupport
import Negentropy
import Testing

@Suite("Malformed input")
struct MalformedInputTests {
    let responder: NegentropyResponder<SortedItems>
    let initiator: NegentropyInitiator<SortedItems>

    init() throws {
        var generator = SplitMix64(seed: 9)
        let storage = try SortedItems(randomItems(300, timestamps: 0...50, using: &generator))
        responder = try NegentropyResponder(storage: storage)
        initiator = try NegentropyInitiator(storage: storage)
    }

    @Test("a responder answers an unsupported protocol version with its own version byte alone",
          arguments: [UInt8(0x60), 0x62, 0x6f])
    func unsupportedVersionAnswered(version: UInt8) throws {
        #expect(try responder.reconcile([version, 0x00, 0x00, 0x00]) == [0x61])
    }

    @Test("an initiator given an unsupported protocol version fails with that version")
    func unsupportedVersionAtInitiator() {
        #expect(throws: NegentropyError.unsupportedProtocolVersion(0x62)) {
            try initiator.reconcile([0x62])
        }
    }

    @Test("a first byte that is no protocol version at all is refused",
          arguments: [UInt8(0x00), 0x5f, 0x70, 0xff])
    func invalidVersion(byte: UInt8) {
        #expect(throws: NegentropyError.invalidProtocolVersion(byte)) { try responder.reconcile([byte]) }
    }

    @Test("malformed messages are refused with the reason and where it was found", arguments: [
        MalformedCase("an empty message", [], .emptyMessage),
        MalformedCase("a truncated timestamp varint", [0x61, 0x85], .truncated(offset: 2)),
        MalformedCase("a bound without its prefix length", [0x61, 0x05], .truncated(offset: 2)),
        MalformedCase("a timestamp beyond 64 bits",
                      [0x61] + [UInt8](repeating: 0xff, count: 10) + [0x7f], .varintOverflow(offset: 1)),
        MalformedCase("an id prefix longer than 32 bytes", [0x61, 0x01, 0x21], .idPrefixTooLong(length: 33, offset: 2)),
        MalformedCase("an id prefix cut short", [0x61, 0x01, 0x05, 0xaa, 0xbb], .truncated(offset: 5)),
        MalformedCase("a range without a mode", [0x61, 0x00, 0x00], .truncated(offset: 3)),
        MalformedCase("an unknown mode", [0x61, 0x00, 0x00, 0x03], .unknownMode(3, offset: 3)),
        MalformedCase("a fingerprint cut short", [0x61, 0x00, 0x00, 0x01] + [UInt8](repeating: 1, count: 15),
                      .truncated(offset: 19)),
        MalformedCase("an id list longer than the message",
                      [0x61, 0x00, 0x00, 0x02, 0x02] + [UInt8](repeating: 1, count: 63),
                      .idListTooLong(count: 2, offset: 4)),
        MalformedCase("an id list claiming 2^40 ids",
                      [0x61, 0x00, 0x00, 0x02] + Varint.encode(1 << 40), .idListTooLong(count: 1 << 40, offset: 4)),
        MalformedCase("an id list without its count", [0x61, 0x00, 0x00, 0x02], .truncated(offset: 4)),
        MalformedCase("ranges out of order",
                      [0x61, 0x0b, 0x01, 0xbb, 0x00, 0x01, 0x01, 0xaa, 0x00], .rangesOutOfOrder(offset: 5)),
        MalformedCase("a range after the infinity bound",
                      [0x61, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00], .rangeAfterEnd(offset: 4)),
    ])
    func malformed(_ example: MalformedCase) {
        #expect(throws: example.error, "\(example.name)") { try responder.reconcile(example.bytes) }
        #expect(throws: example.error, "\(example.name)") { try initiator.reconcile(example.bytes) }
        #expect(throws: example.error, "\(example.name)") { try NegentropyMessage(decoding: example.bytes) }
    }

    @Test("a range ending where the previous one ended is an empty range, not an error")
    func equalBoundsAccepted() throws {
        let answer = try responder.reconcile([0x61, 0x0b, 0x00, 0x00, 0x01, 0x00, 0x00])
        #expect(answer.first == 0x61)
    }

    @Test("a timestamp delta that runs past the top saturates to infinity, as the reference does")
    func timestampSaturates() throws {
        let bytes = [0x61] + Varint.encode(.max - 5) + [0x00, 0x00] + Varint.encode(100) + [0x00, 0x00]
        let message = try NegentropyMessage(decoding: bytes)
        #expect(message.ranges.last?.upperBound.isInfinity == true)
    }

    @Test("errors describe themselves in words a NEG-ERR can carry")
    func descriptions() {
        #expect(NegentropyError.truncated(offset: 5).description == "negentropy message truncated at byte 5")
        #expect(NegentropyError.invalidProtocolVersion(0x00).description.contains("0x00"))
        #expect(NegentropyError.frameSizeLimitTooSmall(10).description.contains("4096"))
    }

    @Test("random bytes and corrupted real messages never crash either role")
    func fuzz() throws {
        var generator = SplitMix64(seed: 99)
        let valid = initiator.initiate()
        let answer = try responder.reconcile(valid)
        var rejected = 0
        for iteration in 0..<4_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = [0x61] + (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            } else {
                bytes = iteration % 4 == 1 ? valid : answer
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
                }
                if Bool.random(using: &generator) {
                    bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator))
                }
            }
            do {
                _ = try responder.reconcile(bytes)
                _ = try initiator.reconcile(bytes)
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 0)
    }
}

struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let error: NegentropyError

    init(_ name: String, _ bytes: [UInt8], _ error: NegentropyError) {
        self.name = name
        self.bytes = bytes
        self.error = error
    }

    var testDescription: String { name }
}
