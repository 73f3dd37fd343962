import Negentropy
import Testing

@Suite("Message coding")
struct MessageCodingTests {
    @Test("a message of every range mode round trips through its bytes")
    func roundTrip() throws {
        let message = NegentropyMessage(ranges: [
            NegentropyRange(upperBound: NegentropyBound(timestamp: 100), payload: .skip),
            NegentropyRange(
                upperBound: NegentropyBound(timestamp: 100, idPrefix: [0xab, 0xcd]),
                payload: .fingerprint(Fingerprint.of([.filled(1)]))),
            NegentropyRange(
                upperBound: NegentropyBound(timestamp: 5_000_000_000, idPrefix: [UInt8](repeating: 7, count: 32)),
                payload: .idList([.filled(2), .filled(3)])),
            NegentropyRange(upperBound: .infinity, payload: .idList([])),
        ])
        let bytes = message.encoded()
        #expect(bytes.first == NegentropyMessage.protocolVersion)
        let decoded = try NegentropyMessage(decoding: bytes)
        #expect(decoded == message)
        #expect(decoded.encoded() == bytes)
        #expect(decoded.ranges.map(\.mode) == [.skip, .fingerprint, .idList, .idList])
    }

    @Test("timestamps are sent as 1 + the offset from the previous bound, infinity as 0")
    func timestampDeltas() throws {
        let message = NegentropyMessage(ranges: [
            NegentropyRange(upperBound: NegentropyBound(timestamp: 100), payload: .skip),
            NegentropyRange(upperBound: NegentropyBound(timestamp: 105), payload: .skip),
            NegentropyRange(upperBound: NegentropyBound(timestamp: 105, idPrefix: [0x01]), payload: .skip),
            NegentropyRange(upperBound: .infinity, payload: .skip),
        ])
        #expect(message.encoded() == [
            0x61,
            101, 0x00, 0x00,
            6, 0x00, 0x00,
            1, 0x01, 0x01, 0x00,
            0, 0x00, 0x00,
        ])
    }

    @Test("the initial message of an empty set is one empty id list up to infinity")
    func emptyInitialMessage() throws {
        let initiator = try NegentropyInitiator(storage: try SortedItems([]))
        #expect(initiator.initiate() == [0x61, 0x00, 0x00, 0x02, 0x00])
    }

    @Test("bounds between items carry the shortest separating id prefix")
    func minimalBounds() throws {
        // 64 items at one timestamp whose ids differ in the first byte, and 64 at
        // distinct timestamps: buckets of the first need a 1-byte prefix, the second none.
        let sameTimestamp = (0..<64).map { index in
            var bytes = [UInt8](repeating: 0x55, count: 32)
            bytes[0] = UInt8(index * 2)
            return NegentropyItem(timestamp: 42, id: NegentropyID(bytes: bytes)!)
        }
        let sameBounds = try initialBounds(sameTimestamp)
        #expect(sameBounds.count == 16)
        for bound in sameBounds.dropLast() {
            #expect(bound.timestamp == 42)
            #expect(bound.idPrefixLength == 1)
        }
        #expect(sameBounds.last == .infinity)

        let distinctTimestamps = (0..<64).map { NegentropyItem(timestamp: UInt64($0) * 10, id: .filled(9)) }
        for bound in try initialBounds(distinctTimestamps).dropLast() {
            #expect(bound.idPrefixLength == 0)
        }

        // Neighbours sharing 20 bytes need 21.
        let shared = [UInt8](repeating: 0xee, count: 20)
        let deep = (0..<64).map { index in
            NegentropyItem(timestamp: 1, id: NegentropyID(bytes: shared + [UInt8(index)] + [UInt8](repeating: 0, count: 11))!)
        }
        for bound in try initialBounds(deep).dropLast() {
            #expect(bound.idPrefixLength == 21)
            #expect(bound.idPrefix.prefix(20) == shared[...])
        }
    }

    private func initialBounds(_ items: [NegentropyItem]) throws -> [NegentropyBound] {
        let initiator = try NegentropyInitiator(storage: try SortedItems(items))
        return try NegentropyMessage(decoding: initiator.initiate()).ranges.map(\.upperBound)
    }

    @Test("a bound sits above exactly the items that sort before it")
    func boundOrdering() {
        let bound = NegentropyBound(timestamp: 10, idPrefix: [0x80])
        var below = [UInt8](repeating: 0xff, count: 32)
        below[0] = 0x7f
        #expect(bound.isAbove(NegentropyItem(timestamp: 10, id: NegentropyID(bytes: below)!)))
        #expect(bound.isAbove(NegentropyItem(timestamp: 9, id: .filled(0xff))))
        var at = [UInt8](repeating: 0, count: 32)
        at[0] = 0x80
        #expect(!bound.isAbove(NegentropyItem(timestamp: 10, id: NegentropyID(bytes: at)!)))
        #expect(!bound.isAbove(NegentropyItem(timestamp: 11, id: .zero)))
        #expect(NegentropyBound.infinity.isAbove(NegentropyItem(timestamp: .max - 1, id: .filled(0xff))))
    }
}

@Suite("Wire hex and ids")
struct WireHexTests {
    @Test("messages are written as lowercase hex and read in either case")
    func hexRoundTrip() throws {
        let bytes: [UInt8] = [0x61, 0x00, 0xab, 0xff, 0x0f]
        #expect(NegentropyHex.encode(bytes) == "6100abff0f")
        #expect(try NegentropyHex.decode("6100abff0f") == bytes)
        #expect(try NegentropyHex.decode("6100ABFF0F") == bytes)
        #expect(try NegentropyHex.decode("") == [])
    }

    @Test("hex of odd length or with a non-hex digit is refused")
    func badHex() {
        #expect(throws: NegentropyError.invalidHex) { try NegentropyHex.decode("610") }
        #expect(throws: NegentropyError.invalidHex) { try NegentropyHex.decode("61zz") }
        #expect(throws: NegentropyError.invalidHex) { try NegentropyHex.decode("61 0") }
    }

    @Test("an id is 32 bytes in order, compares lexically and spells as 64 hex digits")
    func ids() throws {
        let bytes = (0..<32).map { UInt8($0) }
        let id = try #require(NegentropyID(bytes: bytes))
        #expect(id.bytes == bytes)
        #expect(id.hex == NegentropyHex.encode(bytes))
        #expect(NegentropyID(hex: id.hex) == id)
        #expect(NegentropyID(bytes: Array(bytes.dropLast())) == nil)
        #expect(NegentropyID(hex: "abc") == nil)
        #expect(NegentropyID.filled(0x01) < NegentropyID.filled(0x02))
        var lateDifference = [UInt8](repeating: 0x01, count: 32)
        lateDifference[31] = 0x00
        #expect(NegentropyID(bytes: lateDifference)! < NegentropyID.filled(0x01))
    }
}

@Suite("Sorted items")
struct SortedItemsTests {
    @Test("items sort by timestamp then id, and duplicates collapse")
    func sortsAndDeduplicates() throws {
        let a = NegentropyItem(timestamp: 5, id: .filled(0x02))
        let b = NegentropyItem(timestamp: 5, id: .filled(0x01))
        let c = NegentropyItem(timestamp: 1, id: .filled(0xff))
        let storage = try SortedItems([a, b, c, a])
        #expect(storage.all == [c, b, a])
        #expect(storage.count == 3)
        #expect(storage.item(at: 1) == b)
    }

    @Test("the infinity timestamp is refused as an item's timestamp")
    func reservedTimestamp() {
        #expect(throws: NegentropyError.reservedTimestamp(index: 1)) {
            try SortedItems([
                NegentropyItem(timestamp: 1, id: .zero),
                NegentropyItem(timestamp: .max, id: .zero),
            ])
        }
    }

    @Test("the lower bound of a bound is the first item not below it")
    func lowerBound() throws {
        let storage = try SortedItems((0..<10).map { NegentropyItem(timestamp: UInt64($0 / 2), id: .filled(UInt8($0))) })
        #expect(storage.lowerBound(of: NegentropyBound(timestamp: 0), in: 0..<10) == 0)
        #expect(storage.lowerBound(of: NegentropyBound(timestamp: 2), in: 0..<10) == 4)
        #expect(storage.lowerBound(of: NegentropyBound(storage.item(at: 5)), in: 0..<10) == 5)
        #expect(storage.lowerBound(of: NegentropyBound(timestamp: 2, idPrefix: [0x05]), in: 0..<10) == 5)
        #expect(storage.lowerBound(of: .infinity, in: 3..<10) == 10)
        #expect(storage.lowerBound(of: .zero, in: 3..<10) == 3)
    }
}
