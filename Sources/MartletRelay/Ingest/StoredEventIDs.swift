public import NostrCore
import Synchronization

/// Which ids the store may hold, in bounded memory: the duplicate check of a distinct event
/// (the common case) then needs no store lookup, only a few bits read here.
///
/// An approximate set, a scalable Bloom filter (Almeida et al., 2007): layers of doubling
/// capacity, 16 bits and 6 probes per id, new ids going into the newest layer, so a relay
/// that stores little (one of many hosted relays) holds little. `excludes(id)` is true only
/// for an id never inserted, and only once `finishLoading()` said every id the store held
/// was inserted: before that every id is "maybe". "Maybe" is a false positive for about
/// 0.1% of absent ids per full layer (under 1% for the whole filter), and costs only the
/// store lookup every check made before this existed. Nothing is ever removed: an id whose
/// event was deleted stays a "maybe".
///
/// Memory: 2 bytes per id, in layers of 8 KiB, 16 KiB, … up to `maximumBytes` in all
/// (4 MiB, about 2.1 million ids, by default). Past that the last layer keeps taking ids and
/// answers "maybe" more and more often: the lookup as before, never a wrong "absent".
///
/// Event ids are SHA-256 hashes of the event, so their bits are used as they are, with no
/// hashing. A made-up id (an invalid event) can only land on bits set already: a "maybe",
/// a lookup, then the signature check refuses it.
///
/// ```swift
/// let stored = StoredEventIDs()
/// stored.insert(event.id)                  // committed by this relay
/// for id in page { stored.insert(id) }     // and everything the store held at start
/// stored.finishLoading()
/// stored.excludes(other.id)                // true: certainly not stored, skip the lookup
/// ```
public final class StoredEventIDs: Sendable {
    /// Ids the first layer is made for; each later one takes twice as many as the last.
    static let firstLayerCapacity = 4096
    static let bitsPerID = 16
    static let probes = 6
    public static let defaultMaximumBytes = 4 << 20

    private struct Layer {
        var words: [UInt64]
        let mask: UInt64
        let capacity: Int
        let salt: UInt64
        var count = 0

        init(capacity: Int, salt: UInt64) {
            let bits = capacity * StoredEventIDs.bitsPerID
            words = [UInt64](repeating: 0, count: bits / 64)
            mask = UInt64(bits - 1)
            self.capacity = capacity
            self.salt = salt
        }

        var bytes: Int { words.count * 8 }

        /// Double hashing over two of the id's words, with the other two salting each layer
        /// so an id that is a false positive in one layer is not likelier to be one in the next.
        /// `body` gets each probe's word index and bit, and stops the walk by returning false.
        @inline(__always)
        static func probe(_ id: EventID, salt: UInt64, mask: UInt64, _ body: (Int, UInt64) -> Bool) -> Bool {
            var position = id.raw.w0 &+ salt &* id.raw.w2
            let step = (id.raw.w1 ^ (salt &* id.raw.w3)) | 1
            for _ in 0..<StoredEventIDs.probes {
                let bit = position & mask
                guard body(Int(bit >> 6), 1 << (bit & 63)) else { return false }
                position &+= step
            }
            return true
        }

        func contains(_ id: EventID) -> Bool {
            Self.probe(id, salt: salt, mask: mask) { word, bit in words[word] & bit != 0 }
        }

        mutating func insert(_ id: EventID) {
            _ = Self.probe(id, salt: salt, mask: mask) { word, bit in
                words[word] |= bit
                return true
            }
            count += 1
        }
    }

    private struct State {
        var layers: [Layer] = []
        var bytes = 0
        var loaded = false
    }

    private let maximumBytes: Int
    private let state = Mutex(State())

    /// - Parameter maximumBytes: the bound on the layers' memory; at least the first layer's 8 KiB.
    public init(maximumBytes: Int = StoredEventIDs.defaultMaximumBytes) {
        self.maximumBytes = max(maximumBytes, Self.firstLayerCapacity * Self.bitsPerID / 8)
    }

    /// True when `id` is certainly not stored: never inserted, and the store's ids are all loaded.
    public func excludes(_ id: EventID) -> Bool {
        state.withLock { state in
            state.loaded && !state.layers.contains { $0.contains(id) }
        }
    }

    /// Remembers that the store holds `id`.
    public func insert(_ id: EventID) {
        state.withLock { Self.insert(id, into: &$0, maximumBytes: maximumBytes) }
    }

    /// Remembers a page of the store's ids, under one lock.
    public func insert(contentsOf ids: some Sequence<EventID>) {
        state.withLock { state in
            for id in ids { Self.insert(id, into: &state, maximumBytes: maximumBytes) }
        }
    }

    /// Every id the store held before loading began has been inserted (and every one stored
    /// since is inserted as it is committed): `excludes` may now answer true.
    public func finishLoading() {
        state.withLock { $0.loaded = true }
    }

    /// Whether `finishLoading()` was called.
    public var isLoaded: Bool { state.withLock { $0.loaded } }

    /// The layers' memory now; never above the bound given at `init`.
    public var bytes: Int { state.withLock { $0.bytes } }

    private static func insert(_ id: EventID, into state: inout State, maximumBytes: Int) {
        if let last = state.layers.last, last.count < last.capacity || state.bytes + 2 * last.bytes > maximumBytes {
            state.layers[state.layers.count - 1].insert(id)
            return
        }
        let capacity = state.layers.last.map { 2 * $0.capacity } ?? firstLayerCapacity
        var layer = Layer(capacity: capacity, salt: UInt64(state.layers.count))
        layer.insert(id)
        state.bytes += layer.bytes
        state.layers.append(layer)
    }
}
