import MartletTestSupport
import Negentropy
import Testing

@Suite("Fingerprint")
struct FingerprintTests {
    @Test("the reference SHA-256 in these tests matches the FIPS 180-4 examples")
    func referenceHashIsSound() {
        #expect(NegentropyHex.encode(ReferenceSHA256.hash(Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(NegentropyHex.encode(ReferenceSHA256.hash([]))
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(NegentropyHex.encode(ReferenceSHA256.hash(twoBlocks))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("the fingerprint of no ids hashes 32 zero bytes and a zero count")
    func emptyFingerprint() {
        let expected = Array(ReferenceSHA256.hash([UInt8](repeating: 0, count: 32) + [0x00]).prefix(16))
        #expect(Fingerprint.of([]).bytes == expected)
        #expect(referenceFingerprint([]) == expected)
    }

    @Test("ids add as 256-bit little-endian integers with carries and wrap mod 2^256")
    func carriesAndWrap() throws {
        var almostOne = [UInt8](repeating: 0xff, count: 32)
        almostOne[0] = 0xfe
        var lowLimbFull = [UInt8](repeating: 0, count: 32)
        for index in 0..<8 { lowLimbFull[index] = 0xff }
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        var topByte = [UInt8](repeating: 0, count: 32)
        topByte[31] = 0x80
        let sets: [[[UInt8]]] = [
            [almostOne, one, one],            // sums to exactly 2^256, which wraps to zero
            [lowLimbFull, one],               // carry out of the first limb
            [topByte, topByte],               // overflow out of the top is dropped
            [almostOne, almostOne, almostOne, lowLimbFull, topByte],
        ]
        for set in sets {
            let ids = set.map { NegentropyID(bytes: $0)! }
            #expect(Fingerprint.of(ids).bytes == referenceFingerprint(set))
        }
    }

    @Test("a known small set's fingerprint matches a byte-by-byte reference, in storage too")
    func knownSmallSet() throws {
        var generator = SplitMix64(seed: 7)
        // 200 ids make the count a two-byte varint.
        let items = randomItems(200, timestamps: 1_000...1_050, using: &generator)
        let storage = try SortedItems(items)
        let expected = referenceFingerprint(storage.all.map(\.id.bytes))
        #expect(storage.fingerprint(of: 0..<storage.count).bytes == expected)
        #expect(Fingerprint.of(items.map(\.id)).bytes == expected)

        let middle = Array(storage.all[37..<151])
        #expect(storage.fingerprint(of: 37..<151).bytes == referenceFingerprint(middle.map(\.id.bytes)))
    }

    @Test("the fingerprint does not depend on the order ids are added in")
    func orderIndependent() {
        var generator = SplitMix64(seed: 11)
        let ids = (0..<50).map { _ in NegentropyID.random(using: &generator) }
        #expect(Fingerprint.of(ids) == Fingerprint.of(ids.reversed()))
        #expect(Fingerprint.of(ids) != Fingerprint.of(ids.dropLast()))
    }

    @Test("a fingerprint is 16 bytes and round trips through its bytes")
    func bytesRoundTrip() {
        let fingerprint = Fingerprint.of([.filled(0x42)])
        #expect(fingerprint.bytes.count == Fingerprint.byteCount)
        #expect(Fingerprint(bytes: fingerprint.bytes) == fingerprint)
        #expect(Fingerprint(bytes: [1, 2, 3]) == nil)
        #expect(fingerprint.hex.count == 32)
    }

    @Test("a million items fingerprint in one pass, the same as adding their ids one by one",
          .timeLimit(.minutes(1)))
    func millionItems() throws {
        var generator = SplitMix64(seed: 3)
        // Timestamps in index order keep construction cheap; the sum is what is measured.
        let items = (0..<1_000_000).map { NegentropyItem(timestamp: UInt64($0), id: .random(using: &generator)) }
        let storage = try SortedItems(items)
        var accumulator = Fingerprint.Accumulator()
        for item in items { accumulator.add(item.id) }
        let clock = ContinuousClock()
        var fingerprint = Fingerprint.of([])
        let elapsed = clock.measure { fingerprint = storage.fingerprint(of: 0..<storage.count) }
        print("fingerprint of 1,000,000 items: \(elapsed)")
        #expect(fingerprint == accumulator.fingerprint)
        #expect(accumulator.count == 1_000_000)
    }
}
