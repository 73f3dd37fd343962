/// The range-based set reconciliation step shared by both roles: read a peer's
/// ranges, compare each against local storage, and write the answer.
///
/// Follows the reference implementation's choices (16 buckets, id lists below 32
/// items, a 200-byte reserve under the frame limit) so that peers see the same
/// message shapes from Martlet as from strfry.
struct Reconciler<Storage: NegentropyStorage> {
    enum Role {
        case initiator
        case responder
    }

    let storage: Storage
    let frameSizeLimit: Int
    let role: Role

    private static var bucketCount: Int { 16 }
    /// A range of at least this many items is split into `bucketCount` fingerprints;
    /// a smaller one is sent as its id list, which settles it in one more message.
    private static var idListThreshold: Int { 2 * bucketCount }

    /// Room kept free under the frame limit for the ranges that close a frame early:
    /// a pending skip (at most 44 bytes) and the fingerprint of the rest (19 bytes).
    private static var frameReserve: Int { 200 }

    /// The most a bound, a mode and an id count add around an id list's ids.
    private static var idListOverhead: Int { 64 }

    init(storage: Storage, frameSizeLimit: Int, role: Role) throws(NegentropyError) {
        guard frameSizeLimit == 0 || frameSizeLimit >= 4096 else {
            throw .frameSizeLimitTooSmall(frameSizeLimit)
        }
        self.storage = storage
        self.frameSizeLimit = frameSizeLimit
        self.role = role
    }

    /// The first message: the whole space, split as the peer would split a mismatch.
    func initialMessage() -> [UInt8] {
        var out = MessageWriter()
        split(0..<storage.count, upperBound: .infinity, into: &out)
        return out.bytes
    }

    /// The answer to `message`. As initiator, the ids only one side has are added to
    /// `have` (ours) and `need` (theirs).
    func answer(
        _ message: NegentropyMessage, have: inout [NegentropyID], need: inout [NegentropyID]
    ) -> MessageWriter {
        var out = MessageWriter()
        let end = storage.count
        var previousBound = NegentropyBound.zero
        var previousIndex = 0
        // Consecutive settled ranges are merged into one skip, written only when
        // something follows it; a trailing skip is implicit.
        var skipPending = false

        func flushSkip() {
            guard skipPending else { return }
            out.append(previousBound)
            out.append(.skip)
            skipPending = false
        }

        for range in message.ranges {
            let lower = previousIndex
            let upper = storage.lowerBound(of: range.upperBound, in: lower..<end)
            let mark = out.mark()
            let skipPendingAtMark = skipPending

            switch range.payload {
            case .skip:
                skipPending = true
            case .fingerprint(let theirs):
                if storage.fingerprint(of: lower..<upper) == theirs {
                    skipPending = true
                } else {
                    flushSkip()
                    split(lower..<upper, upperBound: range.upperBound, into: &out)
                }
            case .idList(let theirs):
                switch role {
                case .initiator:
                    compare(ours: lower..<upper, theirs: theirs, have: &have, need: &need)
                    skipPending = true
                case .responder:
                    flushSkip()
                    if let resume = appendIDList(lower..<upper, upperBound: range.upperBound, into: &out) {
                        appendRemainder(from: resume, into: &out)
                        return out
                    }
                }
            }

            if exceedsFrame(out.count) {
                // The reference restarts the rest from `upper`, leaving this range's items
                // out of a fingerprint that claims to cover them; a peer missing exactly
                // those items would then skip them for good. Restart from `lower` instead.
                out.rollback(to: mark)
                skipPending = skipPendingAtMark
                flushSkip()
                appendRemainder(from: lower, into: &out)
                return out
            }
            previousIndex = upper
            previousBound = range.upperBound
        }
        return out
    }

    private func exceedsFrame(_ size: Int) -> Bool {
        frameSizeLimit > 0 && size > frameSizeLimit - Self.frameReserve
    }

    /// Writes `range` either as its id list or as `bucketCount` fingerprinted buckets.
    private func split(_ range: Range<Int>, upperBound: NegentropyBound, into out: inout MessageWriter) {
        let count = range.count
        if count < Self.idListThreshold {
            out.append(upperBound)
            out.append(.idList)
            out.appendVarint(UInt64(count))
            for index in range { out.append(storage.item(at: index).id) }
            return
        }
        let perBucket = count / Self.bucketCount
        let bucketsWithExtra = count % Self.bucketCount
        var current = range.lowerBound
        for bucket in 0..<Self.bucketCount {
            let size = perBucket + (bucket < bucketsWithExtra ? 1 : 0)
            let fingerprint = storage.fingerprint(of: current..<current + size)
            current += size
            let bound = current == range.upperBound
                ? upperBound
                : NegentropyBound.between(storage.item(at: current - 1), and: storage.item(at: current))
            out.append(bound)
            out.append(.fingerprint)
            out.append(fingerprint)
        }
    }

    /// Writes the ids of `range` as far as the frame allows. Returns the index of the
    /// first id left out, or `nil` if all fit.
    private func appendIDList(
        _ range: Range<Int>, upperBound: NegentropyBound, into out: inout MessageWriter
    ) -> Int? {
        var fitting = range.count
        if frameSizeLimit > 0 {
            let room = frameSizeLimit - Self.frameReserve - out.count - Self.idListOverhead
            fitting = min(fitting, max(room, 0) / 32)
        }
        let cut = range.lowerBound + fitting
        let isComplete = cut == range.upperBound
        out.append(isComplete ? upperBound : NegentropyBound(storage.item(at: cut)))
        out.append(.idList)
        out.appendVarint(UInt64(fitting))
        for index in range.lowerBound..<cut { out.append(storage.item(at: index).id) }
        return isComplete ? nil : cut
    }

    /// Closes a frame early: one fingerprint from the last written bound to infinity,
    /// which the peer answers on the next round like any other mismatch.
    private func appendRemainder(from index: Int, into out: inout MessageWriter) {
        out.append(.infinity)
        out.append(.fingerprint)
        out.append(storage.fingerprint(of: index..<storage.count))
    }

    private func compare(
        ours range: Range<Int>, theirs: [NegentropyID], have: inout [NegentropyID], need: inout [NegentropyID]
    ) {
        let theirSet = Set(theirs)
        var seen = Set<NegentropyID>(minimumCapacity: range.count)
        for index in range {
            let id = storage.item(at: index).id
            seen.insert(id)
            if !theirSet.contains(id) { have.append(id) }
        }
        // `seen` also drops an id a peer lists twice.
        for id in theirs where seen.insert(id).inserted {
            need.append(id)
        }
    }
}

extension Reconciler: Sendable where Storage: Sendable {}
