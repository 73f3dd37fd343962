import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// Query amplification (hardening): every list of a filter and the authors × kinds product
/// are bounded, and a REQ beyond them is answered `CLOSED "invalid: ..."` on a connection
/// that keeps working (MartletServerTests checks that NIP-11 advertises the bounds).
@Suite("Filter list limits")
struct FilterLimitsTests {
    static func small(_ configuration: inout RelayConfiguration) {
        configuration.limits.maxFilterIDs = 3
        configuration.limits.maxFilterAuthors = 3
        configuration.limits.maxFilterKinds = 3
        configuration.limits.maxFilterTagValues = 3
        configuration.limits.maxAuthorsTimesKinds = 4
    }

    static func hexList(_ count: Int, _ make: () -> String) -> String {
        "[" + (0..<count).map { _ in "\"\(make())\"" }.joined(separator: ",") + "]"
    }

    @Test("a REQ or COUNT with a list longer than advertised is answered CLOSED invalid:")
    func oversizedLists() async throws {
        try await SessionRelay.withClient(configure: Self.small) { _, client in
            let ids = Self.hexList(4) { Author().event().id.hex }
            let authors = Self.hexList(4) { Author().pubkey.hex }
            let twoAuthors = Self.hexList(2) { Author().pubkey.hex }
            let oversized = [
                #"{"ids":\#(ids)}"#,
                #"{"authors":\#(authors)}"#,
                #"{"kinds":[1,2,3,4]}"#,
                ##"{"#t":["a","b","c","d"]}"##,
                // 2 authors × 3 kinds = 6 pairs, over the product limit of 4.
                #"{"authors":\#(twoAuthors),"kinds":[1,2,3]}"#,
            ]
            for (index, filter) in oversized.enumerated() {
                try await client.request("r\(index)", "{}", filter)
                #expect(try await client.closedReason("r\(index)").hasPrefix("invalid:"))
                try await client.send(#"["COUNT","c\#(index)",\#(filter)]"#)
                #expect(try await client.closedReason("c\(index)").hasPrefix("invalid:"))
            }
            // At the limits the REQ is served, on the same connection.
            let note = Author().event()
            #expect(try await client.publishAndWait(note).accepted)
            let atLimits = ##"{"authors":\##(twoAuthors),"kinds":[1,2],"#t":["a","b","c"]}"##
            #expect(try await client.query("ok", atLimits).isEmpty)
            #expect(try await client.query("ok", #"{"ids":["\#(note.id.hex)"]}"#).ids == [note.id.hex])
        }
    }

    @Test("the issue's 40 KiB REQ of 500 authors × 2,000 kinds is refused invalid: at the default limits")
    func amplifyingREQ() async throws {
        try await SessionRelay.withClient { _, client in
            let authors = Self.hexList(500) { Author().pubkey.hex }
            let kinds = "[" + (0..<2000).map(String.init).joined(separator: ",") + "]"
            try await client.request("big", #"{"authors":\#(authors),"kinds":\#(kinds)}"#)
            #expect(try await client.closedReason("big").hasPrefix("invalid:"))
            // A follow list of 2,000 authors with a few kinds is a real client's REQ: served.
            let follows = Self.hexList(2000) { Author().pubkey.hex }
            #expect(try await client.query("feed", #"{"authors":\#(follows),"kinds":[1,6,30023],"limit":50}"#).isEmpty)
        }
    }
}
