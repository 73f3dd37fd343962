import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MartletDiscovery
import MartletRelay
import MartletReplication
import MartletTestSupport
import NostrCore
import Testing

/// `discovery.fetch_missing`: a REQ by ids that misses here asks the author's relays before
/// EOSE, and what comes back goes through the ingest pipeline (issue 17).
@Suite("Missing-note retrieval")
struct MissingEventsTests {
    /// B's fetcher, asking the authors' write relays as B's own store lists them (NIP-65).
    @discardableResult
    static func useFetcher(
        on b: TestRelay, timeout: Duration = .seconds(10), maxConcurrentSearches: Int = 8
    ) -> MissingEventFetcher {
        var configuration = MissingEventsConfiguration()
        configuration.enabled = true
        configuration.timeout = timeout
        configuration.maxConcurrentSearches = maxConcurrentSearches
        let authorRelays = AuthorRelays(store: b.relay.store)
        var logger = Logger(label: "martlet.test.fetch")
        logger.logLevel = .error
        let fetcher = MissingEventFetcher(relay: b.relay, configuration: configuration, logger: logger) { authors in
            await authorRelays.relays(of: authors)
        }
        b.relay.missingEvents.use(fetcher)
        return fetcher
    }

    @Test("a REQ by ids and author that misses gets the note from the author's write relay, before EOSE, and stores it")
    func fetchesFromWriteRelay() async throws {
        try await TestRelay.with { a in
            try await TestRelay.with { b in
                Self.useFetcher(on: b)
                let author = Author()
                let note = author.event(content: "kept on my relay")
                // NIP-65: "When downloading events from a user, clients SHOULD use the write
                // relays of that user's kind:10002 event." A read-only relay is not asked.
                let list = author.event(
                    kind: 10002, content: "", tags: [["r", "ws://127.0.0.1:1/", "read"], ["r", a.url, "write"]])
                let publisher = try await a.connect()
                #expect(try await publisher.publishAndWait(note).accepted)
                await publisher.close()
                let local = try await b.connect()
                #expect(try await local.publishAndWait(list).accepted)

                let filter = #"{"ids":["\#(note.id.hex)"],"authors":["\#(author.pubkey.hex)"]}"#
                let answer = try await local.query("missing", filter)
                #expect(answer.compactMap { $0["id"] as? String } == [note.id.hex])
                #expect(try await b.relay.store.contains(note.id))
                // A filter that asks by id for something else of the author's finds nothing
                // anywhere, and ends with EOSE all the same.
                let other = author.event(content: "never published")
                let none = try await local.query("other", #"{"ids":["\#(other.id.hex)"],"authors":["\#(author.pubkey.hex)"]}"#)
                #expect(none.isEmpty)
                await local.close()
            }
        }
    }

    @Test("a fetched note meets the write policies: a NIP-70 protected note is not taken from another relay")
    func fetchedNotesMeetThePolicies() async throws {
        try await TestRelay.with { a in
            try await TestRelay.with { b in
                Self.useFetcher(on: b)
                let author = Author()
                // NIP-70: "the relay MUST ... reject the event" unless the author is authenticated.
                // A protected note reaches A only from its authenticated author; here A holds
                // it already (stored directly), and B must not republish it.
                let protected = author.event(content: "only where I post it", tags: [["-"]])
                _ = await a.relay.ingest(protected, origin: .importFile)
                #expect(try await a.relay.store.contains(protected.id))
                let list = author.event(kind: 10002, content: "", tags: [["r", a.url]])
                let client = try await b.connect()
                #expect(try await client.publishAndWait(list).accepted)
                let answer = try await client.query(
                    "protected", #"{"ids":["\#(protected.id.hex)"],"authors":["\#(author.pubkey.hex)"]}"#)
                #expect(answer.isEmpty)
                #expect(try await b.relay.store.contains(protected.id) == false)
                await client.close()
            }
        }
    }

    @Test("a relay that never answers costs a REQ the time budget, not more")
    func silentRelayIsBounded() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        try await TestRelay.with { b in
            Self.useFetcher(on: b, timeout: .seconds(2))
            let author = Author()
            let list = author.event(kind: 10002, content: "", tags: [["r", "ws://127.0.0.1:\(silent.port)/"]])
            let client = try await b.connect()
            #expect(try await client.publishAndWait(list).accepted)
            let wanted = author.event(content: "nowhere to be found")
            let start = ContinuousClock.now
            let answer = try await client.query(
                "silent", #"{"ids":["\#(wanted.id.hex)"],"authors":["\#(author.pubkey.hex)"]}"#)
            let waited = ContinuousClock.now - start
            #expect(answer.isEmpty)
            #expect(waited >= .seconds(1), "EOSE came before anyone was asked")
            #expect(waited < .seconds(15), "the REQ waited \(waited) for a 2-second budget")
            await client.close()
        }
    }

    @Test("searches at once are bounded, and an id found nowhere is not looked for again at once")
    func searchesAreBounded() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        try await TestRelay.with { b in
            let fetcher = Self.useFetcher(on: b, timeout: .seconds(6), maxConcurrentSearches: 1)
            let author = Author()
            let list = author.event(kind: 10002, content: "", tags: [["r", "ws://127.0.0.1:\(silent.port)/"]])
            let first = try await b.connect()
            #expect(try await first.publishAndWait(list).accepted)
            let wanted = author.event(content: "nowhere").id.hex
            func filter(_ id: String) -> String { #"{"ids":["\#(id)"],"authors":["\#(author.pubkey.hex)"]}"# }
            try await first.send(#"["REQ","slow","# + filter(wanted) + "]")
            #expect(await waitUntil(timeout: .seconds(10)) { fetcher.searchesInFlight == 1 })

            // The one search slot is taken: another REQ by id gets its EOSE without waiting.
            let second = try await b.connect()
            let start = ContinuousClock.now
            let other = author.event(content: "also nowhere").id.hex
            #expect(try await second.query("other", filter(other)).isEmpty)
            #expect(ContinuousClock.now - start < .seconds(4), "a REQ past the bound waited for a search")
            #expect(try await first.eventsUntilEOSE("slow").isEmpty)

            // Once that search has ended, its id is remembered as found nowhere.
            #expect(await waitUntil(timeout: .seconds(20)) { fetcher.searchesInFlight == 0 })
            let again = ContinuousClock.now
            #expect(try await second.query("again", filter(wanted)).isEmpty)
            #expect(ContinuousClock.now - again < .seconds(4), "an id found nowhere was looked for again")
            await first.close()
            await second.close()
        }
    }

    @Test("only REQs by ids look elsewhere: a search by kind that finds nothing is an answer")
    func onlyIDsAreMissing() {
        let id = Author().event().id
        let stored = Author().event()
        #expect(MissingEvents.wanted(by: [Filter(kinds: [1])], stored: [Event]()) == nil)
        #expect(MissingEvents.wanted(by: [Filter(ids: [stored.id])], stored: [stored]) == nil)
        #expect(MissingEvents.wanted(by: [Filter(ids: [id, stored.id])], stored: [stored])?.ids == [id])
        // A limit below the ids asked for may have cut stored events from the answer.
        #expect(MissingEvents.wanted(by: [Filter(ids: [id, stored.id], limit: 1)], stored: [stored]) == nil)
        #expect(MissingEvents.wanted(by: [Filter(ids: [])], stored: [Event]()) == nil)
    }
}

/// A TCP port on 127.0.0.1 that takes connections (the kernel's backlog) and never answers.
private final class SilentListener: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && listen(socket, 16) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(socket)
            throw TestFailure("could not listen on 127.0.0.1")
        }
        self.socket = socket
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(socket) }
}
