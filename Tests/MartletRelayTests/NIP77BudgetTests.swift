import MartletRelay
import MartletTestSupport
import Negentropy
import NostrCore
import Testing

/// The relay-wide bound on what NIP-77 sessions hold. NIP-77: "blocked: Relays can
/// optionally reject queries that would require them to process too many records".
@Suite("NIP-77 relay-wide item budget")
struct NIP77BudgetTests {
    static func initial() throws -> String {
        NegentropyHex.encode(try NegentropyInitiator(storage: SortedItems([])).initiate())
    }

    static func isBlocked(_ answer: ReceivedMessage) -> Bool {
        answer.type == "NEG-ERR" && answer.string(2)?.hasPrefix("blocked:") == true
    }

    /// Runs `body` on a relay whose sessions may hold `budget` items in all, with `notes`
    /// notes stored; sessions never idle out, so only the budget decides, even on a stalled
    /// machine.
    static func withBudget(
        _ budget: Int, notes: Int, _ body: (SessionRelay, NegentropyBudget) async throws -> Void
    ) async throws {
        try await SessionRelay.with(configure: {
            $0.negentropy.maxTotalRecords = budget
            $0.negentropy.idleTimeout = .seconds(600)
        }) { relay in
            try await relay.storeNotes(notes)
            try await body(relay, relay.relay.negentropyBudget)
        }
    }

    @Test("a NEG-OPEN that would take the relay past its item budget is answered NEG-ERR blocked:, until a session closes")
    func budgetRefusesUntilRelease() async throws {
        try await Self.withBudget(25, notes: 10) { relay, budget in
            let initial = try Self.initial()

            let alice = relay.connect()
            #expect(try await alice.negOpen("a", initial).type == "NEG-MSG")
            #expect(try await alice.negOpen("b", initial).type == "NEG-MSG")
            // Reopening an id replaces its session: its items are not counted twice.
            #expect(try await alice.negOpen("b", initial).type == "NEG-MSG")
            #expect(budget.heldItems == 20)

            let bob = relay.connect()
            let refused = try await bob.negOpen("c", initial)
            #expect(Self.isBlocked(refused), "\(refused)")
            #expect(budget.heldItems == 20)

            try await alice.send(#"["NEG-CLOSE","a"]"#)
            await waitUntil { budget.heldItems == 10 }
            #expect(try await bob.negOpen("c", initial).type == "NEG-MSG")
            #expect(budget.heldItems == 20)

            // A connection that ends gives back what its sessions held.
            await alice.close()
            await waitUntil { budget.heldItems == 10 }
            #expect(budget.heldItems == 10)
            #expect(try await bob.negOpen("d", initial).type == "NEG-MSG")
            await bob.close()
            await waitUntil { budget.heldItems == 0 }
            #expect(budget.heldItems == 0)
        }
    }

    @Test("a session dropped for idleness gives its items back")
    func idleSessionReleases() async throws {
        try await SessionRelay.with(configure: { $0.negentropy.idleTimeout = .seconds(10) }) { relay in
            try await relay.storeNotes(7)
            let client = relay.connect()
            #expect(try await client.negOpen("idle", try Self.initial()).type == "NEG-MSG")
            #expect(relay.relay.negentropyBudget.heldItems == 7)
            await waitUntil(timeout: .seconds(60)) { relay.relay.negentropyBudget.heldItems == 0 }
            #expect(relay.relay.negentropyBudget.heldItems == 0)
        }
    }

    @Test("4 connections × 8 sessions hold no more than the budget; the rest are answered blocked:")
    func manySessionsStayWithinBudget() async throws {
        try await Self.withBudget(2_500, notes: 500) { relay, budget in
            let initial = try Self.initial()
            var clients: [SessionClient] = []
            var opened = 0
            var blocked = 0
            for _ in 0..<4 {
                let client = relay.connect()
                clients.append(client)
                for session in 0..<8 {
                    let answer = try await client.negOpen("s\(session)", initial)
                    if answer.type == "NEG-MSG" { opened += 1 } else if Self.isBlocked(answer) { blocked += 1 }
                    #expect(budget.heldItems <= 2_500)
                }
            }
            #expect(opened == 5)
            #expect(blocked == 27)
            #expect(budget.heldItems == 2_500)
            for client in clients { await client.close() }
            await waitUntil { budget.heldItems == 0 }
            #expect(budget.heldItems == 0)
        }
    }

    @Test("the default budget is a million items: within 100 MB at 90 bytes an item, and room for one whole-store sync")
    func defaults() {
        let settings = RelayConfiguration().negentropy
        #expect(settings.maxTotalRecords == 1_000_000)
        #expect(settings.maxTotalRecords >= settings.maxRecords)
        #expect(settings.maxTotalRecords * 90 <= 100 * 1_000_000)
    }
}
