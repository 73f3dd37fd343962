import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// NIP-01: "OK messages MUST be sent in response to EVENT messages received from clients".
@Suite("NIP-01 publishing")
struct NIP01PublishTests {
    @Test("an accepted EVENT is answered OK true and served by a later REQ")
    func acceptedEventIsServed() async throws {
        try await SessionRelay.withClient { _, client in
            let event = Author().event(content: "first note")
            let answer = try await client.publishAndWait(event)
            #expect(answer.accepted)
            #expect(answer.message == "")
            let events = try await client.query("q", #"{"ids":["\#(event.id.hex)"]}"#)
            #expect(events.ids == [event.id.hex])
            #expect(events.first?["content"] as? String == "first note")
        }
    }

    @Test("the relay serves the stored event bytes verbatim")
    func servedBytesAreVerbatim() async throws {
        try await SessionRelay.withClient { _, client in
            let event = Author().event(content: "emoji 🐦 and \"quotes\"\n", tags: [["t", "swift"]])
            _ = try await client.publishAndWait(event)
            try await client.request("q", #"{"ids":["\#(event.id.hex)"]}"#)
            let frame = try await client.next()
            #expect(frame.raw == #"["EVENT","q","# + event.jsonString + "]")
        }
    }

    @Test("a duplicate event is answered OK true with the duplicate: prefix")
    func duplicate() async throws {
        try await SessionRelay.withClient { _, client in
            let event = Author().event()
            #expect(try await client.publishAndWait(event).accepted)
            let again = try await client.publishAndWait(event)
            #expect(again.accepted)
            #expect(again.message.hasPrefix("duplicate:"))
        }
    }

    @Test("an event with a bad signature is answered OK false with the invalid: prefix")
    func badSignature() async throws {
        try await SessionRelay.withClient { _, client throws in
            let event = Author().event()
            var json = event.jsonString
            let sig = event.sig.hex
            let flipped = String(sig.prefix(127)) + (sig.last == "0" ? "1" : "0")
            json = json.replacingOccurrences(of: sig, with: flipped)
            #expect(try await client.refusal(ofJSON: json, id: event.id)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("an event whose id is not the hash of its fields is answered OK false invalid:")
    func wrongID() async throws {
        try await SessionRelay.withClient { _, client throws in
            let event = Author().event(content: "original")
            let json = event.jsonString.replacingOccurrences(of: "original", with: "tampered")
            #expect(try await client.refusal(ofJSON: json, id: event.id)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("a malformed EVENT whose id can be read is answered OK false with a reason")
    func malformedEventWithID() async throws {
        try await SessionRelay.withClient { _, client throws in
            let id = String(repeating: "ab", count: 32)
            let malformed = #"{"id":"\#(id)","kind":"one"}"#
            #expect(try await client.refusal(ofJSON: malformed, id: EventID(hex: id)!)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("ephemeral events are delivered live and never stored")
    func ephemeral() async throws {
        try await SessionRelay.with { relay in
            let subscriber = relay.connect()
            let publisher = relay.connect()
            _ = try await subscriber.query("live", #"{"kinds":[20001]}"#)
            let event = Author().event(kind: 20001, content: "typing…")
            #expect(try await publisher.publishAndWait(event).accepted)
            #expect(try await subscriber.nextEventID() == event.id.hex)
            let stored = try await publisher.query("later", #"{"kinds":[20001]}"#)
            #expect(stored.isEmpty)
        }
    }

    @Test("a replaceable event keeps only the newest version per pubkey and kind")
    func replaceable() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            let older = author.event(kind: 0, content: "old", createdAt: now() - 100)
            let newer = author.event(kind: 0, content: "new", createdAt: now() - 10)
            #expect(try await client.publishAndWait(newer).accepted)
            let late = try await client.publishAndWait(older)
            #expect(late.message.hasPrefix("duplicate:"))
            let events = try await client.query("m", #"{"kinds":[0],"authors":["\#(author.pubkey.hex)"]}"#)
            #expect(events.ids == [newer.id.hex])
        }
    }

    @Test("an addressable event keeps only the newest version per pubkey, kind and d tag")
    func addressable() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            let a1 = author.event(kind: 30023, content: "a v1", tags: [["d", "a"]], createdAt: now() - 100)
            let a2 = author.event(kind: 30023, content: "a v2", tags: [["d", "a"]], createdAt: now() - 50)
            let b1 = author.event(kind: 30023, content: "b v1", tags: [["d", "b"]], createdAt: now() - 100)
            for event in [a1, a2, b1] { _ = try await client.publishAndWait(event) }
            let events = try await client.query("m", #"{"kinds":[30023],"authors":["\#(author.pubkey.hex)"]}"#)
            #expect(Set(events.ids) == [a2.id.hex, b1.id.hex])
        }
    }

    @Test("replaceable events with the same created_at keep the lowest id")
    func replaceableTie() async throws {
        try await SessionRelay.withClient { _, client in
            let author = Author()
            let at = now() - 5
            let first = author.event(kind: 10002, content: "x", createdAt: at)
            let second = author.event(kind: 10002, content: "y", createdAt: at)
            for event in [first, second] { _ = try await client.publishAndWait(event) }
            let events = try await client.query("m", #"{"kinds":[10002],"authors":["\#(author.pubkey.hex)"]}"#)
            #expect(events.ids == [min(first.id, second.id).hex])
        }
    }
}
