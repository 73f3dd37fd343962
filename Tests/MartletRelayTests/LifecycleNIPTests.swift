import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// NIP-09 deletion, NIP-40 expiration and NIP-45 COUNT, end to end.
@Suite("Event lifecycle: NIP-09, NIP-40, NIP-45")
struct LifecycleNIPTests {
    @Test("NIP-09: a deletion request removes the author's events named by e tags and is itself served")
    func deletionByE() async throws {
        try await SessionRelay.withClient { _, client in
            let alice = Author()
            let mallory = Author()
            let note = alice.event(content: "oops")
            let other = mallory.event(content: "not yours")
            _ = try await client.publishAndWait(note)
            _ = try await client.publishAndWait(other)
            let deletion = alice.event(kind: 5, content: "", tags: [["e", note.id.hex], ["e", other.id.hex], ["k", "1"]])
            #expect(try await client.publishAndWait(deletion).accepted)
            let served = try await client.query("q", #"{"ids":["\#(note.id.hex)","\#(other.id.hex)","\#(deletion.id.hex)"]}"#)
            #expect(Set(served.ids) == [other.id.hex, deletion.id.hex])
            // Sent again, the deleted event is refused.
            let again = try await client.publishAndWait(note)
            #expect(!again.accepted)
        }
    }

    @Test("NIP-09: an a tag deletes versions of an addressable event up to the deletion's created_at")
    func deletionByA() async throws {
        try await SessionRelay.withClient { _, client in
            let alice = Author()
            let article = alice.event(kind: 30023, content: "v1", tags: [["d", "post"]], createdAt: now() - 100)
            _ = try await client.publishAndWait(article)
            let address = "30023:\(alice.pubkey.hex):post"
            let deletion = alice.event(kind: 5, tags: [["a", address]], createdAt: now() - 50)
            _ = try await client.publishAndWait(deletion)
            #expect(try await client.query("q", #"{"kinds":[30023],"authors":["\#(alice.pubkey.hex)"]}"#).isEmpty)
            let newer = alice.event(kind: 30023, content: "v2", tags: [["d", "post"]], createdAt: now() - 10)
            #expect(try await client.publishAndWait(newer).accepted)
            let served = try await client.query("r", #"{"kinds":[30023],"authors":["\#(alice.pubkey.hex)"]}"#)
            #expect(served.ids == [newer.id.hex])
        }
    }

    @Test("NIP-40: an event that has already expired is refused with invalid:")
    func expiredRefused() async throws {
        try await SessionRelay.withClient { _, client throws in
            let event = Author().event(tags: [["expiration", String(now() - 10)]])
            #expect(try await client.refusal(of: event)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("NIP-40: an expired event is no longer served, and is purged")
    func expiredNotServed() async throws {
        let clock = Locked<Int64>(now())
        try await SessionRelay.withClient(clock: { clock.withLock { $0 } }) { relay, client in
            let start = clock.withLock { $0 }
            let author = Author()
            let expiring = author.event(tags: [["expiration", String(start + 60)]], createdAt: start)
            let lasting = author.event(content: "stays", createdAt: start)
            _ = try await client.publishAndWait(expiring)
            _ = try await client.publishAndWait(lasting)
            #expect(try await client.query("a", #"{"authors":["\#(author.pubkey.hex)"]}"#).count == 2)
            clock.withLock { $0 = start + 61 }
            #expect(try await client.query("b", #"{"authors":["\#(author.pubkey.hex)"]}"#).ids == [lasting.id.hex])
            // The purge runs every second in tests.
            var stored = try await relay.relay.store.stats().eventCount
            for _ in 0..<30 where stored != 1 {
                try await Task.sleep(for: .milliseconds(200))
                stored = try await relay.relay.store.stats().eventCount
            }
            #expect(stored == 1)
        }
    }

    @Test("NIP-45: COUNT answers the exact number of matching events")
    func count() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            for index in 0..<7 { _ = try await client.publishAndWait(author.event(kind: index < 4 ? 1 : 7, content: "n\(index)")) }
            try await client.send(#"["COUNT","c",{"authors":["\#(author.pubkey.hex)"],"kinds":[1]}]"#)
            let message = try await client.next()
            #expect(message.type == "COUNT" && message.string(1) == "c")
            #expect(message.object(2)?["count"] as? Int == 4)
            try await client.send(#"["COUNT","d",{"kinds":[1]},{"authors":["\#(author.pubkey.hex)"]}]"#)
            let union = try await client.next()
            #expect(union.object(2)?["count"] as? Int == 7)
        }
    }
}
