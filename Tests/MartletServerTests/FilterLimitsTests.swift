import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// Query amplification (hardening): every list of a filter and the authors × kinds product
/// are bounded, advertised in NIP-11's `limitation`, and a REQ beyond them is answered
/// `CLOSED "invalid: ..."` on a connection that keeps working.
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
        try await TestRelay.with(configure: Self.small) { relay in
            let client = try await relay.connect()
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
                let answer = try await client.next()
                #expect(answer.type == "CLOSED" && answer.string(1) == "r\(index)", "\(answer.raw)")
                #expect(answer.string(2)?.hasPrefix("invalid:") == true, "\(answer.raw)")
                try await client.send(#"["COUNT","c\#(index)",\#(filter)]"#)
                let counted = try await client.next()
                #expect(counted.type == "CLOSED" && counted.string(2)?.hasPrefix("invalid:") == true, "\(counted.raw)")
            }
            // At the limits the REQ is served, on the same connection.
            let note = Author().event()
            #expect(try await client.publishAndWait(note).accepted)
            let atLimits = ##"{"authors":\##(twoAuthors),"kinds":[1,2],"#t":["a","b","c"]}"##
            #expect(try await client.query("ok", atLimits).isEmpty)
            #expect(try await client.query("ok", #"{"ids":["\#(note.id.hex)"]}"#).ids == [note.id.hex])
            await client.close()
        }
    }

    @Test("the issue's 40 KiB REQ of 500 authors × 2,000 kinds is refused invalid: at the default limits")
    func amplifyingREQ() async throws {
        try await TestRelay.with { relay in
            let client = try await relay.connect()
            let authors = Self.hexList(500) { Author().pubkey.hex }
            let kinds = "[" + (0..<2000).map(String.init).joined(separator: ",") + "]"
            try await client.request("big", #"{"authors":\#(authors),"kinds":\#(kinds)}"#)
            let answer = try await client.next()
            #expect(answer.type == "CLOSED" && answer.string(2)?.hasPrefix("invalid:") == true, "\(answer.raw)")
            // A follow list of 2,000 authors with a few kinds is a real client's REQ: served.
            let follows = Self.hexList(2000) { Author().pubkey.hex }
            #expect(try await client.query("feed", #"{"authors":\#(follows),"kinds":[1,6,30023],"limit":50}"#).isEmpty)
            await client.close()
        }
    }

    @Test("NIP-11 limitation advertises the filter limits next to the standard ones")
    func advertised() async throws {
        try await TestRelay.with(configure: {
            Self.small(&$0)
            $0.limits.queryTimeout = .milliseconds(2500)
        }) { relay in
            let response = try await relay.httpGet(headers: ["Accept": "application/nostr+json"])
            let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(limitation["max_filter_ids"] as? Int == 3)
            #expect(limitation["max_filter_authors"] as? Int == 3)
            #expect(limitation["max_filter_kinds"] as? Int == 3)
            #expect(limitation["max_filter_tag_values"] as? Int == 3)
            #expect(limitation["max_authors_times_kinds"] as? Int == 4)
            #expect(limitation["query_timeout"] as? Double == 2.5)
            #expect(limitation["max_filters"] as? Int == RelayConfiguration.Limits().maxFilters)
        }
    }

    @Test("martlet.yaml and the environment set the filter limits and the query time budget")
    func configured() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("martlet.yaml")
        try """
            limits:
              max_filter_ids: 11
              max_filter_authors: 12
              max_filter_kinds: 13
              max_filter_tag_values: 14
              max_authors_times_kinds: 15
              query_timeout: 1.5
            """.write(to: file, atomically: true, encoding: .utf8)
        let relay = try await RelayProcess.start(
            data: folder.appendingPathComponent("data"), arguments: ["--config", file.path],
            environment: ["MARTLET_LIMITS_MAX_FILTER_KINDS": "16"])
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(relay.port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let response = try await HTTPGet.run(request)
        let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let limitation = try #require(document["limitation"] as? [String: Any])
        #expect(limitation["max_filter_ids"] as? Int == 11)
        #expect(limitation["max_filter_authors"] as? Int == 12)
        #expect(limitation["max_filter_kinds"] as? Int == 16)
        #expect(limitation["max_filter_tag_values"] as? Int == 14)
        #expect(limitation["max_authors_times_kinds"] as? Int == 15)
        #expect(limitation["query_timeout"] as? Double == 1.5)
        #expect(await relay.stop(signal: SIGTERM) == 0)
    }
}
