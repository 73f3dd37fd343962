import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// NIP-01 REQ / EOSE / CLOSE semantics.
@Suite("NIP-01 subscriptions")
struct NIP01SubscriptionTests {
    @Test("stored events come newest first, ties broken by the lowest id")
    func newestFirst() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            let base = now() - 1000
            var events = (0..<5).map { author.event(content: "n\($0)", createdAt: base + Int64($0)) }
            events += (0..<3).map { author.event(content: "tie\($0)", createdAt: base + 2) }
            for event in events.shuffled() { _ = try await client.publishAndWait(event) }
            let served = try await client.query("s", #"{"authors":["\#(author.pubkey.hex)"]}"#)
            let expected = events.sorted { ($0.createdAt, $1.id) > ($1.createdAt, $0.id) }.map(\.id.hex)
            #expect(served.ids == expected)
        }
    }

    @Test("limit applies to the initial query only; live events still arrive after EOSE")
    func limitOnInitialQueryOnly() async throws {
        try await SessionRelay.withClient { relay, client in
            let publisher = relay.connect()
            let author = Author()
            for offset in 0..<5 { _ = try await publisher.publishAndWait(author.event(content: "n\(offset)", createdAt: now() - 100 + Int64(offset))) }
            let initial = try await client.query("s", #"{"authors":["\#(author.pubkey.hex)"],"limit":2}"#)
            #expect(initial.count == 2)
            let live = (0..<3).map { author.event(content: "live \($0)") }
            for event in live { _ = try await publisher.publishAndWait(event) }
            var received: Set<String> = []
            for _ in 0..<3 { received.insert(try await client.nextEventID()) }
            #expect(received == Set(live.map(\.id.hex)))
        }
    }

    @Test("exactly one EOSE is sent per REQ")
    func exactlyOneEOSE() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            _ = try await client.publishAndWait(author.event())
            try await client.request("s", #"{"authors":["\#(author.pubkey.hex)"]}"#, #"{"kinds":[1]}"#)
            var eoseCount = 0
            while eoseCount == 0 {
                if try await client.next().type == "EOSE" { eoseCount += 1 }
            }
            while let message = try await client.silence(for: .milliseconds(500)) {
                if message.type == "EOSE" { eoseCount += 1 }
            }
            #expect(eoseCount == 1)
        }
    }

    @Test("limit 0 returns no stored events but still subscribes")
    func limitZero() async throws {
        try await SessionRelay.withClient { relay, client in
            let author = Author()
            _ = try await client.publishAndWait(author.event())
            let initial = try await client.query("s", #"{"authors":["\#(author.pubkey.hex)"],"limit":0}"#)
            #expect(initial.isEmpty)
            let live = author.event(content: "after")
            let publisher = relay.connect()
            _ = try await publisher.publishAndWait(live)
            #expect(try await client.nextEventID() == live.id.hex)
        }
    }

    @Test("CLOSE stops live delivery for that subscription")
    func closeStopsDelivery() async throws {
        try await SessionRelay.withClient { relay, client in
            let publisher = relay.connect()
            let author = Author()
            _ = try await client.query("s", #"{"authors":["\#(author.pubkey.hex)"]}"#)
            try await client.send(#"["CLOSE","s"]"#)
            try await Task.sleep(for: .milliseconds(100))
            _ = try await publisher.publishAndWait(author.event())
            #expect(try await client.silence() == nil)
        }
    }

    @Test("a REQ reusing a subscription id replaces the old subscription")
    func reqReplacesSubscription() async throws {
        try await SessionRelay.withClient { relay, client in
            let publisher = relay.connect()
            let alice = Author()
            let bob = Author()
            _ = try await client.query("s", #"{"authors":["\#(alice.pubkey.hex)"]}"#)
            _ = try await client.query("s", #"{"authors":["\#(bob.pubkey.hex)"]}"#)
            _ = try await publisher.publishAndWait(alice.event())
            let bobs = bob.event()
            _ = try await publisher.publishAndWait(bobs)
            #expect(try await client.soleEventID() == bobs.id.hex)
        }
    }

    @Test("live events match every filter condition: tags, kinds and time window")
    func liveFiltering() async throws {
        try await SessionRelay.withClient { relay, client in
            let publisher = relay.connect()
            let author = Author()
            _ = try await client.query("t", ##"{"#t":["martlet"],"kinds":[1]}"##)
            _ = try await publisher.publishAndWait(author.event(tags: [["t", "other"]]))
            _ = try await publisher.publishAndWait(author.event(kind: 7, tags: [["t", "martlet"]]))
            let match = author.event(tags: [["t", "martlet"]])
            _ = try await publisher.publishAndWait(match)
            #expect(try await client.soleEventID() == match.id.hex)
        }
    }

    @Test("an event matching several filters of one subscription, or filed under several of its keys, arrives once")
    func liveDeliveryOnce() async throws {
        try await SessionRelay.withClient { relay, client in
            let publisher = relay.connect()
            let author = Author()
            // Filed under the author, under #t, under kind 1 and on the unindexed list: four
            // ways for the same event to become a candidate of this one subscription.
            let filters = [
                #"{"authors":["\#(author.pubkey.hex)"]}"#, ##"{"#t":["martlet"]}"##, #"{"kinds":[1]}"#, #"{"since":1}"#,
            ]
            _ = try await client.query("s", filters[0], filters[1], filters[2], filters[3])
            let event = author.event(tags: [["t", "martlet"]])
            _ = try await publisher.publishAndWait(event)
            #expect(try await client.soleEventID() == event.id.hex)
        }
    }

    @Test("a REQ with more filters than max_filters is answered CLOSED invalid:")
    func tooManyFilters() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxFilters = 2 }) { _, client in
            try await client.request("s", "{}", "{}", "{}")
            #expect(try await client.closedReason("s").hasPrefix("invalid:"))
            #expect(try await client.query("ok", "{}").isEmpty)
        }
    }

    @Test("a REQ past max_subscriptions is answered CLOSED and the others keep working")
    func tooManySubscriptions() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxSubscriptions = 2 }) { _, client in
            _ = try await client.query("a", "{}")
            _ = try await client.query("b", "{}")
            try await client.request("c", "{}")
            #expect(try await client.closedReason("c").hasPrefix("blocked:"))
            // Replacing an existing subscription is not a new one.
            #expect(try await client.query("a", "{}").isEmpty)
        }
    }

    @Test("a REQ with an invalid filter is answered CLOSED with the reason")
    func invalidFilter() async throws {
        try await SessionRelay.withClient { _, client in
            try await client.send(#"["REQ","bad",{"authors":["ABCDEF"]}]"#)
            #expect(try await client.closedReason("bad").hasPrefix("invalid:"))
        }
    }
}
