import Negentropy
import Testing

@Suite("Varint")
struct VarintTests {
    static let examples: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7f]),
        (128, [0x81, 0x00]),
        (300, [0x82, 0x2c]),
        (16_383, [0xff, 0x7f]),
        (16_384, [0x81, 0x80, 0x00]),
        (UInt64.max, [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
    ]

    @Test("varints are base-128 digits, most significant first, high bit on all but the last",
          arguments: examples)
    func knownEncodings(value: UInt64, bytes: [UInt8]) throws {
        #expect(Varint.encode(value) == bytes)
        #expect(Varint.encodedCount(value) == bytes.count)
        var offset = 0
        #expect(try Varint.decode(bytes, at: &offset) == value)
        #expect(offset == bytes.count)
    }

    @Test("every edge value round trips with the fewest digits")
    func edgeValuesRoundTrip() throws {
        var values: [UInt64] = [0, .max, .max - 1]
        for bits in 1..<64 {
            let power = UInt64(1) << UInt64(bits)
            values += [power - 1, power, power + 1]
        }
        for value in values {
            let encoded = Varint.encode(value)
            #expect(encoded == referenceVarint(value), "value \(value)")
            var offset = 0
            #expect(try Varint.decode(encoded, at: &offset) == value)
            #expect(offset == encoded.count)
        }
    }

    @Test("consecutive varints decode one after another from a moving offset")
    func consecutiveDecode() throws {
        let values: [UInt64] = [5, 1_000_000, 0, 128, .max]
        let bytes = values.flatMap(Varint.encode)
        var offset = 0
        for value in values {
            #expect(try Varint.decode(bytes, at: &offset) == value)
        }
        #expect(offset == bytes.count)
    }

    @Test("a non-minimal varint with leading zero digits is still read, as the reference does")
    func nonMinimalAccepted() throws {
        var offset = 0
        #expect(try Varint.decode([0x80, 0x80, 0x05], at: &offset) == 5)
    }

    @Test("a varint cut off before its last digit is truncated")
    func truncatedVarint() {
        var offset = 0
        #expect(throws: NegentropyError.truncated(offset: 2)) {
            try Varint.decode([0x81, 0x80], at: &offset)
        }
        #expect(throws: NegentropyError.truncated(offset: 0)) {
            var empty = 0
            return try Varint.decode([], at: &empty)
        }
    }

    @Test("a varint beyond 64 bits is refused, not wrapped")
    func overflow() {
        var offset = 0
        #expect(throws: NegentropyError.varintOverflow(offset: 0)) {
            try Varint.decode([0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], at: &offset)
        }
        var longOffset = 0
        #expect(throws: NegentropyError.varintOverflow(offset: 0)) {
            try Varint.decode([UInt8](repeating: 0xff, count: 11) + [0x7f], at: &longOffset)
        }
    }
}
