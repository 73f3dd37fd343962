import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// NIP-43 relay membership in `access.mode: private`: members are the relay's allowlist.
@Suite("NIP-43 relay membership")
struct NIP43MembershipTests {
    @Test("a member asks for an invite, an outsider joins with it, reads, then leaves and is refused again")
    func joinAndLeave() async throws {
        let alice = Author()
        let bob = Author()
        let carol = Author()
        try await TestRelay.with(configure: {
            $0.groups.enabled = true
            $0.access.mode = .privateRelay
            $0.access.allowedPubkeys = [alice.pubkey]
        }) { relay in
            try await membershipLife(on: relay, and: relay, alice: alice, bob: bob, carol: carol)
        }
    }

    @Test("the same on two nodes sharing PostgreSQL: an invite from one, the join on the other, the allowlist on both",
        .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func twoNodes() async throws {
        let alice = Author()
        let schema = TestPostgres.freshSchema()
        let identity = RelayIdentity(secretKey: .generate())
        let configure: (inout RelayConfiguration) -> Void = {
            $0.groups.enabled = true
            $0.identity = identity
            $0.access.mode = .privateRelay
            $0.access.allowedPubkeys = [alice.pubkey]
        }
        do {
            try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) { a in
                try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) { b in
                    try await membershipLife(on: a, and: b, alice: alice, bob: Author(), carol: Author())
                }
            }
            try await TestPostgres.dropSchema(schema)
        } catch {
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
    }

    @Test("NIP-86's allowpubkey and unallowpubkey keep the 13534 list in step; groups are managed through NIP-86 too")
    func managementKeepsTheList() async throws {
        let admin = Author()
        let dave = Author()
        try await TestRelay.with(configure: {
            $0.groups.enabled = true
            $0.management.adminPubkeys = [admin.pubkey]
        }) { relay in
            let relayKey = try #require(relay.relay.groups?.identity.publicKey)
            let client = try await relay.connect()
            #expect(try await relay.manage("allowpubkey", [dave.pubkey.hex], as: admin).succeeded)
            let filter = #"{"kinds":[13534],"authors":["\#(relayKey.hex)"]}"#
            var list = try await client.query("m", filter)
            #expect((list.first?["tags"] as? [[String]])?.contains(["member", dave.pubkey.hex]) == true)
            #expect(try await relay.manage("unallowpubkey", [dave.pubkey.hex], as: admin).succeeded)
            list = try await client.query("m", filter)
            #expect((list.first?["tags"] as? [[String]])?.contains(["member", dave.pubkey.hex]) == false)

            // Martlet's extension: creategroup, listgroups, deletegroup.
            #expect(try await relay.manage("creategroup", ["ops", dave.pubkey.hex, "Operators"], as: admin).succeeded)
            #expect(try await relay.manage("creategroup", ["ops", dave.pubkey.hex], as: admin).error != nil)
            let listed = try await relay.manage("listgroups", as: admin).result as? [[String: Any]]
            #expect(listed?.first?["id"] as? String == "ops")
            #expect(listed?.first?["admins"] as? [String] == [dave.pubkey.hex])
            let state = try await client.query("s", ##"{"kinds":[39000],"#d":["ops"]}"##)
            #expect((state.first?["tags"] as? [[String]])?.contains(["name", "Operators"]) == true)
            #expect(try await relay.manage("deletegroup", ["ops"], as: admin).succeeded)
            #expect(try await client.query("s", ##"{"kinds":[39000],"#d":["ops"]}"##).isEmpty)
            #expect(try await relay.manage("deletegroup", ["ops"], as: admin).error != nil)
            await client.close()
        }
    }
}

/// NIP-43's life of a membership: alice, a member, asks node `a` for an invite; bob, an
/// outsider, joins with it on node `b` (the same relay, or another node on its database),
/// reads, and leaves; carol finds the code used.
func membershipLife(on a: TestRelay, and b: TestRelay, alice: Author, bob: Author, carol: Author) async throws {
    let relayKey = try #require(b.relay.groups?.identity.publicKey)
    // "Users may request a claim string from a relay by making a request for kind 28935 events."
    let member = try await a.connect()
    #expect(try await member.authenticate(as: alice, challenge: try await member.challenge(), relayURL: a.url).accepted)
    let invites = try await member.query("i", #"{"kinds":[28935]}"#)
    #expect(invites.count == 1)
    #expect(invites.first?["pubkey"] as? String == relayKey.hex)
    let tags = invites.first?["tags"] as? [[String]] ?? []
    #expect(tags.contains(["-"]))
    let code = try #require(tags.first { $0.first == "claim" }?.last)

    let outsider = try await b.connect()
    #expect(try await outsider.authenticate(as: bob, challenge: try await outsider.challenge(), relayURL: b.url).accepted)
    try await outsider.request("r", #"{"kinds":[1]}"#)
    #expect(try await outsider.closedReason("r").hasPrefix("restricted:"))
    // "Failed claims SHOULD use the same standard "restricted: " prefix".
    let wrong = bob.event(kind: 28934, content: "", tags: [["-"], ["claim", "not-a-code"]])
    #expect(try await outsider.refusal(of: wrong)?.hasPrefix("restricted:") == true)
    let join = bob.event(kind: 28934, content: "", tags: [["-"], ["claim", code]])
    #expect(try await outsider.publishAndWait(join).accepted)
    #expect(try await outsider.query("r", #"{"kinds":[1]}"#).isEmpty)
    // "Relays SHOULD update their kind 13534 member list and MAY publish a kind 8000".
    let list = try await outsider.query("m", #"{"kinds":[13534],"authors":["\#(relayKey.hex)"]}"#)
    let members = (list.first?["tags"] as? [[String]] ?? []).filter { $0.first == "member" }.map { $0[1] }
    #expect(Set(members) == [alice.pubkey.hex, bob.pubkey.hex])
    let added = try await outsider.query("a", ##"{"kinds":[8000],"#p":["\##(bob.pubkey.hex)"]}"##)
    #expect(added.count == 1)
    // Node `a` admits bob too, within moments: the allowlist follows the store's notifications.
    let elsewhere = try await a.connect()
    #expect(try await elsewhere.authenticate(as: bob, challenge: try await elsewhere.challenge(), relayURL: a.url).accepted)
    #expect(try await waitUntil(timeout: .seconds(3)) { try await serves(elsewhere) })

    // The same code a second time admits nobody.
    let other = try await a.connect()
    #expect(try await other.authenticate(as: carol, challenge: try await other.challenge(), relayURL: a.url).accepted)
    let reused = carol.event(kind: 28934, content: "", tags: [["-"], ["claim", code]])
    #expect(try await other.refusal(of: reused)?.hasPrefix("restricted:") == true)

    // "A user MAY send a kind 28936 to a relay in order to request that their access be revoked."
    let leave = bob.event(kind: 28936, content: "", tags: [["-"]])
    #expect(try await outsider.publishAndWait(leave).accepted)
    try await outsider.request("r", #"{"kinds":[1]}"#)
    #expect(try await outsider.closedReason("r").hasPrefix("restricted:"))
    #expect(!b.relay.access.isAllowed(bob.pubkey))
    #expect(try await waitUntil(timeout: .seconds(3)) { try await !serves(elsewhere) })
    for client in [member, outsider, other, elsewhere] { await client.close() }
}

/// Whether a REQ from `client` is served (EOSE) rather than CLOSED.
private func serves(_ client: NostrTestClient) async throws -> Bool {
    try await client.request("probe", #"{"kinds":[1],"limit":1}"#)
    while true {
        let message = try await client.next()
        guard message.string(1) == "probe" else { continue }
        if message.type == "CLOSED" { return false }
        if message.type == "EOSE" {
            try await client.send(#"["CLOSE","probe"]"#)
            return true
        }
    }
}
