import DHTTestSupport
import Foundation
import MartletDHT
import MartletDiscovery
import MartletTestSupport
import NostrCore
import Testing

/// NIP-65 lists in the DHT under a key derived from the user's pubkey (docs/discovery.md):
/// "a user's relay list ... signed with their Nostr key and verified by every reader".
@Suite("Users' relay lists in the DHT", .serialized)
struct UserRelayListTests {
    let alice = SecretKey.generate()

    func list(by author: SecretKey, relays: [String], createdAt: Int64 = Discovery.unixTime()) -> Event {
        Event.signed(by: author, kind: 10002, createdAt: createdAt, tags: relays.map { ["r", $0] }, content: "")
    }

    @Test("relay A puts the list of a user it serves; relay B finds it from the pubkey alone and verifies it")
    func foundFromThePubkey() async throws {
        let event = list(by: alice, relays: ["ws://127.0.0.1:1/", "wss://other.example"])
        try await withLoopbackNodes(3) { nodes in
            let seeds = nodes.map(\.localAddress)
            for node in nodes { await node.bootstrap(seeds) }
            let a = DiscoveryServiceTests.discovery(url: "ws://127.0.0.1:1/", bootstrap: seeds, servedLists: { [event] })
            let b = DiscoveryServiceTests.discovery(url: "ws://127.0.0.1:2/", bootstrap: seeds)
            let running = [Task { try await a.run() }, Task { try await b.run() }]
            defer { for task in running { task.cancel() } }

            var found: Event?
            let seen = await waitUntil(timeout: .seconds(60)) {
                found = await b.relayList(of: alice.publicKey)
                return found != nil
            }
            #expect(seen && found?.id == event.id)
            #expect(found.map(UserRelayList.relays) == ["ws://127.0.0.1:1/", "wss://other.example"])
            // A counts a round's puts when the round ends, which may be after B found the list.
            #expect(await waitUntil(timeout: .seconds(30)) { a.relayListsPut >= 1 })
            for task in running { task.cancel() }
            for task in running { _ = try? await task.value }
        }
    }

    @Test("a list under the user's key that the user did not sign is not believed")
    func forgeriesAreRefused() throws {
        let mallory = SecretKey.generate()
        let key = UserRelayList.key(for: alice.publicKey)
        // Anyone can sign under the derived key: the item is valid BEP 44, but it is Mallory's event.
        let theirs = list(by: mallory, relays: ["wss://mallory.example"])
        let forged = try MutableItem.signed(value: .bytes(theirs.json), sequence: theirs.createdAt, key: key)
        #expect(forged.isSignatureValid)
        #expect(UserRelayList.verified(forged, author: alice.publicKey) == nil)

        // Alice's own event with one relay changed: the id no longer matches.
        let genuine = list(by: alice, relays: ["wss://alice.example"])
        let tampered = Array(genuine.jsonString.replacingOccurrences(of: "alice.example", with: "evil0.example").utf8)
        let item = try MutableItem.signed(value: .bytes(tampered), sequence: genuine.createdAt, key: key)
        #expect(UserRelayList.verified(item, author: alice.publicKey) == nil)

        // A kind 3 of Alice's is not a relay list.
        let follows = Event.signed(by: alice, kind: 3, createdAt: 1, tags: [], content: "")
        #expect(UserRelayList.item(for: follows) == nil)
        let unchecked = try MutableItem.signed(value: .bytes(follows.json), sequence: 1, key: key)
        #expect(UserRelayList.verified(unchecked, author: alice.publicKey) == nil)

        // The genuine one passes, and its seq is its created_at.
        let real = try #require(UserRelayList.item(for: genuine))
        #expect(real.sequence == genuine.createdAt)
        #expect(UserRelayList.verified(real, author: alice.publicKey)?.id == genuine.id)
    }

    @Test("a list too large for BEP 44's 1,000 bytes is not put")
    func tooLarge() {
        let big = list(by: alice, relays: (0..<20).map { "wss://relay-number-\($0).example.com" })
        #expect(UserRelayList.item(for: big) == nil)
    }
}
