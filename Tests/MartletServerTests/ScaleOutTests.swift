import Foundation
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Several relay nodes on one PostgreSQL database: live fan-out of stored and ephemeral events
/// between them, and the operator's NIP-86 changes holding on every node.
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

    @Test("an ephemeral event published on node A reaches a subscriber on A and one on B once each, and is never stored")
    func ephemeralEventsCrossNodes() async throws {
        let schema = TestPostgres.freshSchema()
        try await TestRelay.with(store: { try await TestPostgres.store(schema: schema) }) { nodeA in
            try await TestRelay.with(store: { try await TestPostgres.store(schema: schema) }) { nodeB in
                let author = Author()
                let filter = #"{"kinds":[20001],"authors":["\#(author.pubkey.hex)"]}"#
                let onA = try await nodeA.connect()
                let onB = try await nodeB.connect()
                #expect(try await onA.query("live", filter).isEmpty)
                #expect(try await onB.query("live", filter).isEmpty)
                // The nodes' feeds take their bearings when the relays start; give them a moment.
                try await Task.sleep(for: .seconds(1))

                let publisher = try await nodeA.connect()
                let small = author.event(kind: 20001, content: "typing")
                // Too large for a PostgreSQL notification: it goes through the table.
                let large = author.event(kind: 20001, content: String(repeating: "large ", count: 3_000))
                for event in [small, large] {
                    #expect(try await publisher.publishAndWait(event).accepted)
                    for subscriber in [onA, onB] {
                        let delivered = try await subscriber.next(timeout: .seconds(10))
                        #expect(delivered.type == "EVENT" && delivered.string(1) == "live")
                        #expect(delivered.object(2)?["id"] as? String == event.id.hex)
                    }
                }
                // The same event sent to B as well is a duplicate there, not a second delivery.
                let publisherOnB = try await nodeB.connect()
                let again = try await publisherOnB.publishAndWait(small)
                #expect(again.accepted && again.message.hasPrefix("duplicate:"))
                // Longer than the feeds' poll interval: nothing comes twice, nothing loops back.
                #expect(try await onA.silence(for: .seconds(2)) == nil)
                #expect(try await onB.silence(for: .milliseconds(500)) == nil)

                #expect(try await publisher.query("later", filter).isEmpty)
                #expect(try await publisherOnB.query("later", filter).isEmpty)
                for client in [onA, onB, publisher, publisherOnB] { await client.close() }
            }
        }
        try await TestPostgres.dropSchema(schema)
    }

    @Test("NIP-86 changes through node A hold on node B's open connections within seconds, without a restart")
    func managementChangesCrossNodes() async throws {
        let admin = Author()
        let configure: (inout RelayConfiguration) -> Void = { $0.management.adminPubkeys = [admin.pubkey] }
        let schema = TestPostgres.freshSchema()
        try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) { nodeA in
            try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) {
                nodeB in
                let author = Author()
                let client = try await nodeB.connect()
                #expect(try await client.publishAndWait(author.event(content: "before")).accepted)

                #expect(try await nodeA.manage("banpubkey", [author.pubkey.hex, "spam"], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { nodeB.relay.access.isBanned(author.pubkey) }
                #expect(try await client.refusal(of: author.event(content: "banned"))?.hasPrefix("blocked:") == true)

                #expect(try await nodeA.manage("unbanpubkey", [author.pubkey.hex], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { !nodeB.relay.access.isBanned(author.pubkey) }
                #expect(try await client.publishAndWait(author.event(content: "unbanned")).accepted)

                #expect(try await nodeA.manage("disallowkind", [7], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { !nodeB.relay.access.accepts(7) }
                #expect(try await client.refusal(of: author.event(kind: 7, content: "+"))?.hasPrefix("blocked:") == true)

                #expect(try await nodeA.manage("blockip", ["127.0.0.1", "abuse"], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { nodeB.relay.access.isBlocked(ip: "127.0.0.1") }
                #expect(try await client.refusal(of: author.event(content: "blocked"))?.hasPrefix("blocked:") == true)
                try await client.send(#"["REQ","r",{}]"#)
                #expect(try await client.closedReason("r").hasPrefix("blocked:"))
                #expect(try await nodeA.manage("unblockip", ["127.0.0.1"], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { !nodeB.relay.access.isBlocked(ip: "127.0.0.1") }
                #expect(try await client.publishAndWait(author.event(content: "unblocked")).accepted)

                #expect(try await nodeA.manage("changerelayname", ["Renamed everywhere"], as: admin).succeeded)
                await waitUntil(timeout: .seconds(5)) { nodeB.relay.info.current.name == "Renamed everywhere" }
                #expect(nodeB.relay.info.current.name == "Renamed everywhere")
                await client.close()
            }
        }
        try await TestPostgres.dropSchema(schema)
    }
}
