import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The behaviour every `EventStore` adapter must show, one test per rule, each run on every
/// store in `storeFactories`: SQLite always, PostgreSQL when a server is configured (always
/// in CI). A rule is written here once; adapter test files hold only what one store has.
///
/// ```swift
/// @Test("an event already stored is answered duplicate", arguments: storeFactories)
/// func duplicateIsReported(_ factory: any StoreFactory) async throws { ... }
/// ```
@Suite("Event store contract")
struct StoreContract {
    // MARK: Saving and reading back

    @Test("a saved event is served with its JSON bytes unchanged", arguments: storeFactories)
    func roundTripKeepsJSONBytes(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let event = author.event(
                kind: 1, content: "gm 🤙 \"quoted\" \\ back\nslash \u{0001} é",
                tags: [["e", String(repeating: "ab", count: 32), "wss://relay.example.com"], ["t", "Nostr"], ["alt", "x"]],
                createdAt: 1_700_000_123)
            #expect(try await store.save(event) == [.saved])
            #expect(try await store.contains(event.id))
            let found = try await store.query(Filter(ids: [event.id]))
            #expect(found.count == 1)
            #expect(found.first?.json == event.json)
            #expect(found.first?.id == event.id)
            #expect(found.first?.tags == event.tags)
            #expect(try await store.contains(author.event(content: "not saved", createdAt: testTime).id) == false)
        }
    }

    @Test("an event already stored is answered duplicate", arguments: storeFactories)
    func duplicateIsReported(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let event = Author().event(content: "once", createdAt: testTime)
            #expect(try await store.save(event) == [.saved])
            #expect(try await store.save(event) == [.duplicate])
            let other = Author().event(content: "twice in one batch", createdAt: testTime)
            #expect(try await store.save(other, other) == [.saved, .duplicate])
            #expect(try await store.query(Filter()).count == 2)
        }
    }

    @Test("stored ids come in ascending pages that walk the whole store", arguments: storeFactories)
    func storedIDsInPages(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            #expect(try await store.storedIDs(after: nil, limit: 10).isEmpty)
            let author = Author()
            // Forty days apart: on PostgreSQL the pages cross time partitions.
            let events = (0..<7).map { author.event(content: "note \($0)", createdAt: testTime - Int64($0) * 3_456_000) }
            _ = try await store.save(events)
            var walked: [EventID] = []
            var after: EventID?
            while true {
                let page = try await store.storedIDs(after: after, limit: 3)
                walked += page
                guard page.count == 3 else { break }
                after = page.last
            }
            #expect(walked == events.map(\.id).sorted())
            #expect(try await store.storedIDs(after: walked[5], limit: 3) == [walked[6]])
        }
    }

    @Test("results are newest first, equal created_at ordered by lowest id", arguments: storeFactories)
    func newestFirstWithIDTieBreak(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            var events: [Event] = []
            for second in [100, 300, 200, 300, 300, 100] as [Int64] {
                events.append(author.event(content: "at \(second) #\(events.count)", createdAt: 1_700_000_000 + second))
            }
            _ = try await store.save(events.shuffled())
            let expected = newestOrder(events)
            #expect(try await store.query(Filter()).map(\.id) == expected.map(\.id))
            #expect(try await store.query(Filter(authors: [author.pubkey])).map(\.id) == expected.map(\.id))
            #expect(try await store.query(Filter(kinds: [1], limit: 2)).map(\.id) == expected.prefix(2).map(\.id))
        }
    }

    @Test("limit applies per filter and the union holds each event once", arguments: storeFactories)
    func limitsApplyPerFilterAndUnionIsDeduplicated(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let alice = Author()
            let bob = Author()
            let notes = (0..<5).map { alice.event(kind: 1, content: "a\($0)", createdAt: 1_700_000_000 + Int64($0)) }
            let reactions = (0..<5).map { bob.event(kind: 7, content: "+", createdAt: 1_700_000_010 + Int64($0)) }
            _ = try await store.save(notes + reactions)

            let both = try await store.query(Filter(kinds: [1], limit: 2), Filter(authors: [bob.pubkey], limit: 3))
            #expect(both.map(\.id) == newestOrder(Array(notes.suffix(2)) + Array(reactions.suffix(3))).map(\.id))

            let overlapping = try await store.query(Filter(kinds: [1, 7], limit: 4), Filter(authors: [bob.pubkey]))
            #expect(overlapping.map(\.id) == newestOrder(reactions).map(\.id))

            // The server's limit caps a client's larger one; no limit means the server's.
            #expect(try await store.query(Filter(kinds: [1], limit: 100), maxLimit: 3).count == 3)
            #expect(try await store.query(Filter(), maxLimit: 4).count == 4)
            #expect(try await store.query(Filter(limit: 0)).isEmpty)
        }
    }

    @Test(
        "ids, authors, kinds, #e, #p, #t, #d, since and until all select, alone and together",
        arguments: storeFactories)
    func everyFilterConditionSelects(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let alice = Author()
            let bob = Author()
            let root = alice.event(kind: 1, content: "root", tags: [["t", "nostr"]], createdAt: 1_700_000_000)
            let reply = bob.event(
                kind: 1, content: "reply", tags: [["e", root.id.hex], ["p", alice.pubkey.hex], ["t", "swift"]],
                createdAt: 1_700_000_010)
            let like = bob.event(kind: 7, tags: [["e", root.id.hex], ["p", alice.pubkey.hex]], createdAt: 1_700_000_020)
            let article = alice.event(
                kind: 30023, content: "#", tags: [["d", "intro"], ["t", "nostr"], ["t", "swift"]],
                createdAt: 1_700_000_030)
            _ = try await store.save(root, reply, like, article)

            func ids(_ filter: Filter) async throws -> Set<EventID> { Set(try await store.query(filter).map(\.id)) }
            let all: Set = [root.id, reply.id, like.id, article.id]
            #expect(try await ids(Filter()) == all)
            #expect(try await ids(Filter(ids: [root.id, like.id])) == [root.id, like.id])
            #expect(try await ids(Filter(authors: [alice.pubkey])) == [root.id, article.id])
            #expect(try await ids(Filter(authors: [alice.pubkey, bob.pubkey])) == all)
            #expect(try await ids(Filter(kinds: [1])) == [root.id, reply.id])
            #expect(try await ids(Filter(kinds: [7, 30023])) == [like.id, article.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "e"): [root.id.hex]])) == [reply.id, like.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "p"): [alice.pubkey.hex]])) == [reply.id, like.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "t"): ["nostr"]])) == [root.id, article.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "t"): ["nostr", "swift"]])) == [root.id, reply.id, article.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "d"): ["intro"]])) == [article.id])
            #expect(try await ids(Filter(since: 1_700_000_010)) == [reply.id, like.id, article.id])
            #expect(try await ids(Filter(until: 1_700_000_010)) == [root.id, reply.id])
            #expect(try await ids(Filter(since: 1_700_000_010, until: 1_700_000_020)) == [reply.id, like.id])
            // Combinations: every condition must hold.
            #expect(try await ids(Filter(authors: [bob.pubkey], kinds: [7])) == [like.id])
            #expect(try await ids(Filter(kinds: [1], tags: [UInt8(ascii: "e"): [root.id.hex]])) == [reply.id])
            #expect(
                try await ids(Filter(tags: [UInt8(ascii: "t"): ["swift"], UInt8(ascii: "p"): [alice.pubkey.hex]]))
                    == [reply.id])
            #expect(try await ids(Filter(ids: [root.id, reply.id], authors: [bob.pubkey])) == [reply.id])
            #expect(
                try await ids(Filter(authors: [alice.pubkey], kinds: [30023], tags: [UInt8(ascii: "d"): ["intro"]]))
                    == [article.id])
            #expect(try await ids(Filter(authors: [alice.pubkey], since: 1_700_000_001)) == [article.id])
            #expect(try await ids(Filter(tags: [UInt8(ascii: "e"): [root.id.hex]], until: 1_700_000_015)) == [reply.id])
            // Only single-letter tags are indexed, and only their first value.
            #expect(try await ids(Filter(tags: [UInt8(ascii: "e"): ["wss://relay"]])).isEmpty)
            #expect(try await ids(Filter(authors: [Author().pubkey])).isEmpty)
        }
    }

    @Test("tag values that JSON must escape match in a list of several", arguments: storeFactories)
    func escapedTagValuesInLists(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            // A list of several values travels to SQLite as one JSON array (`SQLList`):
            // quotes, backslashes and control characters must come back out as they went in.
            let values = ["say \"hi\"", "back\\slash", "bell\u{0007}tab\t", "ünï ⚡️", "plain"]
            let author = Author()
            let events = values.enumerated().map { index, value in
                author.event(tags: [["t", value]], createdAt: 1_700_000_000 + Int64(index))
            }
            _ = try await store.save(events)
            let filter = Filter(tags: [UInt8(ascii: "t"): Set(values.dropLast())])
            #expect(Set(try await store.query(filter).map(\.id)) == Set(events.dropLast().map(\.id)))
            #expect(try await store.count([filter], now: testNow) == 4)
            let near = Filter(tags: [UInt8(ascii: "t"): ["say \\\"hi\\\"", "back\\\\slash", "bell"]])
            #expect(try await store.query(near).isEmpty)
        }
    }

    @Test("a filter with an empty list matches nothing", arguments: storeFactories)
    func emptyListsMatchNothing(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            _ = try await store.save(Author().event(content: "something", createdAt: testTime))
            for filter in [
                Filter(ids: []), Filter(authors: []), Filter(kinds: []), Filter(tags: [UInt8(ascii: "e"): []]),
                Filter(since: 20, until: 10),
            ] {
                #expect(try await store.query(filter).isEmpty)
                #expect(try await store.count([filter], now: testNow) == 0)
                #expect(try await store.negentropyItems(filter, now: testNow).isEmpty)
            }
            #expect(try await store.query([], maxLimit: 10, now: testNow).isEmpty)
        }
    }

    // MARK: COUNT, negentropy, search, stats

    @Test("COUNT is exact over distinct events and ignores limit", arguments: storeFactories)
    func countIsExactAndDistinct(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let events = (0..<6).map {
                author.event(kind: $0 < 4 ? 1 : 7, tags: [["t", "a"], ["t", "b"]], createdAt: 1_700_000_000 + Int64($0))
            }
            _ = try await store.save(events)
            #expect(try await store.count([Filter(kinds: [1], limit: 1)], now: testNow) == 4)
            #expect(try await store.count([Filter(kinds: [1]), Filter(authors: [author.pubkey])], now: testNow) == 6)
            #expect(try await store.count([Filter(tags: [UInt8(ascii: "t"): ["a", "b"]])], now: testNow) == 6)
            #expect(try await store.count([Filter(kinds: [7]), Filter(since: 1_700_000_003)], now: testNow) == 3)
            #expect(try await store.count([Filter(kinds: [9])], now: testNow) == 0)
        }
    }

    @Test("distinct authors of the matching events, each once (NIP-45 HyperLogLog)", arguments: storeFactories)
    func distinctAuthorsOnce(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let target = String(repeating: "cd", count: 32)
            let authors = (0..<5).map { _ in Author() }
            var events = authors.enumerated().map { index, author in
                author.event(kind: 7, tags: [["e", target]], createdAt: 1_700_000_000 + Int64(index))
            }
            events.append(authors[0].event(kind: 7, content: "again", tags: [["e", target]], createdAt: 1_700_000_100))
            events.append(Author().event(kind: 1, tags: [["e", target]], createdAt: 1_700_000_200))
            _ = try await store.save(events)
            let reactions = Filter(kinds: [7], tags: [UInt8(ascii: "e"): [target]])
            let found = try await store.distinctAuthors([reactions], now: testNow)
            #expect(found.count == 5)
            #expect(Set(found) == Set(authors.map(\.pubkey)))
            #expect(try await store.distinctAuthors([reactions, Filter(kinds: [1])], now: testNow).count == 6)
            #expect(try await store.distinctAuthors([Filter(kinds: [9])], now: testNow).isEmpty)
        }
    }

    @Test("COUNT's hll is read with the count, register for register as NIP-45 computes it", arguments: storeFactories)
    func countWithHyperLogLog(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let target = String(repeating: "ef", count: 32)
            let tagged: [Tag] = [["e", target]]
            let authors = (0..<60).map { _ in Author() }
            var events = authors.enumerated().map { index, author in
                author.event(kind: 7, tags: tagged, createdAt: 1_700_000_000 + Int64(index))
            }
            // An author whose bits after every register byte are zero to the end, and one
            // whose last 8 bytes are zero but for the last bit: NIP-45's "leading zero
            // bits" run to the pubkey's last byte, which a database's bit arithmetic must
            // reach too. Stores keep what the relay verified, so these need no real key.
            let crafted: [[UInt8]] = [
                (0..<9).map { UInt8(0x31 + $0) } + Array(repeating: 0, count: 23),
                (0..<24).map { UInt8(0x31 + $0) } + Array(repeating: 0, count: 7) + [1],
            ]
            for (index, bytes) in crafted.enumerated() {
                let pubkey = PublicKey(Bytes32(bytes: bytes)!)
                let createdAt = 1_700_000_100 + Int64(index)
                let id = Event.computeID(pubkey: pubkey, createdAt: createdAt, kind: 7, tags: tagged, content: "+")
                let sig = Signature(r: Bytes32(w0: 1, w1: 2, w2: 3, w3: 4), s: Bytes32(w0: 5, w1: 6, w2: 7, w3: 8))
                events.append(Event(id: id, pubkey: pubkey, createdAt: createdAt, kind: 7, tags: tagged, content: "+", sig: sig))
            }
            // A second reaction by one author: counted, and the same register value again.
            events.append(authors[0].event(kind: 7, content: "again", tags: tagged, createdAt: 1_700_000_150))
            events.append(Author().event(kind: 1, tags: tagged, createdAt: 1_700_000_200))
            // NIP-40: an expired reaction is not counted, nor is its author.
            events.append(Author().event(kind: 7, tags: tagged + [["expiration", "1700000500"]], createdAt: 1_700_000_300))
            _ = try await store.save(events)
            let reactions = Filter(kinds: [7], tags: [UInt8(ascii: "e"): [target]])
            let reactors = events.filter { $0.kind == 7 && $0.tags.count == 1 }.map(\.pubkey)
            #expect(reactors.count == 63 && Set(reactors).count == 62)

            for offset in 8...23 {
                var expected = HyperLogLog(offset: offset)
                for pubkey in reactors { expected.add(pubkey) }
                let answer = try await store.countWithHyperLogLog([reactions], offset: offset, now: testNow)
                #expect(answer.count == 63)
                #expect(answer.hll == expected, "offset \(offset)")
            }
            // Two filters that share events: each event counted once, as `count` does.
            let filters = [reactions, Filter(authors: [authors[0].pubkey], kinds: [1, 7]), Filter(kinds: [1])]
            let union = try await store.countWithHyperLogLog(filters, offset: 8, now: testNow)
            #expect(union.count == 64)
            #expect(try await store.count(filters, now: testNow) == 64)
            let nothing = try await store.countWithHyperLogLog([Filter(kinds: [9])], offset: 16, now: testNow)
            #expect(nothing.count == 0 && nothing.hll == HyperLogLog(offset: 16))
        }
    }

    @Test("negentropy items ascend by created_at, then id", arguments: storeFactories)
    func negentropyItemsAscend(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let events = [5, 1, 3, 3, 3, 2].enumerated().map { index, second in
                author.event(content: "n\(index)", createdAt: 1_700_000_000 + Int64(second))
            }
            _ = try await store.save(events)
            let expected = events.map { TimestampedEventID(createdAt: $0.createdAt, id: $0.id) }
                .sorted { $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.id < $1.id }
            #expect(try await store.negentropyItems(Filter(limit: 2), now: testNow) == expected)
            #expect(
                try await store.negentropyItems(Filter(since: 1_700_000_003), now: testNow)
                    == expected.filter { $0.createdAt >= 1_700_000_003 })
        }
    }

    @Test("search matches every word of the query in content", arguments: storeFactories)
    func searchFindsWords(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            let relay = author.event(kind: 1, content: "Running a Nostr relay in Swift", createdAt: 1_700_000_001)
            let coffee = author.event(kind: 1, content: "Morning coffee, then more relays", createdAt: 1_700_000_002)
            let café = author.event(kind: 30023, content: "Le café de NOSTR", tags: [["d", "x"]], createdAt: 1_700_000_003)
            _ = try await store.save(relay, coffee, café)
            func search(_ text: String, kinds: Set<Kind>? = nil) async throws -> [EventID] {
                try await store.query(Filter(kinds: kinds, search: text)).map(\.id)
            }
            #expect(try await search("nostr") == [café.id, relay.id])
            #expect(try await search("NOSTR swift") == [relay.id])
            #expect(try await search("relay") == [coffee.id, relay.id])
            #expect(try await search("cafe") == [café.id])
            #expect(try await search("nostr", kinds: [1]) == [relay.id])
            #expect(try await search("nostr language:en") == [café.id, relay.id])
            #expect(try await search("bitcoin").isEmpty)
            #expect(try await store.count([Filter(search: "nostr")], now: testNow) == 2)
            // A replaced version leaves the index with it.
            let newer = author.event(kind: 30023, content: "Le thé", tags: [["d", "x"]], createdAt: 1_700_000_004)
            _ = try await store.save(newer)
            #expect(try await search("cafe").isEmpty)
            #expect(try await search("le thé") == [newer.id])
            // Words match as prefixes: "thé" finds "then" too.
            #expect(try await search("thé") == [newer.id, coffee.id])
        }
    }

    @Test("stats count events per kind", arguments: storeFactories)
    func statsCountKinds(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let author = Author()
            _ = try await store.save((0..<3).map { author.event(kind: 7, createdAt: 1_700_000_000 + Int64($0)) })
            _ = try await store.save(author.event(kind: 1, createdAt: testTime), author.event(kind: 0, createdAt: testTime))
            let stats = try await store.stats()
            #expect(stats.eventCount == 5)
            #expect(stats.bytesOnDisk > 0)
            #expect(stats.topKinds.first?.kind == 7)
            #expect(stats.topKinds.first?.count == 3)
            #expect(Set(stats.topKinds.map(\.kind)) == [0, 1, 7])
        }
    }

    // MARK: Durability

    @Test("data survives closing and reopening the store", arguments: storeFactories)
    func dataSurvivesReopening(_ factory: any StoreFactory) async throws {
        let store = try await factory.makeStore()
        let author = Author()
        let note = author.event(kind: 1, content: "kept", createdAt: testTime)
        let profile = author.event(kind: 0, content: "{\"name\":\"x\"}", createdAt: 1_700_000_050)
        let doomed = author.event(kind: 1, content: "deleted", createdAt: 1_700_000_002)
        _ = try await store.save(note, profile, doomed, author.deletion(of: [doomed]))
        let reopened = try await factory.reopen(store)
        #expect(try await reopened.contains(note.id))
        #expect(try await reopened.query(Filter(kinds: [0])).map(\.json) == [profile.json])
        #expect(try await reopened.save(doomed) == [.deleted])
        #expect(try await reopened.save(author.event(kind: 0, createdAt: 1_700_000_049)) == [.superseded])
        try await factory.dispose(reopened)
    }

    @Test("a closed store refuses further calls", arguments: storeFactories)
    func closedStoreRefusesWork(_ factory: any StoreFactory) async throws {
        let store = try await factory.makeStore()
        try await store.close()
        await #expect(throws: (any Error).self) { try await store.save(Author().event(createdAt: testTime)) }
        await #expect(throws: (any Error).self) { try await store.query(Filter()) }
        try await factory.dispose(store)
    }
}
