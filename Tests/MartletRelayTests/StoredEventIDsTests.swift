import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// The memory of stored ids rules an id out only when it can be sure: never for an id it
/// was given, never before the store's ids are loaded, and within its memory bound.
@Suite("Stored event ids")
struct StoredEventIDsTests {
    /// Ids as uniform as SHA-256 makes real ones, from a seeded generator.
    private static func ids(_ count: Int, seed: UInt64) -> [EventID] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            EventID(Bytes32(w0: random.next(), w1: random.next(), w2: random.next(), w3: random.next()))
        }
    }

    @Test("an id inserted is never ruled out, and none is ruled out before loading ends")
    func noFalseNegatives() {
        let stored = StoredEventIDs()
        let inserted = Self.ids(50_000, seed: 1)
        let others = Self.ids(50_000, seed: 2)
        stored.insert(contentsOf: inserted.prefix(25_000))
        #expect(!others.contains { stored.excludes($0) })
        stored.finishLoading()
        for id in inserted.dropFirst(25_000) { stored.insert(id) }
        #expect(!inserted.contains { stored.excludes($0) })
        // And it rules out almost every other id: the point of it.
        let ruledOut = others.count { stored.excludes($0) }
        #expect(ruledOut > others.count * 98 / 100)
    }

    @Test("its memory grows with the ids it holds and stays within its bound, with no false negative past it")
    func bound() {
        let small = StoredEventIDs()
        small.insert(contentsOf: Self.ids(100, seed: 3))
        #expect(small.bytes == 8 << 10)

        let bounded = StoredEventIDs(maximumBytes: 64 << 10)
        let inserted = Self.ids(200_000, seed: 4)
        bounded.insert(contentsOf: inserted)
        bounded.finishLoading()
        #expect(bounded.bytes <= 64 << 10)
        #expect(bounded.bytes > 32 << 10)
        #expect(!inserted.contains { bounded.excludes($0) })
    }

    @Test("the default bound is 4 MiB; a layer is added only when the last one is full")
    func defaultBound() {
        #expect(StoredEventIDs.defaultMaximumBytes == 4 << 20)
        let stored = StoredEventIDs()
        // 4,096 ids in the first layer, twice as many in each next: five layers hold 126,976.
        stored.insert(contentsOf: Self.ids(4096 * 31, seed: 5))
        #expect(stored.bytes == (8 << 10) * 31)
        stored.insert(contentsOf: Self.ids(1, seed: 6))
        #expect(stored.bytes == (8 << 10) * 63)
    }
}
