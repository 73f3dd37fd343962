import Foundation
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import NostrCore
import Testing

/// `martlet sync`'s core: "Given these IDs, the client can upload events it has with
/// EVENT, and/or download events it needs with REQ" (NIP-77).
@Suite("NIP-77 relay-to-relay sync")
struct NIP77SyncTests {
    @Test("two relays that differ by 10% in both directions hold the same events after one sync")
    func convergesBothWays() async throws {
        let author = Author()
        let events = (0..<1000).map { author.event(content: "event \($0)", createdAt: now() - Int64($0 % 300)) }
        let onlyHere = Array(events[0..<100])
        let onlyThere = Array(events[100..<200])
        let common = Array(events[200...])
        try await TestRelay.with { here in
            try await TestRelay.with { there in
                _ = try await here.relay.store.save(onlyHere + common)
                _ = try await there.relay.store.save(onlyThere + common)

                let report = try await RelaySync(relay: here.relay, remote: there.url).run()
                #expect(report.have == 100)
                #expect(report.need == 100)
                #expect(report.downloaded == 100)
                #expect(report.uploaded == 100)
                #expect(report.rejected == 0)
                #expect(report.description == "sync: have 100, need 100, downloaded 100, uploaded 100, rejected 0")

                let union = Set(events.map(\.id))
                #expect(try await ids(in: here.relay.store) == union)
                #expect(try await ids(in: there.relay.store) == union)

                let again = try await RelaySync(relay: here.relay, remote: there.url).run()
                #expect(again.have == 0 && again.need == 0)
            }
        }
    }

    @Test("direction down only fetches, direction up only publishes")
    func directions() async throws {
        let author = Author()
        let here1 = author.event(content: "only here")
        let there1 = author.event(content: "only there")
        try await TestRelay.with { here in
            try await TestRelay.with { there in
                _ = try await here.relay.store.save([here1])
                _ = try await there.relay.store.save([there1])
                var options = RelaySync.Options()
                options.direction = .down
                let down = try await RelaySync(relay: here.relay, remote: there.url, options: options).run()
                #expect(down.downloaded == 1 && down.uploaded == 0)
                #expect(try await ids(in: here.relay.store) == [here1.id, there1.id])
                #expect(try await ids(in: there.relay.store) == [there1.id])

                options.direction = .up
                let up = try await RelaySync(relay: here.relay, remote: there.url, options: options).run()
                #expect(up.have == 1 && up.need == 0 && up.uploaded == 1)
                #expect(try await ids(in: there.relay.store) == [here1.id, there1.id])
            }
        }
    }

    @Test("only events matching the sync filter take part")
    func filter() async throws {
        let author = Author()
        let note = author.event(kind: 1, content: "note")
        let reaction = author.event(kind: 7, content: "+")
        try await TestRelay.with { here in
            try await TestRelay.with { there in
                _ = try await there.relay.store.save([note, reaction])
                var options = RelaySync.Options()
                options.filter = Filter(kinds: [7])
                let report = try await RelaySync(relay: here.relay, remote: there.url, options: options).run()
                #expect(report.need == 1 && report.downloaded == 1)
                #expect(try await ids(in: here.relay.store) == [reaction.id])
            }
        }
    }

    @Test("a downloaded event that breaks this side's limits is counted rejected, not stored")
    func downloadsPassThePolicy() async throws {
        let author = Author()
        let recent = author.event(content: "recent")
        let old = author.event(content: "ten days old", createdAt: now() - 10 * 86_400)
        try await TestRelay.with(configure: { $0.limits.createdAtLowerLimit = 86_400 }) { here in
            try await TestRelay.with { there in
                _ = try await there.relay.store.save([recent, old])
                let report = try await RelaySync(relay: here.relay, remote: there.url).run()
                #expect(report.need == 2 && report.downloaded == 1 && report.rejected == 1)
                #expect(try await ids(in: here.relay.store) == [recent.id])
            }
        }
    }

    @Test("a relay that refuses the NEG-OPEN fails the sync with its NEG-ERR reason")
    func refusedSync() async throws {
        try await TestRelay.with { here in
            try await TestRelay.with(configure: { $0.negentropy.maxSessionsPerConnection = 0 }) { there in
                await #expect(throws: RelayClientError.self) {
                    _ = try await RelaySync(relay: here.relay, remote: there.url).run()
                }
            }
        }
    }

    private func ids(in store: any EventStore) async throws -> Set<EventID> {
        Set(try await store.negentropyItems(Filter(), now: now()).map(\.id))
    }
}
