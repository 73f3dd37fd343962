import Foundation
import NostrCore
import MartletTestSupport
import Testing

/// NIP-50 over WebSocket on both stores: a live event matches a search subscription exactly
/// when the stored one would be found by the same REQ.
@Suite("NIP-50 search")
struct NIP50SearchTests {
    @Test("live events match a search as stored ones do: \"relay\" not in \"unrelayed\", \"cafe\" finds \"café\", extensions ignored (SQLite)")
    func sqlite() async throws {
        try await TestRelay.with { relay in try await Self.scenario(relay) }
    }

    @Test(
        "live events match a search as stored ones do: \"relay\" not in \"unrelayed\", \"cafe\" finds \"café\", extensions ignored (PostgreSQL)",
        .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func postgres() async throws {
        try await TestRelay.withPostgres { relay in
            try await Self.scenario(relay)
        }
    }

    @Test("results come best match first and limit applies after ranking (SQLite)")
    func rankedSQLite() async throws {
        try await TestRelay.with { relay in try await Self.ranking(relay) }
    }

    @Test("results come best match first and limit applies after ranking (PostgreSQL)", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func rankedPostgres() async throws {
        try await TestRelay.withPostgres { relay in
            try await Self.ranking(relay)
        }
    }

    /// NIP-50: "Results SHOULD be returned in descending order by quality of search result
    /// (as defined by the implementation), not by the usual .created_at. The limit filter
    /// SHOULD be applied after sorting by matching score." The best match is the oldest here.
    static func ranking(_ relay: TestRelay) async throws {
        let word = "z" + UUID().uuidString.prefix(8).lowercased()
        let author = Author()
        let best = author.event(content: "\(word) \(word) \(word) \(word)", createdAt: now() - 300)
        let middle = author.event(content: "\(word) and \(word) again, in a longer note", createdAt: now() - 200)
        let weak = author.event(
            content: "a long note about many other things, mentioning \(word) only once near its end", createdAt: now() - 100)
        let client = try await relay.connect()
        for event in [weak, middle, best] { #expect(try await client.publishAndWait(event).accepted) }
        #expect(try await client.query("r", #"{"search":"\#(word)"}"#).ids == [best.id.hex, middle.id.hex, weak.id.hex])
        #expect(try await client.query("one", #"{"search":"\#(word)","limit":1}"#).ids == [best.id.hex])
        // With `ids` too, the events named are still ranked, not sorted by time.
        let named = #"{"ids":["\#(weak.id.hex)","\#(best.id.hex)","\#(middle.id.hex)"],"search":"\#(word)"}"#
        #expect(try await client.query("ids", named).ids == [best.id.hex, middle.id.hex, weak.id.hex])
        let namedOne = #"{"ids":["\#(weak.id.hex)","\#(best.id.hex)"],"search":"\#(word)","limit":1}"#
        #expect(try await client.query("ids1", namedOne).ids == [best.id.hex])
        // NIP-50: "Clients may specify several search filters": each keeps its ranking.
        let two = try await client.query("two", #"{"search":"\#(word)"}"#, #"{"kinds":[1],"search":"\#(word) once"}"#)
        #expect(two.ids == [best.id.hex, middle.id.hex, weak.id.hex])
        await client.close()
    }

    static func scenario(_ relay: TestRelay) async throws {
        let marker = "m" + UUID().uuidString.prefix(8).lowercased()
        let author = Author()
        let notes = [
            author.event(content: "\(marker) a relay in Swift"),
            author.event(content: "\(marker) the unrelayed note"),
            author.event(content: "\(marker) relays everywhere"),
            author.event(content: "\(marker) Le café est ouvert"),
            author.event(content: "\(marker) a cafeteria nearby"),
            author.event(content: "\(marker) de la musique"),
            author.event(content: "\(marker) deux cafés"),
        ]
        // NIP-50: "A query string may contain key:value pairs ... relays SHOULD ignore
        // extensions they don't support."
        let searches = ["relay", "cafe", "de", "relay language:en include:spam", "CAFÉ nsfw:false"]
        let subscriber = try await relay.connect()
        for (index, search) in searches.enumerated() {
            try await subscriber.request("live\(index)", #"{"search":"\#(marker) \#(search)"}"#)
            _ = try await subscriber.eventsUntilEOSE("live\(index)")
        }
        let publisher = try await relay.connect()
        for note in notes { #expect(try await publisher.publishAndWait(note).accepted) }
        // A marker note last on every subscription: what came before it is all that came live.
        let fence = author.event(content: "\(marker) relay cafe de fence")
        #expect(try await publisher.publishAndWait(fence).accepted)

        var live: [String: Set<String>] = [:]
        var fenced = Set<String>()
        while fenced.count < searches.count {
            let message = try await subscriber.next()
            guard message.type == "EVENT", let id = message.object(2)?["id"] as? String, let sub = message.string(1)
            else { continue }
            if id == fence.id.hex { fenced.insert(sub) } else { live[sub, default: []].insert(id) }
        }
        let reader = try await relay.connect()
        for (index, search) in searches.enumerated() {
            let stored = Set(try await reader.query("s\(index)", #"{"search":"\#(marker) \#(search)"}"#).ids)
                .subtracting([fence.id.hex])
            #expect(live["live\(index)", default: []] == stored, "\(search)")
        }
        let expected: [String: [Event]] = [
            "relay": [notes[0], notes[2]],
            "cafe": [notes[3], notes[4], notes[6]],
            "de": [notes[5]],
        ]
        for (search, events) in expected {
            let index = try #require(searches.firstIndex(of: search))
            #expect(live["live\(index)", default: []] == Set(events.map(\.id.hex)), "\(search)")
        }
        #expect(live["live3"] == live["live0"], "extensions are ignored")
        #expect(live["live4"] == live["live1"], "extensions are ignored")
        await subscriber.close()
        await publisher.close()
        await reader.close()
    }
}
