import Negentropy
import Testing

/// A store that implements only what the protocol requires, as a database-backed
/// snapshot might, leaving fingerprints and bound search to the defaults.
private struct PlainSnapshot: NegentropyStorage {
    let items: [NegentropyItem]
    var count: Int { items.count }
    func item(at index: Int) -> NegentropyItem { items[index] }
}

@Suite("Storage protocol")
struct StorageProtocolTests {
    @Test("a storage with only a count and items by index reconciles like sorted items")
    func defaultsAgreeWithSortedItems() throws {
        let sets = DifferingSets(common: 3_000, eachOwn: 25, timestamps: 0...500, seed: 31)
        let sorted = try SortedItems(sets.initiator)
        let plain = PlainSnapshot(items: sorted.all)

        #expect(plain.fingerprint(of: 10..<2_000) == sorted.fingerprint(of: 10..<2_000))
        let bound = NegentropyBound(timestamp: 250, idPrefix: [0x80])
        #expect(plain.lowerBound(of: bound, in: 0..<plain.count) == sorted.lowerBound(of: bound, in: 0..<sorted.count))

        let initiator = try NegentropyInitiator(storage: plain)
        let responder = try NegentropyResponder(storage: try SortedItems(sets.responder))
        #expect(initiator.initiate() == (try NegentropyInitiator(storage: sorted).initiate()))
        var message = initiator.initiate()
        var have = [NegentropyID]()
        var need = [NegentropyID]()
        for _ in 0..<20 {
            let round = try initiator.reconcile(try responder.reconcile(message))
            have += round.haveIDs
            need += round.needIDs
            guard let next = round.nextMessage else { break }
            message = next
        }
        #expect(Set(have) == Set(sets.onlyInitiator.map(\.id)))
        #expect(Set(need) == Set(sets.onlyResponder.map(\.id)))
    }
}
