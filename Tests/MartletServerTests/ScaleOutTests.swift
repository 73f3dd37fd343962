import Foundation
import MartletStore
import NostrCore
import Testing

/// Several relay nodes on one PostgreSQL database: live fan-out between them.
@Suite("Scaling out: relay nodes on one PostgreSQL", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct ScaleOutTests {
    @Test("a subscriber on node A receives an event published on node B, and A's own events once")
    func liveEventsCrossNodes() async throws {
        let schema = TestPostgres.freshSchema()
        try await TestRelay.with(store: { try await TestPostgres.store(schema: schema) }) { nodeA in
            try await TestRelay.with(store: { try await TestPostgres.store(schema: schema) }) { nodeB in
                let subscriber = try await nodeA.connect()
                let author = Author()
                _ = try await subscriber.query("live", #"{"authors":["\#(author.pubkey.hex)"]}"#)
                // The node's feed takes its bearings when the relay starts; give it a moment.
                try await Task.sleep(for: .seconds(1))

                let publisherOnB = try await nodeB.connect()
                let fromB = author.event(content: "published on B")
                #expect(try await publisherOnB.publishAndWait(fromB).accepted)
                let delivered = try await subscriber.next(timeout: .seconds(10))
                #expect(delivered.type == "EVENT")
                #expect(delivered.object(2)?["id"] as? String == fromB.id.hex)

                let publisherOnA = try await nodeA.connect()
                let fromA = author.event(content: "published on A")
                #expect(try await publisherOnA.publishAndWait(fromA).accepted)
                let local = try await subscriber.next(timeout: .seconds(5))
                #expect(local.object(2)?["id"] as? String == fromA.id.hex)
                // Longer than the feed's poll interval: the feed must not bring it back.
                #expect(try await subscriber.silence(for: .seconds(2)) == nil)

                // And the stored events are the same from either node.
                let fromEither = try await publisherOnB.query("q", #"{"authors":["\#(author.pubkey.hex)"]}"#)
                #expect(Set(fromEither.ids) == [fromA.id.hex, fromB.id.hex])
                await subscriber.close()
                await publisherOnA.close()
                await publisherOnB.close()
            }
        }
        try await TestPostgres.dropSchema(schema)
    }
}
