import Foundation
import MartletTestSupport
import Negentropy
import NostrCore
import Testing

/// NIP-77: "Relay selects the set of events that it has locally that match the filter …
/// constructs a response and returns it to the client in a NEG-MSG message."
@Suite("NIP-77 negentropy sessions")
struct NIP77Tests {
    @Test("NEG-OPEN on an empty store is answered NEG-MSG, and the client learns there is nothing to exchange")
    func openOnEmptyStore() async throws {
        try await SessionRelay.withClient { _, client in
            let result = try await client.reconcile(items: [])
            #expect(result.have.isEmpty && result.need.isEmpty)
            #expect(result.rounds == 1)
        }
    }

    @Test("NEG-OPEN on a non-empty store: a client with nothing learns every matching id as needed")
    func openOnNonEmptyStore() async throws {
        try await SessionRelay.with { relay in
            let author = Author()
            let notes = (0..<20).map { author.event(content: "note \($0)", createdAt: now() - Int64($0)) }
            let reactions = (0..<5).map { author.event(kind: 7, content: "+", createdAt: now() - Int64($0)) }
            _ = try await relay.relay.store.save(notes + reactions)
            let client = relay.connect()
            let result = try await client.reconcile(filter: #"{"kinds":[1]}"#, items: [])
            #expect(result.need == Set(notes.map(\.id.hex)))
            #expect(result.have.isEmpty)
        }
    }

    @Test("a full reconciliation finds exactly the ids each side lacks, over several rounds")
    func fullReconciliation() async throws {
        try await SessionRelay.with(configure: { $0.negentropy.frameSizeLimit = 4096 }) { relay in
            let author = Author()
            let events = (0..<3000).map { author.event(content: "event \($0)", createdAt: now() - Int64($0 % 500)) }
            let relayOnly = events[0..<150]
            let common = events[150..<2850]
            let clientOnly = events[2850...]
            _ = try await relay.relay.store.save(Array(relayOnly + common))
            let client = relay.connect()
            let result = try await client.reconcile(items: Array(common + clientOnly), frameSizeLimit: 4096)
            #expect(result.need == Set(relayOnly.map(\.id.hex)))
            #expect(result.have == Set(clientOnly.map(\.id.hex)))
            #expect(result.rounds > 1, "a 4 KB frame limit cannot settle 3000 items in one round")
        }
    }

    @Test("a NEG-OPEN beyond the sessions a connection may hold is answered NEG-ERR with blocked:")
    func sessionLimit() async throws {
        try await SessionRelay.withClient(configure: { $0.negentropy.maxSessionsPerConnection = 2 }) { _, client in
            let initial = NegentropyHex.encode(try NegentropyInitiator(storage: SortedItems([])).initiate())
            #expect(try await client.negOpen("a", initial).type == "NEG-MSG")
            #expect(try await client.negOpen("b", initial).type == "NEG-MSG")
            let third = try await client.negOpen("c", initial)
            #expect(third.type == "NEG-ERR")
            #expect(third.string(2)?.hasPrefix("blocked:") == true)
            // "If a NEG-OPEN is issued for a currently open subscription ID, the existing
            // subscription is first closed": reusing an id does not count as a third.
            #expect(try await client.negOpen("b", initial).type == "NEG-MSG")
            try await client.send(#"["NEG-CLOSE","a"]"#)
            #expect(try await client.negOpen("c", initial).type == "NEG-MSG")
        }
    }

    @Test("a NEG-OPEN whose filter matches more records than the relay allows is answered NEG-ERR with blocked:")
    func recordCap() async throws {
        try await SessionRelay.with(configure: { $0.negentropy.maxRecords = 5 }) { relay in
            let author = Author()
            let notes = (0..<4).map { author.event(content: "note \($0)") }
            let reactions = (0..<3).map { author.event(kind: 7, content: "+\($0)") }
            _ = try await relay.relay.store.save(notes + reactions)
            let client = relay.connect()
            let initial = NegentropyHex.encode(try NegentropyInitiator(storage: SortedItems([])).initiate())
            let everything = try await client.negOpen("all", initial)
            #expect(everything.type == "NEG-ERR")
            #expect(everything.string(2)?.hasPrefix("blocked:") == true)
            let notesOnly = try await client.negOpen("notes", initial, filter: #"{"kinds":[1]}"#)
            #expect(notesOnly.type == "NEG-MSG")
        }
    }

    @Test("after NEG-CLOSE the session is gone: a NEG-MSG for it is answered NEG-ERR with closed:")
    func negClose() async throws {
        try await SessionRelay.withClient { _, client in
            let initiator = try NegentropyInitiator(storage: SortedItems([]))
            let initial = NegentropyHex.encode(initiator.initiate())
            #expect(try await client.negOpen("s", initial).type == "NEG-MSG")
            try await client.send(#"["NEG-CLOSE","s"]"#)
            let answer = try await client.negMsg("s", initial)
            #expect(answer.type == "NEG-ERR")
            #expect(answer.string(2)?.hasPrefix("closed:") == true)
        }
    }

    @Test("a session idle past the relay's timeout is closed: its next NEG-MSG is answered NEG-ERR with closed:")
    func idleTimeout() async throws {
        // Long enough that a loaded CI machine (the fuzz test runs beside this one) keeps the
        // "quick" session alive between its two messages: 1.5 s was not, once.
        try await SessionRelay.withClient(configure: { $0.negentropy.idleTimeout = .seconds(5) }) { _, client in
            let initial = NegentropyHex.encode(try NegentropyInitiator(storage: SortedItems([])).initiate())
            #expect(try await client.negOpen("slow", initial).type == "NEG-MSG")
            #expect(try await client.negOpen("quick", initial).type == "NEG-MSG")
            #expect(try await client.negMsg("quick", initial).type == "NEG-MSG")
            try await Task.sleep(for: .seconds(11))
            let answer = try await client.negMsg("slow", initial)
            #expect(answer.type == "NEG-ERR")
            #expect(answer.string(2)?.hasPrefix("closed:") == true)
            #expect(answer.string(2)?.contains("idle") == true)
        }
    }

    @Test("a malformed NEG-MSG is answered NEG-ERR with a reason, and the session is closed")
    func malformedMessages() async throws {
        try await SessionRelay.withClient { _, client in
            let initial = NegentropyHex.encode(try NegentropyInitiator(storage: SortedItems([])).initiate())
            #expect(try await client.negOpen("s", initial).type == "NEG-MSG")
            // Hex that is not a negentropy message: a varint cut off after its first byte.
            let truncated = try await client.negMsg("s", "6180")
            #expect(truncated.type == "NEG-ERR")
            #expect(truncated.string(2)?.hasPrefix("invalid:") == true)
            #expect(try await client.negMsg("s", initial).string(2)?.hasPrefix("closed:") == true)
            // Not hex at all: refused while decoding the message, still answered NEG-ERR.
            #expect(try await client.negOpen("t", initial).type == "NEG-MSG")
            let notHex = try await client.negMsg("t", "zz")
            #expect(notHex.type == "NEG-ERR")
            #expect(notHex.string(2)?.hasPrefix("invalid:") == true)
            #expect(try await client.negMsg("t", initial).string(2)?.hasPrefix("closed:") == true)
            let badOpen = try await client.negOpen("u", "")
            #expect(badOpen.type == "NEG-ERR")
            #expect(badOpen.string(2)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("a NEG-OPEN item set holds only events the reader may see: a gift wrap only for its recipient")
    func itemSetFollowsReadPolicies() async throws {
        try await SessionRelay.with { relay in
            let bob = Author()
            let note = Author().event(content: "public")
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", bob.pubkey.hex]])
            _ = try await relay.relay.store.save([note, wrap])
            let stranger = relay.connect()
            #expect(try await stranger.reconcile(items: []).need == [note.id.hex])
            await stranger.close()

            let recipient = relay.connect()
            // A protected event (NIP-70) makes the relay send its challenge.
            try await recipient.publish(bob.event(tags: [["-"]]))
            let challenge = try await recipient.challenge()
            #expect(try await recipient.authenticate(as: bob, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await recipient.reconcile(items: []).need == [note.id.hex, wrap.id.hex])
        }
    }
}

/// What a reconciliation from the client's side found, as hex ids.
struct ReconciliationResult {
    var have: Set<String> = []
    var need: Set<String> = []
    var rounds = 0
}

extension SessionClient {
    /// Sends `NEG-OPEN` and returns the relay's answer to it (NEG-MSG or NEG-ERR).
    func negOpen(_ id: String, _ initialHex: String, filter: String = "{}") async throws -> ReceivedMessage {
        try await send(#"["NEG-OPEN",""# + id + #"","# + filter + #",""# + initialHex + #""]"#)
        return try await negAnswer(id)
    }

    /// Sends `NEG-MSG` and returns the relay's answer to it.
    func negMsg(_ id: String, _ hex: String) async throws -> ReceivedMessage {
        try await send(#"["NEG-MSG",""# + id + #"",""# + hex + #""]"#)
        return try await negAnswer(id)
    }

    func negAnswer(_ id: String) async throws -> ReceivedMessage {
        while true {
            let message = try await next()
            if message.type.hasPrefix("NEG-"), message.string(1) == id { return message }
        }
    }

    /// Runs a whole reconciliation as the initiator, holding `items`.
    func reconcile(filter: String = "{}", items: [Event], frameSizeLimit: Int = 0) async throws -> ReconciliationResult {
        let storage = try SortedItems(items.map { NegentropyItem(timestamp: UInt64($0.createdAt), id: $0.id.raw) })
        let initiator = try NegentropyInitiator(storage: storage, frameSizeLimit: frameSizeLimit)
        var result = ReconciliationResult()
        var answer = try await negOpen("sync", NegentropyHex.encode(initiator.initiate()), filter: filter)
        while true {
            guard answer.type == "NEG-MSG", let hex = answer.string(2) else {
                throw TestFailure("the relay answered \(answer)")
            }
            let round = try initiator.reconcile(NegentropyHex.decode(hex))
            result.rounds += 1
            result.have.formUnion(round.haveIDs.map(\.hex))
            result.need.formUnion(round.needIDs.map(\.hex))
            guard let next = round.nextMessage else { break }
            answer = try await negMsg("sync", NegentropyHex.encode(next))
        }
        try await send(#"["NEG-CLOSE","sync"]"#)
        return result
    }
}
