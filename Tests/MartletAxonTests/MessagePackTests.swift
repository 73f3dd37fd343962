import MartletAxon
import Testing

/// The codec against the MessagePack specification's encodings, and its limits on
/// untrusted input.
@Suite("MessagePack codec")
struct MessagePackTests {
    static func encode(_ value: MessagePackValue) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.write(value)
        return writer.bytes
    }

    // The spec: "positive fixint stores 7-bit positive integer 0XXXXXXX", "negative fixint
    // stores 5-bit negative integer 111YYYYY", and the shortest form is the one to write.
    @Test("integers are written in the shortest form the specification defines")
    func shortestIntegers() {
        #expect(Self.encode(.int(0)) == [0x00])
        #expect(Self.encode(.int(127)) == [0x7f])
        #expect(Self.encode(.int(128)) == [0xcc, 0x80])
        #expect(Self.encode(.int(0x0101)) == [0xcd, 0x01, 0x01])
        #expect(Self.encode(.int(70_000)) == [0xce, 0x00, 0x01, 0x11, 0x70])
        #expect(Self.encode(.int(1 << 40)) == [0xcf, 0, 0, 1, 0, 0, 0, 0, 0])
        #expect(Self.encode(.int(-1)) == [0xff])
        #expect(Self.encode(.int(-32)) == [0xe0])
        #expect(Self.encode(.int(-33)) == [0xd0, 0xdf])
        #expect(Self.encode(.int(-200)) == [0xd1, 0xff, 0x38])
        #expect(Self.encode(.uint(UInt64.max)) == [0xcf] + [UInt8](repeating: 0xff, count: 8))
    }

    @Test("strings, binary, arrays and maps use fix, 8, 16 and 32 forms by length")
    func containerForms() {
        #expect(Self.encode(.string("")) == [0xa0])
        #expect(Self.encode(.string("abc")) == [0xa3, 0x61, 0x62, 0x63])
        #expect(Self.encode(.string(String(repeating: "x", count: 32))).prefix(2) == [0xd9, 32])
        #expect(Self.encode(.string(String(repeating: "x", count: 256))).prefix(3) == [0xda, 0x01, 0x00])
        #expect(Self.encode(.binary([1, 2])) == [0xc4, 0x02, 1, 2])
        #expect(Self.encode(.array([.null, .bool(true), .bool(false)])) == [0x93, 0xc0, 0xc3, 0xc2])
        #expect(Self.encode(.array(Array(repeating: .null, count: 16))).prefix(3) == [0xdc, 0x00, 0x10])
        #expect(Self.encode(.map(["a": .int(1)])) == [0x81, 0xa1, 0x61, 0x01])
    }

    @Test("every value decodes to itself, whichever width it was sent in")
    func roundTrips() throws {
        let values: [MessagePackValue] = [
            .null, .bool(true), .int(0), .int(-1), .int(Int64.min), .int(Int64.max), .uint(UInt64.max), .float(1.5),
            .string("é😀"), .binary([UInt8](repeating: 7, count: 300)),
            .array([.int(1), .array([.string("x")])]),
            .map(["kind": .int(1), "tags": .array([.array([.string("e"), .string("id")])])]),
        ]
        for value in values {
            #expect(try MessagePackReader.decode(Self.encode(value)) == value)
        }
        // A uint16 or int64 holding 1 is the integer 1.
        #expect(try MessagePackReader.decode([0xcd, 0x00, 0x01]) == .int(1))
        #expect(try MessagePackReader.decode([0xd3, 0, 0, 0, 0, 0, 0, 0, 1]) == .int(1))
        #expect(try MessagePackReader.decode([0xca, 0x3f, 0xc0, 0x00, 0x00]) == .float(1.5))
    }

    @Test("untrusted input is refused with a reason, within bounds", arguments: [
        ([0xdd, 0xff, 0xff, 0xff, 0xff], "runs past the end"),  // an array of 4 billion in 5 bytes
        ([0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0], "runs past the end"),
        ([0xc6, 0xff, 0xff, 0xff, 0xff], "runs past the end"),
        ([0xdb, 0x00, 0x00, 0x00, 0x05, 0x61], "runs past the end"),
        ([0x81, 0x01, 0x01], "keys must be strings"),
        ([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02], "appears twice"),
        ([0xa1, 0xff], "not valid UTF-8"),
        ([0xc1], "never used"),
        ([0xd4, 0x01, 0x00], "extension types"),
        ([0x01, 0x02], "after the value"),
        ([], "ends early"),
        ([0xcd, 0x01], "ends early"),
    ] as [([UInt8], String)])
    func refusals(input: [UInt8], reason: String) {
        #expect {
            try MessagePackReader.decode(input)
        } throws: { error in
            (error as? MessagePackError)?.detail.contains(reason) == true
        }
    }

    @Test("nesting deeper than the limit is refused, not recursed into")
    func depth() throws {
        let deep = [UInt8](repeating: 0x91, count: 100_000) + [0xc0]
        #expect(throws: MessagePackError.self) { try MessagePackReader.decode(deep) }
        let allowed = [UInt8](repeating: 0x91, count: MessagePackReader.defaultMaxDepth) + [0xc0]
        #expect(try MessagePackReader.decode(allowed) != .null)
    }
}
