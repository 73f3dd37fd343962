import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// `search.kinds`: which kinds NIP-50 search indexes, on both stores.
extension StoreContract {
    @Test(
        "search.kinds: only the kinds named are found; opening with another rule rebuilds the index",
        arguments: storeFactories)
    func searchableKindsRebuildTheIndex(_ factory: any StoreFactory) async throws {
        var store = try await factory.makeStore()
        do {
            let author = Author()
            let note = author.event(kind: .textNote, content: "swift relays", createdAt: testTime)
            let article = author.event(
                kind: Kind(30023), content: "a long swift article", tags: [["d", "article"]], createdAt: testTime + 1)
            let reaction = author.event(kind: .reaction, content: "swift", tags: [["e", note.id.hex]], createdAt: testTime + 2)
            _ = try await store.save([note, article, reaction])
            func found() async throws -> Set<EventID> {
                Set(try await store.query(Filter(limit: 50, search: "swift")).map(\.id))
            }
            #expect(try await found() == [note.id, article.id, reaction.id])

            store = try await factory.reopen(store, searchableKinds: SearchableKinds(only: [.textNote, Kind(30023)]))
            #expect(try await found() == [note.id, article.id])
            // New events follow the rule too, and a removal keeps the index whole.
            let laterNote = author.event(kind: .textNote, content: "swift again", createdAt: testTime + 3)
            let laterReaction = author.event(
                kind: .reaction, content: "swift", tags: [["e", laterNote.id.hex]], createdAt: testTime + 4)
            _ = try await store.save([laterNote, laterReaction])
            #expect(try await found() == [note.id, article.id, laterNote.id])
            #expect(try await store.remove([note.id, laterReaction.id]) == 2)
            #expect(try await found() == [article.id, laterNote.id])

            store = try await factory.reopen(store, searchableKinds: .all)
            #expect(try await found() == [article.id, reaction.id, laterNote.id])
            try await factory.dispose(store)
        } catch {
            try? await factory.dispose(store)
            throw error
        }
    }
}
