import MartletTestSupport
import Negentropy
import Testing

@Suite("Reconciliation")
struct ReconciliationTests {
    @Test("empty sets on both sides reconcile in one round trip with no differences")
    func bothEmpty() throws {
        let outcome = try sync(initiator: [], responder: [])
        #expect(outcome.roundTrips == 1)
        #expect(outcome.haveIDs.isEmpty)
        #expect(outcome.needIDs.isEmpty)
    }

    @Test("equal sets reconcile in one round trip with no differences", arguments: [0, 10, 31, 32, 1_000, 20_000])
    func equalSets(count: Int) throws {
        var generator = SplitMix64(seed: UInt64(count))
        let items = randomItems(count, timestamps: 1_600_000_000...1_700_000_000, using: &generator)
        let outcome = try sync(initiator: items, responder: items.shuffled(using: &generator))
        #expect(outcome.roundTrips == 1)
        #expect(outcome.haveIDs.isEmpty)
        #expect(outcome.needIDs.isEmpty)
    }

    @Test("a responder whose fingerprints all match answers with the version byte alone")
    func matchingFingerprintsAnswerEmpty() throws {
        var generator = SplitMix64(seed: 5)
        let storage = try SortedItems(randomItems(500, timestamps: 0...100, using: &generator))
        let initiator = try NegentropyInitiator(storage: storage)
        let responder = try NegentropyResponder(storage: storage)
        let answer = try responder.reconcile(initiator.initiate())
        #expect(answer == [0x61])
        #expect(try initiator.reconcile(answer) == Reconciliation(nextMessage: nil, haveIDs: [], needIDs: []))
    }

    @Test("an empty initiator needs every id the responder has", arguments: [5, 40, 5_000])
    func initiatorEmpty(count: Int) throws {
        var generator = SplitMix64(seed: 100 + UInt64(count))
        let items = randomItems(count, timestamps: 0...10_000, using: &generator)
        let outcome = try sync(initiator: [], responder: items)
        #expect(outcome.haveIDs.isEmpty)
        #expect(Set(outcome.needIDs) == Set(items.map(\.id)))
        #expect(outcome.needIDs.count == items.count)
    }

    @Test("an empty responder is missing every id the initiator has", arguments: [5, 40, 5_000])
    func responderEmpty(count: Int) throws {
        var generator = SplitMix64(seed: 200 + UInt64(count))
        let items = randomItems(count, timestamps: 0...10_000, using: &generator)
        let outcome = try sync(initiator: items, responder: [])
        #expect(outcome.needIDs.isEmpty)
        #expect(Set(outcome.haveIDs) == Set(items.map(\.id)))
        #expect(outcome.haveIDs.count == items.count)
    }

    @Test("items that share one timestamp are told apart by their id prefixes")
    func identicalTimestamps() throws {
        let sets = DifferingSets(common: 5_000, eachOwn: 60, timestamps: 1_700_000_000...1_700_000_000, seed: 42)
        let outcome = try sync(initiator: sets.initiator, responder: sets.responder)
        expectExact(outcome, have: sets.onlyInitiator, need: sets.onlyResponder)
    }

    @Test("differences next to each other and at both ends of the set are all found")
    func adjacentAndEdgeDifferences() throws {
        func id(_ value: UInt64) -> NegentropyID { NegentropyID(w0: value, w1: 0, w2: 0, w3: 0) }
        let common = (0..<300).map { NegentropyItem(timestamp: 1_000 + UInt64($0) / 3, id: id(UInt64($0) << 8)) }
        let onlyInitiator = [
            NegentropyItem(timestamp: 0, id: id(1)),
            NegentropyItem(timestamp: 1_050, id: id((150 << 8) + 1)),
            NegentropyItem(timestamp: 1_050, id: id((150 << 8) + 2)),
        ]
        let onlyResponder = [
            NegentropyItem(timestamp: 1_050, id: id((151 << 8) + 1)),
            NegentropyItem(timestamp: .max - 1, id: id(.max)),
        ]
        let outcome = try sync(initiator: common + onlyInitiator, responder: common + onlyResponder)
        expectExact(outcome, have: onlyInitiator, need: onlyResponder)
    }

    @Test("100,000 against 100,000 items with 1% differences each way finds exactly those ids",
          .timeLimit(.minutes(1)))
    func largeSetsWithDifferences() throws {
        let sets = DifferingSets(common: 99_000, eachOwn: 1_000, timestamps: 1_600_000_000...1_600_500_000, seed: 2024)
        let clock = ContinuousClock()
        var outcome = SyncOutcome()
        let elapsed = try clock.measure {
            outcome = try sync(initiator: sets.initiator, responder: sets.responder)
        }
        print("100k vs 100k, 1% differences each way: \(outcome.roundTrips) round trips, "
            + "largest message \(outcome.largestMessage) bytes, \(elapsed)")
        expectExact(outcome, have: sets.onlyInitiator, need: sets.onlyResponder)
        #expect(outcome.roundTrips <= 6)
    }

    @Test("the initiator's round result lists only this round's differences and ends with nil")
    func roundByRound() throws {
        let initiator = try NegentropyInitiator(storage: try SortedItems([NegentropyItem(timestamp: 1, id: .filled(1))]))
        let responder = try NegentropyResponder(storage: try SortedItems([NegentropyItem(timestamp: 2, id: .filled(2))]))
        let round = try initiator.reconcile(try responder.reconcile(initiator.initiate()))
        #expect(round.isComplete)
        #expect(round.haveIDs == [.filled(1)])
        #expect(round.needIDs == [.filled(2)])
    }
}

@Suite("Frame size limit")
struct FrameSizeLimitTests {
    @Test("every message stays within the frame size limit and the sync still converges",
          arguments: [4_096, 10_000])
    func limitHonoured(limit: Int) throws {
        let sets = DifferingSets(common: 19_800, eachOwn: 200, timestamps: 1_600_000_000...1_600_100_000, seed: UInt64(limit))
        let outcome = try sync(initiator: sets.initiator, responder: sets.responder, frameSizeLimit: limit)
        #expect(outcome.largestMessage <= limit)
        #expect(outcome.roundTrips > 1)
        expectExact(outcome, have: sets.onlyInitiator, need: sets.onlyResponder)
    }

    @Test("a responder pages a long id list across frames when the initiator has nothing")
    func longIDListIsPaged() throws {
        var generator = SplitMix64(seed: 77)
        let items = randomItems(3_000, timestamps: 0...1_000, using: &generator)
        let outcome = try sync(initiator: [], responder: items, frameSizeLimit: 4_096)
        #expect(outcome.largestMessage <= 4_096)
        // 3,000 ids are 96 KB: they cannot come in fewer than 24 frames of 4 KB.
        #expect(outcome.roundTrips >= 24)
        expectExact(outcome, have: [], need: items)
    }

    @Test("the same sync without a limit needs one frame where the limit needs many")
    func unlimitedIsOneFrame() throws {
        var generator = SplitMix64(seed: 78)
        let items = randomItems(3_000, timestamps: 0...1_000, using: &generator)
        let outcome = try sync(initiator: [], responder: items)
        #expect(outcome.roundTrips == 1)
        #expect(outcome.largestMessage > 3_000 * 32)
    }

    @Test("a frame size limit below 4096 is refused, 0 means unlimited")
    func limitValidation() throws {
        let storage = try SortedItems([])
        #expect(throws: NegentropyError.frameSizeLimitTooSmall(4_095)) {
            try NegentropyInitiator(storage: storage, frameSizeLimit: 4_095)
        }
        #expect(throws: NegentropyError.frameSizeLimitTooSmall(-1)) {
            try NegentropyResponder(storage: storage, frameSizeLimit: -1)
        }
        _ = try NegentropyInitiator(storage: storage, frameSizeLimit: 0)
        _ = try NegentropyResponder(storage: storage, frameSizeLimit: 4_096)
    }
}

/// The sync found exactly the expected ids, each once.
func expectExact(
    _ outcome: SyncOutcome, have: [NegentropyItem], need: [NegentropyItem],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(Set(outcome.haveIDs) == Set(have.map(\.id)), sourceLocation: sourceLocation)
    #expect(Set(outcome.needIDs) == Set(need.map(\.id)), sourceLocation: sourceLocation)
    #expect(outcome.haveIDs.count == have.count, "an id was reported twice", sourceLocation: sourceLocation)
    #expect(outcome.needIDs.count == need.count, "an id was reported twice", sourceLocation: sourceLocation)
}
