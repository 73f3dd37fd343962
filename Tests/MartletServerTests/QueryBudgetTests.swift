import Foundation
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The costs of one REQ are bounded: its query's time (`limits.query_timeout`), the
/// relay's memory under costly and ever-different REQs, and what hidden events may cost a
/// limited REQ (NIP-59).
@Suite("Query budgets")
struct QueryBudgetTests {
    /// `count` events by `author`, saved straight into the store (quicker than publishing).
    static func fill(_ relay: TestRelay, author: Author, count: Int) async throws -> [Event] {
        var events: [Event] = []
        let start = now() - Int64(count) - 10
        for batch in stride(from: 0, to: count, by: 500) {
            // Signing holds a cooperative thread (two on this machine): let others run between batches.
            await Task.yield()
            let slice = (batch..<min(count, batch + 500)).map { index in
                author.event(content: "n\(index)", tags: [["t", "here"]], createdAt: start + Int64(index))
            }
            _ = try await relay.relay.store.save(slice)
            events += slice
        }
        return events
    }

    @Test("a REQ whose query outlasts query_timeout is CLOSED error:, and other REQs are still answered")
    func timeBudget() async throws {
        try await TestRelay.with(configure: { $0.limits.queryTimeout = .milliseconds(1) }) { relay in
            let author = Author()
            let events = try await Self.fill(relay, author: author, count: 20_000)
            let costly = try await relay.connect()
            let other = try await relay.connect()
            // One stream of 20,000 rows, each checked for a tag none has: far past 1 ms.
            try await costly.request("slow", ##"{"authors":["\##(author.pubkey.hex)"],"#t":["absent"]}"##)
            // An id lookup runs too few steps to be stopped.
            #expect(try await other.query("fast", #"{"ids":["\#(events[7].id.hex)"]}"#).ids == [events[7].id.hex])
            #expect(try await costly.closedReason("slow").hasPrefix("error:"))
            // The connection and its reader stay usable.
            #expect(try await costly.query("again", #"{"ids":["\#(events[9].id.hex)"]}"#).ids == [events[9].id.hex])
            await costly.close()
            await other.close()
        }
    }

    @Test("NIP-59: an anonymous limited #p REQ gets the public mention, not fewer events for hidden gift wraps")
    func limitAfterPrivacy() async throws {
        try await TestRelay.with { relay in try await Self.publicMentionIsServed(relay) }
    }

    @Test(
        "NIP-59 on PostgreSQL: an anonymous limited #p REQ gets the public mention",
        .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func limitAfterPrivacyOnPostgres() async throws {
        try await TestRelay.withPostgres { relay in
            try await Self.publicMentionIsServed(relay)
        }
    }

    static func publicMentionIsServed(_ relay: TestRelay) async throws {
        let victim = Author()
        let mention = Author().event(content: "hi", tags: [["p", victim.pubkey.hex]], createdAt: now() - 100)
        let publisher = try await relay.connect()
        #expect(try await publisher.publishAndWait(mention).accepted)
        for index in 0..<3 {
            let wrap = Author().event(
                kind: 1059, content: "sealed \(index)", tags: [["p", victim.pubkey.hex]], createdAt: now() - Int64(index))
            #expect(try await publisher.publishAndWait(wrap).accepted)
        }
        let stranger = try await relay.connect()
        let served = try await stranger.query("m", ##"{"#p":["\##(victim.pubkey.hex)"],"limit":3}"##)
        #expect(served.ids == [mention.id.hex])
        await publisher.close()
        await stranger.close()
    }

    /// The resident memory of this process, which hosts the relay, in bytes.
    static func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    @Test(
        "REQs of huge authors × kinds products and of ever-different list sizes leave the relay within 100 MB",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status")))
    func boundedMemory() async throws {
        try await TestRelay.with(configure: {
            // The issue's REQ, let through to reach the store.
            $0.limits.maxFilterKinds = 2_000
            $0.limits.maxAuthorsTimesKinds = 1_000_000
            $0.limits.queryTimeout = .seconds(60)
        }) { relay in
            let authors = (0..<500).map { _ in Author() }
            for author in authors.prefix(20) {
                _ = try await relay.relay.store.save([author.event(kind: 7, content: "+")])
            }
            let start = try Self.residentBytes()
            let authorList = "[" + authors.map { "\"\($0.pubkey.hex)\"" }.joined(separator: ",") + "]"
            let kinds = "[" + (0..<2000).map(String.init).joined(separator: ",") + "]"
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        let client = try await relay.connect()
                        let served = try await client.query("big\(index)", #"{"authors":\#(authorList),"kinds":\#(kinds)}"#)
                        await client.close()
                        return served.count
                    }
                }
                for try await served in group { #expect(served == 20) }
            }
            // Lists of every size: each REQ a different shape for a per-size statement cache.
            let client = try await relay.connect()
            for size in 1...300 {
                let ids = (0..<(1 + size % 23)).map { "\"" + String(format: "%064x", $0) + "\"" }
                let kindList = (0..<(1 + size % 31)).map(String.init)
                let topics = (0..<size).map { "\"topic\($0)\"" }
                let filter = """
                    {"ids":[\(ids.joined(separator: ","))],"kinds":[\(kindList.joined(separator: ","))],\
                    "#t":[\(topics.joined(separator: ","))]}
                    """
                #expect(try await client.query("s", filter).isEmpty)
            }
            await client.close()
            let grown = try Self.residentBytes() - start
            #expect(grown < 100 * 1024 * 1024, "resident memory grew by \(grown / 1_048_576) MB")
        }
    }
}
