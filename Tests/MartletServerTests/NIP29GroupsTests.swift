import Foundation
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// NIP-29 relay-based groups end to end over WebSocket: "groups that are only writable by a
/// closed set of users", moderated by admins, with the relay publishing "the events that
/// describe group metadata and group admins ... signed by the relay keypair directly".
@Suite("NIP-29 groups on SQLite")
struct NIP29GroupsTests {
    @Test("a group's life: create, invite, join with the code, post, moderate, remove, read as a member only")
    func lifeOfAGroup() async throws {
        try await TestRelay.with(configure: { $0.groups.enabled = true }) { relay in
            try await GroupLife(relay: relay, other: relay).run()
        }
    }

    @Test("bad input gets its answer and changes nothing: no h tag, unknown group, a plain member moderating")
    func badInput() async throws {
        try await TestRelay.with(configure: { $0.groups.enabled = true }) { relay in
            let client = try await relay.connect()
            let alice = Author()
            let bob = Author()
            #expect(try await client.publishAndWait(groupEvent(alice, GroupKind.createGroup, "den")).accepted)
            // "These are events expected to be sent by the relay master key or by group
            // admins -- and relays should reject them if they don't come from an authorized admin."
            let withoutH = alice.event(kind: GroupKind.putUser, content: "", tags: [["p", bob.pubkey.hex]])
            #expect(try await client.refusal(of: withoutH)?.hasPrefix("invalid:") == true)
            let unknown = groupEvent(alice, GroupKind.putUser, "nowhere", [["p", bob.pubkey.hex]])
            #expect(try await client.refusal(of: unknown)?.hasPrefix("invalid:") == true)
            let post = groupEvent(bob, 9, "nowhere")
            #expect(try await client.refusal(of: post)?.hasPrefix("invalid:") == true)
            let notAdmin = groupEvent(bob, GroupKind.putUser, "den", [["p", bob.pubkey.hex, "admin"]])
            #expect(try await client.refusal(of: notAdmin)?.hasPrefix("restricted:") == true)
            let badRole = groupEvent(alice, GroupKind.putUser, "den", [["p", bob.pubkey.hex, "two words"]])
            #expect(try await client.refusal(of: badRole)?.hasPrefix("invalid:") == true)
            // Nothing half-applied: bob is nowhere in the group.
            #expect(try await relay.relay.groups?.store.group("den")?.members[bob.pubkey] == nil)
            // "Relays shouldn't accept these events if they're signed by anyone else."
            let forged = alice.event(kind: GroupKind.metadata, content: "", tags: [["d", "den"], ["name", "mine"]])
            #expect(try await client.refusal(of: forged)?.hasPrefix("restricted:") == true)
            // Late publication: "messages published now with a timestamp from days or even hours ago".
            let late = alice.event(kind: 9, content: "", tags: [["h", "den"]], createdAt: now() - 86_400)
            #expect(try await client.refusal(of: late)?.hasPrefix("invalid:") == true)
            // "Relays are expected to reject any events that contain timeline references to
            // events not found in their own database."
            let first = groupEvent(alice, 9, "den")
            #expect(try await client.publishAndWait(first).accepted)
            let known = groupEvent(alice, 9, "den", [["previous", String(first.id.hex.prefix(8))]])
            #expect(try await client.publishAndWait(known).accepted)
            let unknownPrevious = groupEvent(alice, 9, "den", [["previous", "00000000"]])
            #expect(try await client.refusal(of: unknownPrevious)?.hasPrefix("invalid:") == true)
            // A second create is refused; the group keeps its admin.
            #expect(try await client.refusal(of: groupEvent(bob, GroupKind.createGroup, "den"))?.hasPrefix("invalid:") == true)
            #expect(try await relay.relay.groups?.store.group("den")?.members[alice.pubkey] == ["admin"])

            // delete-group takes the group's events with it: whoever creates "den" again starts empty.
            let deletion = groupEvent(alice, GroupKind.deleteGroup, "den")
            #expect(try await client.publishAndWait(deletion).accepted)
            #expect(try await relay.relay.groups?.store.group("den") == nil)
            // Only the delete-group itself is left, stored after the deletion it asked for.
            #expect(try await client.query("d", ##"{"#h":["den"]}"##).ids == [deletion.id.hex])
            #expect(try await client.query("d", ##"{"#d":["den"]}"##).isEmpty)
            #expect(try await client.publishAndWait(groupEvent(bob, GroupKind.createGroup, "den")).accepted)
            #expect(try await relay.relay.groups?.store.group("den")?.members == [bob.pubkey: ["admin"]])
            await client.close()
        }
    }

    @Test("an open group admits on request; a moderator deletes but may not add; hidden metadata and private counts stay with members")
    func openHiddenAndRoles() async throws {
        try await TestRelay.with(configure: { $0.groups.enabled = true }) { relay in
            let client = try await relay.connect()
            let alice = Author()
            let bob = Author()
            let carol = Author()
            #expect(try await client.publishAndWait(groupEvent(alice, GroupKind.createGroup, "town")).accepted)
            // "Anyone can send a kind:9021 join request ... The relay may then generate a kind:9000 event immediately".
            #expect(try await client.publishAndWait(groupEvent(bob, GroupKind.joinRequest, "town")).accepted)
            #expect(try await relay.relay.groups?.store.group("town")?.members[bob.pubkey] == [])
            // "Any user can send one of these events ... in order to be automatically removed".
            #expect(try await client.publishAndWait(groupEvent(bob, GroupKind.leaveRequest, "town")).accepted)
            #expect(try await relay.relay.groups?.store.group("town")?.members[bob.pubkey] == nil)
            #expect(try await client.refusal(of: groupEvent(bob, GroupKind.leaveRequest, "town", content: "again"))?.hasPrefix("invalid:") == true)

            // Roles: a moderator may delete events, not put users.
            let promote = groupEvent(alice, GroupKind.putUser, "town", [["p", carol.pubkey.hex, "moderator"]])
            #expect(try await client.publishAndWait(promote).accepted)
            let note = groupEvent(bob, 9, "town", content: "spam")
            #expect(try await client.publishAndWait(note).accepted)
            #expect(try await client.refusal(of: groupEvent(carol, GroupKind.putUser, "town", [["p", bob.pubkey.hex]]))?.hasPrefix("restricted:") == true)
            #expect(try await client.publishAndWait(groupEvent(carol, GroupKind.deleteEvent, "town", [["e", note.id.hex]])).accepted)
            #expect(try await client.query("n", ##"{"ids":["\##(note.id.hex)"]}"##).isEmpty)
            let admins = try await client.query("a", ##"{"kinds":[39001],"#d":["town"]}"##)
            #expect((admins.first?["tags"] as? [[String]])?.contains(["p", carol.pubkey.hex, "moderator"]) == true)

            // Hidden and private: the metadata and the events are for members only, counts included.
            let hide = groupEvent(alice, GroupKind.editMetadata, "town", [["hidden"], ["private"]])
            #expect(try await client.publishAndWait(hide).accepted)
            let secret = groupEvent(alice, 9, "town", content: "members only")
            #expect(try await client.publishAndWait(secret).accepted)
            #expect(try await client.query("m", ##"{"kinds":[39000],"#d":["town"]}"##).isEmpty)
            #expect(try await client.query("k", #"{"kinds":[9]}"#).isEmpty)
            try await client.send(#"["COUNT","c",{"kinds":[9]}]"#)
            let count = try await client.next()
            #expect(count.type == "COUNT" && count.object(2)?["count"] as? Int == 0, "\(count)")
            let member = try await relay.connect()
            try await member.request("m", ##"{"#h":["town"]}"##)
            let challenge = try await member.challenge()
            _ = try await member.closedReason("m")
            #expect(try await member.authenticate(as: carol, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await member.query("m", ##"{"kinds":[39000],"#d":["town"]}"##).count == 1)
            #expect(try await member.query("k", #"{"kinds":[9]}"#).ids == [secret.id.hex])
            await client.close()
            await member.close()
        }
    }

    @Test("what a client can grow is bounded: groups per relay, members per group")
    func bounds() async throws {
        try await TestRelay.with(configure: {
            $0.groups.enabled = true
            $0.groups.maxGroups = 1
            $0.groups.maxMembers = 2
        }) { relay in
            let client = try await relay.connect()
            let alice = Author()
            #expect(try await client.publishAndWait(groupEvent(alice, GroupKind.createGroup, "one")).accepted)
            #expect(try await client.refusal(of: groupEvent(alice, GroupKind.createGroup, "two"))?.hasPrefix("restricted:") == true)
            #expect(try await client.publishAndWait(groupEvent(Author(), GroupKind.joinRequest, "one")).accepted)
            #expect(try await client.refusal(of: groupEvent(Author(), GroupKind.joinRequest, "one"))?.hasPrefix("restricted:") == true)
            let put = groupEvent(alice, GroupKind.putUser, "one", [["p", Author().pubkey.hex]])
            #expect(try await client.refusal(of: put)?.hasPrefix("restricted:") == true)
            #expect(try await relay.relay.groups?.store.group("one")?.members.count == 2)
            await client.close()
        }
    }

    @Test("NIP-11 lists 29 and 43 with groups.enabled, and neither without")
    func informationDocument() async throws {
        try await TestRelay.with(configure: { $0.groups.enabled = true }) { relay in
            let nips = try await relay.informationDocument()["supported_nips"] as? [Int] ?? []
            #expect(nips.contains(29) && nips.contains(43))
            let me = try await relay.informationDocument()["self"] as? String
            #expect(me == relay.relay.groups?.identity.publicKey.hex)
        }
        try await TestRelay.with { relay in
            let nips = try await relay.informationDocument()["supported_nips"] as? [Int] ?? []
            #expect(!nips.contains(29) && !nips.contains(43))
        }
    }
}

@Suite("NIP-29 groups on PostgreSQL", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct NIP29GroupsPostgresTests {
    @Test("a group's life on PostgreSQL")
    func lifeOfAGroup() async throws {
        try await TestRelay.withPostgres(configure: { $0.groups.enabled = true }) { relay in
            try await GroupLife(relay: relay, other: relay).run()
        }
    }

    @Test("two nodes on one database: a change made through one holds on the other within a second")
    func twoNodes() async throws {
        let schema = TestPostgres.freshSchema()
        // The operator gives every node the same key (`relay.secret_key`): one relay to clients.
        let identity = RelayIdentity(secretKey: .generate())
        let configure: (inout RelayConfiguration) -> Void = {
            $0.groups.enabled = true
            $0.identity = identity
        }
        do {
            try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) { a in
                try await TestRelay.with(configure: configure, store: { try await TestPostgres.store(schema: schema) }) { b in
                    try await GroupLife(relay: a, other: b).run()
                }
            }
            try await TestPostgres.dropSchema(schema)
        } catch {
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
    }
}

/// An event sent to group `id`: its kind, the `h` tag and any other tags.
func groupEvent(_ author: Author, _ kind: Kind, _ id: String, _ tags: [NostrCore.Tag] = [], content: String = "") -> Event {
    author.event(kind: kind, content: content, tags: [["h", id]] + tags)
}

/// The whole life of one group, its admin talking to `relay` and everyone else to `other`
/// (the same relay, or another node on the same database): every step must hold on both.
struct GroupLife {
    let relay: TestRelay
    let other: TestRelay
    let alice = Author()
    let bob = Author()
    let carol = Author()
    let id = "pizza"

    func run() async throws {
        let relayKey = try #require(relay.relay.groups?.identity.publicKey)
        let admin = try await relay.connect()
        let elsewhere = try await other.connect()

        // create-group: the creator is its admin, and the relay signs the four state events.
        #expect(try await admin.publishAndWait(groupEvent(alice, GroupKind.createGroup, id)).accepted)
        let created = try await stateEvents(on: admin)
        #expect(created.count == 4)
        #expect(created.values.allSatisfy { $0.pubkey == relayKey.hex })
        #expect(created[GroupKind.admins]?.tags.contains(["p", alice.pubkey.hex, "admin"]) == true)
        #expect(created[GroupKind.members]?.tags.contains(["p", alice.pubkey.hex]) == true)
        #expect(created[GroupKind.roles]?.tags.contains { $0.first == "role" && $0.dropFirst().first == "admin" } == true)

        // edit-metadata: private, restricted and closed; 39000 is re-signed with them.
        let edit = groupEvent(
            alice, GroupKind.editMetadata, id, [["name", "Pizza Lovers"], ["private"], ["restricted"], ["closed"]])
        #expect(try await admin.publishAndWait(edit).accepted)
        let edited = try await stateEvents(on: admin)
        #expect(edited[GroupKind.metadata]?.id != created[GroupKind.metadata]?.id)
        #expect(edited[GroupKind.metadata]?.tags.contains(["name", "Pizza Lovers"]) == true)
        for flag in ["private", "restricted", "closed"] {
            #expect(edited[GroupKind.metadata]?.tags.contains([flag]) == true, "\(flag)")
        }

        // "If a group is closed, join requests are not honored unless they include an invite code."
        let uninvited = groupEvent(bob, GroupKind.joinRequest, id)
        #expect(try await elsewhere.refusal(of: uninvited)?.hasPrefix("restricted:") == true)
        #expect(try await admin.publishAndWait(groupEvent(alice, GroupKind.createInvite, id, [["code", "slice-42"]])).accepted)
        let join = groupEvent(bob, GroupKind.joinRequest, id, [["code", "slice-42"]])
        #expect(try await elsewhere.publishAndWait(join).accepted)
        // "If a user is already a member, the event MUST be rejected with duplicate:".
        let again = groupEvent(bob, GroupKind.joinRequest, id, [["code", "slice-42"]], content: "again")
        #expect(try await elsewhere.refusal(of: again)?.hasPrefix("duplicate:") == true)
        // A code admits one person once.
        let reused = groupEvent(carol, GroupKind.joinRequest, id, [["code", "slice-42"]])
        #expect(try await admin.refusal(of: reused)?.hasPrefix("restricted:") == true)
        let joined = try await stateEvents(on: admin)
        #expect(joined[GroupKind.members]?.tags.contains(["p", bob.pubkey.hex]) == true)
        #expect(joined[GroupKind.members]?.tags.contains(["p", carol.pubkey.hex]) == false)
        #expect(joined[GroupKind.members]?.id != edited[GroupKind.members]?.id)
        // "The relay may then generate a kind:9000 event immediately".
        // (Read from the store: the group is private, and the admin's connection has not authenticated.)
        let welcome = try await relay.relay.store.query(
            [Filter(authors: [relayKey], kinds: [GroupKind.putUser], tags: [UInt8(ascii: "p"): [bob.pubkey.hex]])],
            maxLimit: 10, now: now())
        #expect(welcome.count == 1)

        // A member posts with h; a non-member may not write to a restricted group.
        let post = groupEvent(bob, 9, id, content: "margherita")
        #expect(try await elsewhere.publishAndWait(post).accepted)
        #expect(try await elsewhere.refusal(of: groupEvent(carol, 9, id))?.hasPrefix("restricted:") == true)

        // A plain member's moderation is refused, and changes nothing.
        let byMember = groupEvent(bob, GroupKind.putUser, id, [["p", carol.pubkey.hex]])
        #expect(try await elsewhere.refusal(of: byMember)?.hasPrefix("restricted:") == true)
        #expect(try await relay.relay.groups?.store.group(id)?.members[carol.pubkey] == nil)

        // Private: only members read, after NIP-42 AUTH.
        let stranger = try await other.connect()
        try await stranger.request("g", ##"{"#h":["\##(id)"]}"##)
        let challenge = try await stranger.challenge()
        #expect(try await stranger.closedReason("g").hasPrefix("auth-required:"))
        #expect(try await stranger.authenticate(as: carol, challenge: challenge, relayURL: other.url).accepted)
        try await stranger.request("g", ##"{"#h":["\##(id)"]}"##)
        #expect(try await stranger.closedReason("g").hasPrefix("restricted:"))
        let member = try await other.connect()
        try await member.request("g", ##"{"#h":["\##(id)"]}"##)
        let memberChallenge = try await member.challenge()
        _ = try await member.closedReason("g")
        #expect(try await member.authenticate(as: bob, challenge: memberChallenge, relayURL: other.url).accepted)
        #expect(try await member.query("g", ##"{"kinds":[9],"#h":["\##(id)"]}"##).ids == [post.id.hex])

        // An admin removes bob: his posts are refused and, the group being private, his reads.
        #expect(try await admin.publishAndWait(groupEvent(alice, GroupKind.removeUser, id, [["p", bob.pubkey.hex]])).accepted)
        #expect(try await elsewhere.refusal(of: groupEvent(bob, 9, id, content: "still here?"))?.hasPrefix("restricted:") == true)
        // Through the other node's copy of the groups, which follows the store's notifications.
        #expect(try await waitUntil(timeout: .seconds(3)) { try await !servesGroup(to: member) })
        let removed = try await stateEvents(on: elsewhere)
        #expect(removed[GroupKind.members]?.tags.contains(["p", bob.pubkey.hex]) == false)
        #expect(removed[GroupKind.members]?.id != joined[GroupKind.members]?.id)

        // delete-event by the admin removes the post.
        #expect(try await admin.publishAndWait(groupEvent(alice, GroupKind.deleteEvent, id, [["e", post.id.hex]])).accepted)
        #expect(try await relay.relay.store.query([Filter(ids: [post.id])], maxLimit: 1, now: now()).isEmpty)

        for client in [admin, elsewhere, stranger, member] { await client.close() }
    }

    /// Whether a REQ for the group's events is served to `client` (EOSE) rather than CLOSED.
    private func servesGroup(to client: NostrTestClient) async throws -> Bool {
        try await client.request("g2", ##"{"#h":["\##(id)"]}"##)
        while true {
            let message = try await client.next()
            guard message.string(1) == "g2" else { continue }
            if message.type == "CLOSED" { return false }
            if message.type == "EOSE" {
                try await client.send(#"["CLOSE","g2"]"#)
                return true
            }
        }
    }

    /// The relay's four state events of the group, by kind, as `client` reads them.
    private func stateEvents(on client: NostrTestClient) async throws -> [Kind: StateEvent] {
        let events = try await client.query("s", ##"{"kinds":[39000,39001,39002,39003],"#d":["\##(id)"]}"##)
        var byKind: [Kind: StateEvent] = [:]
        for event in events {
            guard let kind = event["kind"] as? Int, let id = event["id"] as? String, let pubkey = event["pubkey"] as? String,
                let tags = event["tags"] as? [[String]]
            else { continue }
            byKind[Kind(UInt16(kind))] = StateEvent(id: id, pubkey: pubkey, tags: tags)
        }
        return byKind
    }

    struct StateEvent {
        var id: String
        var pubkey: String
        var tags: [[String]]
    }
}
