import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// NIP-50 ranking under its bound, on both stores: "Results SHOULD be returned in
/// descending order by quality of search result (as defined by the implementation) ... The
/// limit filter SHOULD be applied after sorting by matching score." Here quality is ranked
/// among the newest `FilterPlan.rankedCandidates` (2,000) matches stored.
extension StoreContract {
    @Test("search ranks the newest 2,000 matches: an older better match is left out, ids still find it", arguments: storeFactories)
    func searchRanksNewestCandidates(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let word = "r" + UUID().uuidString.prefix(8).lowercased()
            let author = Author()
            // Stored first, so outside the newest 2,000 matches: the best match of all.
            let oldBest = author.event(content: "\(word) \(word) \(word) \(word)", createdAt: testTime - 10_000)
            _ = try await store.save([oldBest])
            let weak = (0..<2_000).map { index in
                author.event(
                    content: "\(word) in a note of several other words, number \(index)",
                    createdAt: testTime - Int64(index))
            }
            let newBest = author.event(content: "\(word) \(word) \(word)", createdAt: testTime - 5_000)
            _ = try await store.save(Array(weak[..<1_000]) + [newBest] + Array(weak[1_000...]))

            #expect(try await store.query(Filter(limit: 1, search: word)).map(\.id) == [newBest.id])
            let page = try await store.query(Filter(limit: 3, search: word)).map(\.id)
            #expect(page.count == 3 && page[0] == newBest.id && !page.contains(oldBest.id))
            // Named by id, the old event is a candidate again and ranks first.
            let named = Filter(ids: [oldBest.id, newBest.id, weak[0].id], search: word)
            #expect(try await store.query(named).map(\.id) == [oldBest.id, newBest.id, weak[0].id])
            // COUNT is not bounded: every match counts.
            #expect(try await store.count([Filter(search: word)], now: testNow) == 2_002)
        }
    }

    @Test("a prefix finds every term it starts, whether it stands for a few terms or for more than are spelled out", arguments: storeFactories)
    func searchPrefixStandsForItsTerms(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            // Letters only (digits spelled g-p), so that the index number ends each term.
            let stem = "q" + String(UUID().uuidString.prefix(6).lowercased().map { character in
                character.isLetter ? character : Character(UnicodeScalar(UInt8(ascii: "g") + UInt8(String(character))!))
            })
            let author = Author()
            // 70 distinct terms under `stem`, more than `SearchVocabulary.maxTermsPerPrefix` (64).
            let notes = (0..<70).map { index in
                author.event(content: "note \(stem)\(index) here", createdAt: testTime - Int64(index))
            }
            _ = try await store.save(notes)
            #expect(Set(try await store.query(Filter(limit: 100, search: stem)).map(\.id)) == Set(notes.map(\.id)))
            // "…1" stands for 1 and 10-19: eleven terms.
            let ones = [1] + Array(10...19)
            #expect(
                Set(try await store.query(Filter(limit: 100, search: "\(stem)1")).map(\.id))
                    == Set(ones.map { notes[$0].id }))
            // A term exactly, and both words of two.
            #expect(try await store.query(Filter(search: "\(stem)69 note")).map(\.id) == [notes[69].id])
            #expect(try await store.query(Filter(search: "\(stem)69 missing")).isEmpty)
        }
    }
}
