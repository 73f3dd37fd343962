import Foundation
import MartletRelay
import MartletStore
import NostrCore

/// A relay that is never run, its subscription index filled with `subscriptionCount` live
/// subscriptions of a `SubscriptionPopulation`, twenty to a session as clients hold them.
/// The relay stands on a SQLite store in a temporary directory, which `remove` deletes.
///
/// ```swift
/// let fixture = SubscriptionFixture(subscriptionCount: 1_000)
/// try fixture.open()
/// fixture.index.matches(fixture.population.hit).count // 4
/// try await fixture.remove()
/// ```
final class SubscriptionFixture {
    let subscriptionCount: Int
    private var opened: (relay: Relay, population: SubscriptionPopulation, directory: URL)?

    init(subscriptionCount: Int) {
        self.subscriptionCount = subscriptionCount
    }

    var index: SubscriptionIndex { unwrapped.relay.subscriptions }
    var population: SubscriptionPopulation { unwrapped.population }

    private var unwrapped: (relay: Relay, population: SubscriptionPopulation, directory: URL) {
        guard let opened else { preconditionFailure("the benchmark's setup opens the fixture") }
        return opened
    }

    func open() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-bench-\(UUID().uuidString)", isDirectory: true)
        let store = try SQLiteEventStore(path: directory.appendingPathComponent("events.sqlite").path)
        let relay = Relay(configuration: RelayConfiguration(), store: store)
        let population = SubscriptionPopulation(count: subscriptionCount)
        var session = relay.makeSession(remoteAddress: "203.0.113.0")
        for (number, filters) in population.filters.enumerated() {
            if number > 0, number.isMultiple(of: 20) {
                session = relay.makeSession(remoteAddress: "203.0.113.\(number / 20 % 250)")
            }
            let id = SubscriptionID("sub-\(number % 20)")
            relay.subscriptions.insert(LiveSubscription(session: session, id: id, filters: filters))
        }
        opened = (relay, population, directory)
        precondition(relay.subscriptions.count == subscriptionCount)
        precondition(relay.subscriptions.matches(population.hit).count == SubscriptionPopulation.hitCount)
        precondition(relay.subscriptions.matches(population.miss).isEmpty)
    }

    func remove() async throws {
        guard let opened else { return }
        self.opened = nil
        try await opened.relay.store.close()
        try FileManager.default.removeItem(at: opened.directory)
    }
}

/// Live subscriptions of the shapes clients keep open, drawn from pools large enough that
/// two random ones rarely share a value, so that only the planted ones want `hit`:
///
/// | share | shape | filed under |
/// |---:|---|---|
/// | 40% | home feed: 20-200 followed authors, kinds 1 and 6 | authors |
/// | 20% | mentions: `#p` of one pubkey, kinds 1, 6, 7, 9735 | `#p` |
/// | 10% | thread: `#e` of one note, kinds 1 and 7 | `#e` |
/// | 15% | hashtag: `#t` of one topic, kind 1 | `#t` |
/// | 9% | profile: one author, kinds 0, 3, 10002 | authors |
/// | 5% | one of kinds 0, 3, 9735, 10002, 30023 | kinds |
/// | 1% | NIP-50 search, or a `since`/`until` window in the past | nothing: tested for every event |
///
/// The first six are planted for `hit`: four want it (a home feed following its author, a
/// mention of its `p`, its thread, its hashtag), two look at it and decline (its author's
/// profile, long-form articles on its hashtag). `miss` is from an author nobody follows,
/// with tags nobody watches, so only the unindexed 1% look at it.
struct SubscriptionPopulation {
    static let hitCount = 4

    let filters: [[Filter]]
    let hit: Event
    let miss: Event

    init(count: Int) {
        var random = SeededRandom(seed: 42)
        let now: Int64 = 1_700_000_000
        let hitAuthor = random.secretKey()
        let hitMention = PublicKey(random.bytes32())
        let hitThread = EventID(random.bytes32())
        hit = Event.signed(
            by: hitAuthor, kind: .textNote, createdAt: now,
            tags: [["e", hitThread.hex, "", "root"], ["p", hitMention.hex], ["t", "nostr"], ["t", "swift"]],
            content: "Replying in the thread: the subscription index files each filter once. #nostr #swift")
        miss = Event.signed(
            by: random.secretKey(), kind: .textNote, createdAt: now,
            tags: [
                ["e", EventID(random.bytes32()).hex, "", "root"], ["p", PublicKey(random.bytes32()).hex],
                ["t", "zig"],
            ],
            content: "A note nobody subscribed to: only the unindexed filters look at it. #zig")

        let authors = (0..<20_000).map { _ in PublicKey(random.bytes32()) }
        let t = UInt8(ascii: "t")
        var filters: [[Filter]] = [
            [Filter(authors: Set(authors.prefix(99) + [hitAuthor.publicKey]), kinds: [1, 6])],
            [Filter(kinds: [1, 6, 7, 9735], tags: [UInt8(ascii: "p"): [hitMention.hex]])],
            [Filter(kinds: [1, 7], tags: [UInt8(ascii: "e"): [hitThread.hex]])],
            [Filter(kinds: [1], tags: [t: ["nostr"]])],
            [Filter(authors: [hitAuthor.publicKey], kinds: [0, 3, 10002])],
            [Filter(kinds: [30023], tags: [t: ["nostr"]])],
        ]
        filters.reserveCapacity(count)
        while filters.count < count {
            filters.append([Self.randomFilter(authors: authors, now: now, random: &random)])
        }
        self.filters = Array(filters.prefix(count))
    }

    static func randomFilter(authors: [PublicKey], now: Int64, random: inout SeededRandom) -> Filter {
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<40:
            let follows = (0..<Int.random(in: 20...200, using: &random)).map { _ in
                authors.randomElement(using: &random)!
            }
            return Filter(authors: Set(follows), kinds: [1, 6])
        case 40..<60:
            return Filter(kinds: [1, 6, 7, 9735], tags: [UInt8(ascii: "p"): [PublicKey(random.bytes32()).hex]])
        case 60..<70:
            return Filter(kinds: [1, 7], tags: [UInt8(ascii: "e"): [EventID(random.bytes32()).hex]])
        case 70..<85:
            return Filter(kinds: [1], tags: [UInt8(ascii: "t"): ["topic\(Int.random(in: 0..<2_000, using: &random))"]])
        case 85..<94:
            return Filter(authors: [authors.randomElement(using: &random)!], kinds: [0, 3, 10002])
        case 94..<99:
            let kinds: [Kind] = [0, 3, 9735, 10002, 30023]
            return Filter(kinds: [kinds.randomElement(using: &random)!])
        default:
            if Bool.random(using: &random) {
                let first = Int.random(in: 0..<2_000, using: &random)
                return Filter(search: "topic\(first) topic\(first + 1)")
            }
            return Filter(since: now - 2 * 86_400, until: now - 86_400)
        }
    }
}
