import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Queries checked against the simplest model of NIP-01 there is: `Filter.matches` over
/// every stored event, sorted newest first, cut at the limit.
extension StoreContract {
    @Test(
        "queries agree with Filter.matches over random events and filters",
        arguments: storeFactories, [1, 2, 3] as [UInt64])
    func queriesAgreeWithTheModel(_ factory: any StoreFactory, seed: UInt64) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            var random = SplitMix64(seed: seed)
            let authors = (0..<6).map { _ in Author() }
            let kinds: [Kind] = [1, 6, 7, 1111]
            let topics = ["nostr", "swift", "relay", "zap"]
            // No word holds another, so the index's word match and the live substring match
            // (Filter.matches) agree.
            let words = ["alpha", "bravo", "charlie", "delta", "echo"]
            func pick<T>(_ values: [T], _ random: inout SplitMix64) -> [T] {
                let count = Int.random(in: 1...min(3, values.count), using: &random)
                return Array(values.shuffled(using: &random).prefix(count))
            }
            var events: [Event] = []
            for index in 0..<240 {
                var tags: [Tag] = []
                if !events.isEmpty, Bool.random(using: &random) {
                    tags.append(["e", events.randomElement(using: &random)!.id.hex])
                }
                if Bool.random(using: &random) {
                    tags.append(["p", authors.randomElement(using: &random)!.pubkey.hex])
                }
                for topic in topics where Int.random(in: 0..<4, using: &random) == 0 {
                    tags.append(["t", topic])
                }
                // Few distinct times, so that many events tie on created_at.
                let createdAt = 1_700_000_000 + Int64.random(in: 0..<40, using: &random)
                let expires = Int.random(in: 0..<20, using: &random) == 0
                if expires { tags.append(["expiration", String(testNow - 1)]) }
                events.append(
                    authors.randomElement(using: &random)!.event(
                        kind: kinds.randomElement(using: &random)!,
                        content: "event \(index): " + pick(words, &random).joined(separator: " "), tags: tags,
                        createdAt: createdAt))
            }
            for batch in stride(from: 0, to: events.count, by: 50) {
                _ = try await store.save(Array(events[batch..<min(batch + 50, events.count)]))
            }
            let live = events.filter { $0.expiration.map { $0 > testNow } ?? true }

            for round in 0..<150 {
                var filter = Filter()
                if Int.random(in: 0..<8, using: &random) == 0 { filter.ids = Set(pick(events, &random).map(\.id)) }
                if Bool.random(using: &random) { filter.authors = Set(pick(authors, &random).map(\.pubkey)) }
                if Bool.random(using: &random) { filter.kinds = Set(pick(kinds, &random)) }
                if Int.random(in: 0..<3, using: &random) == 0 { filter.tags[UInt8(ascii: "t")] = Set(pick(topics, &random)) }
                if Int.random(in: 0..<4, using: &random) == 0 {
                    filter.tags[UInt8(ascii: "p")] = Set(pick(authors, &random).map(\.pubkey.hex))
                }
                if Int.random(in: 0..<5, using: &random) == 0 {
                    filter.tags[UInt8(ascii: "e")] = Set(pick(events, &random).map(\.id.hex))
                }
                if Int.random(in: 0..<3, using: &random) == 0 { filter.since = 1_700_000_000 + Int64.random(in: 0..<40, using: &random) }
                if Int.random(in: 0..<3, using: &random) == 0 { filter.until = 1_700_000_000 + Int64.random(in: 0..<40, using: &random) }
                if Bool.random(using: &random) { filter.limit = Int.random(in: 1...30, using: &random) }
                if Int.random(in: 0..<5, using: &random) == 0 {
                    filter.search = pick(words, &random).prefix(2).map { $0.uppercased() }.joined(separator: " ")
                }

                let expected = newestOrder(live.filter(filter.matches)).prefix(filter.limit ?? 1000)
                let found = try await store.query(filter)
                if filter.search == nil {
                    #expect(found.map(\.id) == expected.map(\.id), "round \(round) of seed \(seed): \(filter)")
                } else {
                    // NIP-50 ranks by relevance, then limits: which of the matches fill the
                    // limit is the store's ranking, not the newest.
                    let matching = Set(live.filter(filter.matches).map(\.id))
                    #expect(Set(found.map(\.id)).isSubset(of: matching), "round \(round) of seed \(seed): \(filter)")
                    #expect(found.count == min(filter.limit ?? 1000, matching.count), "round \(round) of seed \(seed)")
                }
                let count = try await store.count([filter], now: testNow)
                #expect(count == live.filter(filter.matches).count, "count, round \(round) of seed \(seed)")
                let items = try await store.negentropyItems(filter, now: testNow)
                #expect(items.map(\.id) == live.filter(filter.matches).reversed().sorted {
                    $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.id < $1.id
                }.map(\.id), "negentropy, round \(round) of seed \(seed)")
            }

            // Several filters at once: per-filter limits, then one de-duplicated union.
            for _ in 0..<30 {
                let filters = (0..<Int.random(in: 2...3, using: &random)).map { _ in
                    Filter(
                        kinds: Bool.random(using: &random) ? Set(pick(kinds, &random)) : nil,
                        tags: Bool.random(using: &random) ? [UInt8(ascii: "t"): Set(pick(topics, &random))] : [:],
                        limit: Int.random(in: 1...40, using: &random))
                }
                var expected: [Event] = []
                for filter in filters {
                    for event in newestOrder(live.filter(filter.matches)).prefix(filter.limit!)
                    where !expected.contains(event) {
                        expected.append(event)
                    }
                }
                #expect(try await store.query(filters, maxLimit: 1000, now: testNow).map(\.id) == newestOrder(expected).map(\.id))
                let union = live.filter { event in filters.contains { $0.matches(event) } }
                #expect(try await store.count(filters, now: testNow) == union.count)
            }
        }
    }
}
