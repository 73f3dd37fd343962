import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// NIP-86: the management API over HTTP on the relay URL, authorised by NIP-98, whose
/// changes hold at once for open connections.
@Suite("NIP-86 management API")
struct NIP86Tests {
    let admin = Author()

    func withRelay<T: Sendable>(
        configure: @escaping (inout RelayConfiguration) -> Void = { _ in }, directory: URL? = nil,
        _ body: (TestRelay) async throws -> T
    ) async throws -> T {
        let admin = admin
        return try await TestRelay.with(
            configure: { configuration in
                configuration.management.adminPubkeys = [admin.pubkey]
                configure(&configuration)
            }, directory: directory, body)
    }

    @Test("supportedmethods lists every method the relay answers")
    func supportedMethods() async throws {
        try await withRelay { relay in
            let answer = try await relay.manage("supportedmethods", as: admin)
            #expect(answer.status == 200 && answer.error == nil)
            let methods = try #require(answer.result as? [String])
            for method in [
                "banpubkey", "unbanpubkey", "listbannedpubkeys", "allowpubkey", "unallowpubkey", "listallowedpubkeys",
                "banevent", "allowevent", "listbannedevents", "allowkind", "disallowkind", "listallowedkinds",
                "blockip", "unblockip", "listblockedips", "changerelayname", "changerelaydescription", "changerelayicon",
            ] {
                #expect(methods.contains(method), "\(method) is supported")
            }
        }
    }

    @Test("a call whose NIP-98 authorization is missing or does not hold is answered 401", arguments: [
        Tampering.unauthenticated, .wrongPayload, .wrongURL, .wrongMethod, .stale, .notAdmin,
    ])
    func refusedAuthorization(_ tampering: Tampering) async throws {
        try await withRelay { relay in
            let victim = Author()
            let answer = try await relay.manage("banpubkey", [victim.pubkey.hex], as: admin, tampering: tampering)
            #expect(answer.status == 401)
            #expect(answer.result == nil && answer.error?.hasPrefix("unauthorized") == true)
            #expect(answer.error?.contains(tampering.refusal) == true, "\(answer.error ?? "no error")")
            #expect(!relay.relay.access.isBanned(victim.pubkey), "a refused call changes nothing")
        }
    }

    @Test("a POST without the NIP-86 content type is refused, and an unknown method is an error")
    func malformedCalls() async throws {
        try await withRelay { relay in
            let plain = try await relay.http("POST", headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
            #expect(plain.status == 415)
            let unknown = try await relay.manage("listeventsneedingmoderation", as: admin)
            #expect(unknown.status == 200 && unknown.result == nil)
            #expect(unknown.error?.contains("unsupported method") == true)
            let badKey = try await relay.manage("banpubkey", ["not-a-key"], as: admin)
            #expect(badKey.result == nil && badKey.error?.contains("public key") == true)
        }
    }

    @Test("banpubkey refuses the author's next event on a connection already open; unbanpubkey lets it back")
    func banPubkey() async throws {
        try await withRelay { relay in
            let author = Author()
            let client = try await relay.connect()
            #expect(try await client.publishAndWait(author.event(content: "before")).accepted)

            #expect(try await relay.manage("banpubkey", [author.pubkey.hex, "spam"], as: admin).succeeded)
            #expect(try await client.refusal(of: author.event(content: "after"))?.hasPrefix("blocked:") == true)
            let listed = try #require(try await relay.manage("listbannedpubkeys", as: admin).result as? [[String: String]])
            #expect(listed == [["pubkey": author.pubkey.hex, "reason": "spam"]])

            #expect(try await relay.manage("unbanpubkey", [author.pubkey.hex], as: admin).succeeded)
            #expect(try await client.publishAndWait(author.event(content: "again")).accepted)
            #expect((try await relay.manage("listbannedpubkeys", as: admin).result as? [Any])?.isEmpty == true)
            await client.close()
        }
    }

    @Test("allowpubkey opens an allowlist-writes relay to the author at once; unallowpubkey closes it")
    func allowPubkey() async throws {
        try await withRelay(configure: { $0.access.mode = .allowlistWrites }) { relay in
            let author = Author()
            let client = try await relay.connect()
            #expect(try await client.refusal(of: author.event(content: "before"))?.hasPrefix("restricted:") == true)

            #expect(try await relay.manage("allowpubkey", [author.pubkey.hex, "member"], as: admin).succeeded)
            #expect(try await client.publishAndWait(author.event(content: "member")).accepted)
            let listed = try #require(try await relay.manage("listallowedpubkeys", as: admin).result as? [[String: String]])
            #expect(listed == [["pubkey": author.pubkey.hex, "reason": "member"]])

            #expect(try await relay.manage("unallowpubkey", [author.pubkey.hex], as: admin).succeeded)
            #expect(!(try await client.publishAndWait(author.event(content: "gone")).accepted))
            await client.close()
        }
    }

    @Test("banevent takes a stored event down and refuses it again; allowevent lifts the ban")
    func banEvent() async throws {
        try await withRelay { relay in
            let event = Author().event(content: "takedown")
            let client = try await relay.connect()
            #expect(try await client.publishAndWait(event).accepted)

            #expect(try await relay.manage("banevent", [event.id.hex, "illegal"], as: admin).succeeded)
            #expect(try await client.query("q", #"{"ids":["\#(event.id.hex)"]}"#).isEmpty)
            #expect(try await client.refusal(of: event)?.hasPrefix("blocked:") == true)
            let listed = try #require(try await relay.manage("listbannedevents", as: admin).result as? [[String: String]])
            #expect(listed == [["id": event.id.hex, "reason": "illegal"]])

            #expect(try await relay.manage("allowevent", [event.id.hex], as: admin).succeeded)
            #expect(try await client.publishAndWait(event).accepted)
            await client.close()
        }
    }

    @Test("disallowkind refuses the kind at once, allowkind lifts it, and both lists show it")
    func kinds() async throws {
        try await withRelay(configure: { $0.access.allowedKinds = [0, 1, 7] }) { relay in
            let author = Author()
            let client = try await relay.connect()
            #expect(try await relay.manage("listallowedkinds", as: admin).result as? [Int] == [0, 1, 7])

            #expect(try await relay.manage("disallowkind", [7], as: admin).succeeded)
            #expect(try await client.refusal(of: author.event(kind: 7, content: "+"))?.hasPrefix("blocked:") == true)
            #expect(try await relay.manage("listallowedkinds", as: admin).result as? [Int] == [0, 1])
            #expect(try await relay.manage("listdisallowedkinds", as: admin).result as? [Int] == [7])

            #expect(try await relay.manage("allowkind", [30023], as: admin).succeeded)
            #expect(try await relay.manage("allowkind", [7], as: admin).succeeded)
            #expect(try await client.publishAndWait(author.event(kind: 7, content: "+")).accepted)
            #expect(try await client.publishAndWait(author.event(kind: 30023, content: "article", tags: [["d", "a"]])).accepted)
            #expect(try await relay.manage("listallowedkinds", as: admin).result as? [Int] == [0, 1, 7, 30023])
            await client.close()
        }
    }

    @Test("blockip stops an open connection's writes and reads and refuses new ones; unblockip lifts it")
    func blockIP() async throws {
        try await withRelay { relay in
            let author = Author()
            let client = try await relay.connect()
            #expect(try await relay.manage("blockip", ["127.0.0.1", "abuse"], as: admin).succeeded)

            #expect(try await client.refusal(of: author.event())?.hasPrefix("blocked:") == true)
            try await client.send(#"["REQ","r",{}]"#)
            #expect(try await client.closedReason("r").hasPrefix("blocked:"))
            await #expect(throws: (any Error).self) {
                let second = try await relay.connect()
                _ = try await second.publishAndWait(author.event())
            }
            let listed = try #require(try await relay.manage("listblockedips", as: admin).result as? [[String: String]])
            #expect(listed == [["ip": "127.0.0.1", "reason": "abuse"]])

            #expect(try await relay.manage("unblockip", ["127.0.0.1"], as: admin).succeeded)
            #expect(try await client.publishAndWait(author.event()).accepted)
            #expect(try await relay.manage("blockip", ["not an address"], as: admin).error != nil)
            await client.close()
        }
    }

    @Test("changerelayname, changerelaydescription and changerelayicon show in NIP-11 at once")
    func relayInformation() async throws {
        try await withRelay { relay in
            #expect(try await relay.manage("changerelayname", ["Renamed"], as: admin).succeeded)
            #expect(try await relay.manage("changerelaydescription", ["Now described"], as: admin).succeeded)
            #expect(try await relay.manage("changerelayicon", ["https://example.com/icon.png"], as: admin).succeeded)
            let response = try await relay.httpGet(headers: ["Accept": "application/nostr+json"])
            let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            #expect(document["name"] as? String == "Renamed")
            #expect(document["description"] as? String == "Now described")
            #expect(document["icon"] as? String == "https://example.com/icon.png")
            #expect((document["supported_nips"] as? [Int])?.contains(86) == true)
            let page = String(decoding: try await relay.httpGet(headers: ["Accept": "text/html"]).body, as: UTF8.self)
            #expect(page.contains("Renamed"))
        }
    }

    @Test("changes are kept in the store and hold again after a restart, over the configuration's lists")
    func persistence() async throws {
        try await withTemporaryFolder("martlet-nip86") { directory in
            let banned = Author()
            let unbanned = Author()
            let event = Author().event()
            try await withRelay(configure: { $0.access.bannedPubkeys = [unbanned.pubkey] }, directory: directory) { relay throws in
                #expect(try await relay.manage("banpubkey", [banned.pubkey.hex, "spam"], as: admin).succeeded)
                #expect(try await relay.manage("unbanpubkey", [unbanned.pubkey.hex], as: admin).succeeded)
                #expect(try await relay.manage("banevent", [event.id.hex], as: admin).succeeded)
                #expect(try await relay.manage("disallowkind", [7], as: admin).succeeded)
                #expect(try await relay.manage("blockip", ["::0001"], as: admin).succeeded)
                #expect(try await relay.manage("changerelayname", ["Kept"], as: admin).succeeded)
            }
            try await withRelay(configure: { $0.access.bannedPubkeys = [unbanned.pubkey] }, directory: directory) { relay in
                let access = relay.relay.access
                #expect(access.isBanned(banned.pubkey))
                #expect(!access.isBanned(unbanned.pubkey), "a run-time unban wins over the file")
                #expect(access.isBanned(event.id))
                #expect(!access.accepts(7))
                #expect(access.isBlocked(ip: "::1"))
                #expect(relay.relay.info.current.name == "Kept")
                let listed = try #require(try await relay.manage("listbannedpubkeys", as: admin).result as? [[String: String]])
                #expect(listed == [["pubkey": banned.pubkey.hex, "reason": "spam"]])
            }
        }
    }
}
