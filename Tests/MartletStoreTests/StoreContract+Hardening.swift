import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Hardening rules of the contract: the reader's visibility applies before `LIMIT`, and
/// filters with more streams than are merged one by one still answer exactly.
extension StoreContract {
    /// NIP-59 gift wraps to a victim must not take the places of a public mention of the
    /// victim in a limited REQ by a stranger (which would reveal that they exist, and when).
    @Test(
        "a limited REQ is filled with events the reader may see: hidden gift wraps take no place",
        arguments: storeFactories)
    func visibilityAppliesBeforeLimit(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let victim = Author()
            let mention = Author().event(content: "hi", tags: [["p", victim.pubkey.hex]], createdAt: 1_700_000_100)
            let wraps = (0..<3).map { index in
                Author().event(kind: .giftWrap, tags: [["p", victim.pubkey.hex]], createdAt: 1_700_000_200 + Int64(index))
            }
            _ = try await store.save([mention] + wraps)
            let p = UInt8(ascii: "p")
            let mentions = Filter(tags: [p: [victim.pubkey.hex]], limit: 3)
            let stranger = ReadVisibility(privateKinds: [.giftWrap], readers: [])
            let strangerAuthenticated = ReadVisibility(privateKinds: [.giftWrap], readers: [Author().pubkey])
            let recipient = ReadVisibility(privateKinds: [.giftWrap], readers: [victim.pubkey, Author().pubkey])

            func query(_ filter: Filter, _ visibility: ReadVisibility) async throws -> [EventID] {
                try await store.query([filter], maxLimit: 500, now: testNow, visibility: visibility, timeout: nil)
                    .map(\.id)
            }
            #expect(try await query(mentions, stranger) == [mention.id])
            #expect(try await query(mentions, strangerAuthenticated) == [mention.id])
            #expect(try await query(mentions, recipient) == newestOrder(wraps).map(\.id))
            #expect(try await query(mentions, .everything) == newestOrder(wraps).map(\.id))
            // Through other drivers and the stream merge: by kinds, by several authors.
            let byKinds = Filter(kinds: [.textNote, .giftWrap], limit: 1)
            #expect(try await query(byKinds, stranger) == [mention.id])
            let authors = Set([mention.pubkey] + wraps.map(\.pubkey))
            #expect(try await query(Filter(authors: authors, limit: 2), stranger) == [mention.id])
            #expect(try await query(Filter(authors: authors, limit: 2), recipient) == newestOrder(wraps).prefix(2).map(\.id))
            // A filter of public kinds only is not touched.
            #expect(try await query(Filter(kinds: [.textNote]), stranger) == [mention.id])
        }
    }

    /// More authors × kinds, or `#x` values, than are merged stream by stream: the whole
    /// lists are read at once, with the same answer.
    @Test(
        "more authors × kinds or #x values than are merged one by one still answer exactly",
        arguments: storeFactories)
    func longListsAnswerExactly(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let authors = (0..<45).map { _ in Author() }
            let t = UInt8(ascii: "t")
            var events: [Event] = []
            for (index, author) in authors.enumerated() {
                for kind in [1, 7, 30] as [Kind] {
                    // Shared created_at values, so that ties at the limit are broken by id.
                    let createdAt = 1_700_000_000 + Int64(index % 7)
                    let topics: [Tag] = [["t", "topic\(index)"], ["t", "topic\(index + 1)"]]
                    events.append(author.event(kind: kind, content: "\(index) \(kind)", tags: topics, createdAt: createdAt))
                }
            }
            _ = try await store.save(events)
            // 45 authors × 50 kinds = 2,250 pairs; 2,100 topic values.
            let kinds = Set((1...50).map { Kind(UInt16($0)) })
            let topics = Set((0..<2_100).map { "topic\($0)" })
            let filters = [
                Filter(authors: Set(authors.map(\.pubkey)), kinds: kinds, limit: 20),
                Filter(authors: Set(authors.map(\.pubkey)), kinds: kinds, since: 1_700_000_003, limit: 500),
                Filter(tags: [t: topics], limit: 25),
                Filter(kinds: [7], tags: [t: topics], limit: 500),
            ]
            for filter in filters {
                let expected = newestOrder(events.filter(filter.matches)).prefix(filter.limit!)
                #expect(try await store.query(filter).map(\.id) == expected.map(\.id), "\(filter)")
                #expect(try await store.count([filter], now: testNow) == events.filter(filter.matches).count)
            }
        }
    }
}
