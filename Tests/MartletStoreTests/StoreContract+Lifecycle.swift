import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Replacement (NIP-01), deletion (NIP-09), expiration (NIP-40) and vanishing (NIP-62).
extension StoreContract {
    // MARK: Replaceable and addressable events

    @Test("only the newest replaceable event per pubkey and kind is kept", arguments: storeFactories)
    func replaceableKeepsOnlyTheNewest(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let old = author.event(kind: 0, content: "old", createdAt: 1_700_000_000)
            let new = author.event(kind: 0, content: "new", createdAt: 1_700_000_010)
            #expect(try await store.save(old) == [.saved])
            #expect(try await store.save(new) == [.saved])
            #expect(try await store.save(old) == [.superseded])
            #expect(try await store.query(Filter(authors: [author.pubkey], kinds: [0])).map(\.id) == [new.id])
            // Other keys and other replaceable kinds are separate.
            let contacts = author.event(kind: 3, createdAt: 1_700_000_000)
            let someoneElse = Author().event(kind: 0, createdAt: 1_700_000_000)
            #expect(try await store.save(contacts, someoneElse) == [.saved, .saved])
            #expect(try await store.count([Filter(kinds: [0, 3])], now: testNow) == 3)
        }
    }

    @Test("replaceable events with equal created_at keep the lowest id", arguments: storeFactories)
    func replaceableTieKeepsTheLowestID(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let pair = ["a", "b"].map { author.event(kind: 10002, content: $0, createdAt: testTime) }
            let (low, high) = pair[0].id < pair[1].id ? (pair[0], pair[1]) : (pair[1], pair[0])
            #expect(try await store.save(high) == [.saved])
            #expect(try await store.save(low) == [.saved])
            #expect(try await store.save(high) == [.superseded])
            #expect(try await store.query(Filter(kinds: [10002])).map(\.id) == [low.id])
        }
    }

    @Test("addressable events are replaced per pubkey, kind and d tag", arguments: storeFactories)
    func addressableIsReplacedPerDTag(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let intro1 = author.event(kind: 30023, content: "v1", tags: [["d", "intro"]], createdAt: 1_700_000_000)
            let intro2 = author.event(kind: 30023, content: "v2", tags: [["d", "intro"]], createdAt: 1_700_000_005)
            let other = author.event(kind: 30023, tags: [["d", "other"]], createdAt: 1_700_000_001)
            let noD = author.event(kind: 30023, createdAt: 1_700_000_002)
            let emptyD = author.event(kind: 30023, tags: [["d", ""]], createdAt: 1_700_000_003)
            #expect(try await store.save(intro1, other, noD) == [.saved, .saved, .saved])
            #expect(try await store.save(intro2, emptyD) == [.saved, .saved])
            #expect(try await store.save(intro1) == [.superseded])
            let stored = try await store.query(Filter(kinds: [30023]))
            #expect(Set(stored.map(\.id)) == [intro2.id, other.id, emptyD.id])
        }
    }

    @Test("versions of one replaceable event in one batch replace each other", arguments: storeFactories)
    func versionsInOneBatchReplaceEachOther(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let v1 = author.event(kind: 0, content: "1", createdAt: 1_700_000_001)
            let v2 = author.event(kind: 0, content: "2", createdAt: 1_700_000_002)
            let v3 = author.event(kind: 0, content: "3", createdAt: 1_700_000_003)
            #expect(try await store.save(v1, v3, v2) == [.saved, .saved, .superseded])
            #expect(try await store.query(Filter(kinds: [0])).map(\.id) == [v3.id])
            #expect(try await store.count([Filter()], now: testNow) == 1)
        }
    }

    @Test("versions saved concurrently from many tasks leave exactly the newest", arguments: storeFactories)
    func concurrentVersionsLeaveExactlyOne(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let versions = (0..<40).map {
                author.event(kind: 30000, content: "\($0)", tags: [["d", "list"]], createdAt: 1_700_000_000 + Int64($0 % 7))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for version in versions {
                    group.addTask { _ = try await store.save([version]) }
                }
                try await group.waitForAll()
            }
            let winner = newestOrder(versions)[0]
            #expect(try await store.query(Filter(kinds: [30000])).map(\.id) == [winner.id])
            #expect(try await store.count([Filter()], now: testNow) == 1)
        }
    }

    // MARK: Deletion

    @Test(
        "a deletion request removes the author's e-tagged events, not others', and they stay deleted",
        arguments: storeFactories)
    func deletionByIDRemovesOnlyTheAuthorsEvents(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let alice = Author()
            let mallory = Author()
            let mine = alice.event(content: "mine", createdAt: testTime)
            let theirs = mallory.event(content: "theirs", createdAt: testTime)
            _ = try await store.save(mine, theirs)
            let request = alice.deletion(of: [mine, theirs])
            #expect(try await store.save(request) == [.saved])
            #expect(try await store.contains(mine.id) == false)
            #expect(try await store.contains(theirs.id))
            // The request itself is kept and served; the deleted event stays deleted.
            #expect(try await store.query(Filter(kinds: [5])).map(\.id) == [request.id])
            #expect(try await store.save(mine) == [.deleted])
            // Someone else's request does not touch alice's events.
            let untouched = alice.event(content: "still here", createdAt: testTime)
            _ = try await store.save(untouched)
            _ = try await store.save(mallory.deletion(of: [untouched]))
            #expect(try await store.contains(untouched.id))
        }
    }

    @Test("a deletion request and its target in one batch affect each other in order", arguments: storeFactories)
    func deletionInOneBatchWithItsTarget(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let first = author.event(content: "deleted after", createdAt: testTime)
            let second = author.event(content: "deleted before", createdAt: testTime)
            let deleteFirst = author.deletion(of: [first])
            let deleteSecond = author.deletion(of: [second], at: 1_700_000_200)
            #expect(try await store.save(first, deleteFirst, deleteSecond, second) == [.saved, .saved, .saved, .deleted])
            #expect(try await store.query(Filter(kinds: [1])).isEmpty)
        }
    }

    @Test("an a-tag deletion removes versions up to the request's created_at", arguments: storeFactories)
    func deletionByAddressRemovesVersionsUpToItsTime(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let address = "30023:\(author.pubkey.hex):post"
            let v1 = author.event(kind: 30023, tags: [["d", "post"]], createdAt: 1_700_000_000)
            let other = author.event(kind: 30023, tags: [["d", "other"]], createdAt: 1_700_000_000)
            let profile = author.event(kind: 0, createdAt: 1_700_000_000)
            _ = try await store.save(v1, other, profile)
            _ = try await store.save(
                author.deletion(ofAddresses: [address, "0:\(author.pubkey.hex):"], at: 1_700_000_050))
            #expect(try await store.query(Filter(kinds: [0, 30023])).map(\.id) == [other.id])
            #expect(try await store.save(v1) == [.deleted])
            #expect(try await store.save(author.event(kind: 30023, tags: [["d", "post"]], createdAt: 1_700_000_050)) == [.deleted])
            let newer = author.event(kind: 30023, tags: [["d", "post"]], createdAt: 1_700_000_051)
            #expect(try await store.save(newer) == [.saved])
            // An address naming someone else's key deletes nothing.
            let mallory = Author()
            _ = try await store.save(mallory.deletion(ofAddresses: ["30023:\(author.pubkey.hex):other"], at: 1_700_000_099))
            #expect(try await store.contains(other.id))
        }
    }

    @Test("publishing a deletion request against a deletion request has no effect", arguments: storeFactories)
    func deletionOfADeletionHasNoEffect(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let note = author.event(content: "note", createdAt: testTime)
            let request = author.deletion(of: [note])
            _ = try await store.save(note, request)
            let undo = author.deletion(of: [request], at: 1_700_000_300)
            #expect(try await store.save(undo) == [.saved])
            #expect(try await store.contains(request.id))
            #expect(try await store.save(note) == [.deleted])
        }
    }

    // MARK: Expiration

    @Test("expired events are not sent to clients and are purged", arguments: storeFactories)
    func expiredEventsAreNotServedAndArePurged(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let soon = author.event(content: "soon", tags: [["expiration", "1700000100"]], createdAt: 1_700_000_000)
            let later = author.event(content: "later", tags: [["expiration", "1700000200"]], createdAt: 1_700_000_001)
            let never = author.event(content: "never", createdAt: 1_700_000_002)
            _ = try await store.save(soon, later, never)
            let now: Int64 = 1_700_000_100
            #expect(try await store.query([Filter()], maxLimit: 10, now: now).map(\.id) == [never.id, later.id])
            #expect(try await store.query([Filter(ids: [soon.id])], maxLimit: 10, now: now).isEmpty)
            #expect(try await store.count([Filter()], now: now) == 2)
            #expect(try await store.negentropyItems(Filter(), now: now).map(\.id) == [later.id, never.id])
            #expect(try await store.query([Filter()], maxLimit: 10, now: now - 1).count == 3)
            #expect(try await store.purgeExpired(now: now) == 1)
            #expect(try await store.contains(soon.id) == false)
            #expect(try await store.contains(later.id))
            #expect(try await store.purgeExpired(now: now) == 0)
            #expect(try await store.stats().eventCount == 2)
        }
    }

    // MARK: Removal by the operator

    @Test("an operator's removal drops only the named events and leaves no deletion record", arguments: storeFactories)
    func removeDropsOnlyTheNamedEventsAndLeavesNoRecord(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let banned = author.event(content: "banned", createdAt: 1_700_000_000)
            let kept = author.event(content: "kept", createdAt: 1_700_000_001)
            _ = try await store.save(banned, kept)
            #expect(try await store.remove([banned.id, EventID(Bytes32.zero)]) == 1)
            #expect(try await store.contains(banned.id) == false)
            #expect(try await store.contains(kept.id))
            #expect(try await store.remove([]) == 0)
            // No deletion record: a policy, not the store, decides whether it may come back.
            #expect(try await store.save(banned) == [.saved])
        }
    }

    // MARK: Request to vanish

    @Test(
        "a request to vanish deletes the key's events and gift wraps to it, and they cannot be re-broadcast",
        arguments: storeFactories)
    func vanishRemovesAndRefuses(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let leaver = Author()
            let friend = Author()
            let until: Int64 = 1_700_000_100
            let old = leaver.event(content: "old", createdAt: 1_700_000_000)
            let profile = leaver.event(kind: 0, createdAt: 1_700_000_050)
            let request = leaver.event(kind: 62, tags: [["relay", "ALL_RELAYS"]], createdAt: until)
            let future = leaver.event(content: "after", createdAt: until + 1)
            let wrapToLeaver = friend.event(kind: 1059, tags: [["p", leaver.pubkey.hex]], createdAt: 1_700_000_010)
            let friendsNote = friend.event(tags: [["p", leaver.pubkey.hex]], createdAt: 1_700_000_020)
            _ = try await store.save(old, profile, request, future, wrapToLeaver, friendsNote)

            #expect(try await store.vanish(pubkey: leaver.pubkey, until: until) == 3)
            let left = Set(try await store.query(Filter()).map(\.id))
            #expect(left == [request.id, future.id, friendsNote.id])
            #expect(try await store.save(old) == [.vanished])
            #expect(try await store.save(leaver.event(content: "new but dated before", createdAt: until)) == [.vanished])
            let lateWrap = friend.event(kind: 1059, tags: [["p", leaver.pubkey.hex]], createdAt: until - 5)
            #expect(try await store.save(lateWrap) == [.vanished])
            #expect(try await store.save(leaver.event(content: "a fresh start", createdAt: until + 2)) == [.saved])
            // A deletion request cannot undo it either.
            #expect(try await store.save(leaver.deletion(of: [request], at: until + 3)) == [.saved])
            #expect(try await store.contains(request.id))
        }
    }

    /// `WriteRules` asks in one order, the same for every store; the first rule that
    /// applies answers.
    @Test(
        "an event several rules refuse is answered by the first: vanished, then deleted, then superseded",
        arguments: storeFactories)
    func firstRefusingRuleAnswers(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let old = author.event(kind: 0, content: "old", createdAt: 1_700_000_000)
            let older = author.event(kind: 0, content: "older", createdAt: 1_699_999_999)
            let current = author.event(kind: 0, content: "current", createdAt: 1_700_000_050)
            _ = try await store.save(old, current, author.deletion(of: [old, older], at: 1_700_000_060))
            // Deleted by id and older than the stored version.
            #expect(try await store.save(older) == [.deleted])
            #expect(try await store.save(old) == [.deleted])
            // Now also by a key that vanished up to their time.
            _ = try await store.vanish(pubkey: author.pubkey, until: 1_700_000_040)
            #expect(try await store.save(older) == [.vanished])
            #expect(try await store.save(old) == [.vanished])
            #expect(try await store.query(Filter(kinds: [0])).map(\.id) == [current.id])
        }
    }
}
