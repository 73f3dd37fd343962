import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The `GroupStore` contract on every store: what NIP-29 needs of it is that a check and the
/// change it guards are one, so that nothing is half-applied and a code admits once.
@Suite("Group store contract")
struct GroupStoreContract {
    @Test("create, put, remove and delete a group; a second create changes nothing", arguments: storeFactories)
    func groupLife(factory: any StoreFactory) async throws {
        try await factory.withStore { store in
            let groups = try #require(store as? any GroupStore)
            let alice = Author().pubkey
            let bob = Author().pubkey
            let record = GroupRecord(id: "pizza", metadata: GroupMetadata(name: "Pizza", isPrivate: true), createdAt: testTime)
            #expect(try await groups.createGroup(record, creator: alice, roles: ["admin"]))
            #expect(try await !groups.createGroup(GroupRecord(id: "pizza", createdAt: testTime), creator: bob, roles: ["admin"]))
            var stored = try #require(try await groups.group("pizza"))
            #expect(stored.metadata == record.metadata)
            #expect(stored.members == [alice: ["admin"]])

            #expect(try await groups.putMember(bob, roles: ["moderator", "baker"], in: "pizza"))
            #expect(try await !groups.putMember(bob, roles: [], in: "nowhere"))
            #expect(try await groups.group("nowhere") == nil)
            stored = try #require(try await groups.group("pizza"))
            #expect(stored.members[bob] == ["moderator", "baker"])
            #expect(try await groups.removeMember(bob, from: "pizza"))
            #expect(try await !groups.removeMember(bob, from: "pizza"))

            var metadata = record.metadata
            metadata.isClosed = true
            metadata.about = "dough"
            #expect(try await groups.setMetadata(metadata, of: "pizza"))
            #expect(try await groups.group("pizza")?.metadata == metadata)
            #expect(try await groups.allGroups().map(\.id) == ["pizza"])

            #expect(try await groups.deleteGroup("pizza"))
            #expect(try await !groups.deleteGroup("pizza"))
            #expect(try await groups.allGroups().isEmpty)
        }
    }

    @Test("an invite code admits one person once, only to its group", arguments: storeFactories)
    func inviteCodes(factory: any StoreFactory) async throws {
        try await factory.withStore { store in
            let groups = try #require(store as? any GroupStore)
            let alice = Author().pubkey
            let bob = Author().pubkey
            let carol = Author().pubkey
            #expect(try await groups.createGroup(GroupRecord(id: "a", createdAt: testTime), creator: alice, roles: ["admin"]))
            #expect(try await groups.createGroup(GroupRecord(id: "b", createdAt: testTime), creator: alice, roles: ["admin"]))
            #expect(try await groups.createInvite(code: "x", group: "a", by: alice))
            #expect(try await !groups.createInvite(code: "x", group: "a", by: alice))
            #expect(try await !groups.createInvite(code: "y", group: "nowhere", by: alice))
            #expect(try await groups.redeemInvite(code: "x", group: "b", by: bob) == .unknownCode)
            #expect(try await groups.redeemInvite(code: "x", group: "a", by: alice) == .alreadyMember)
            #expect(try await groups.redeemInvite(code: "x", group: "a", by: bob) == .joined)
            #expect(try await groups.redeemInvite(code: "x", group: "a", by: carol) == .alreadyUsed)
            #expect(try await groups.group("a")?.members[bob] == [])
            #expect(try await groups.group("a")?.members[carol] == nil)

            try await groups.createRelayInvite(code: "r", createdAt: testTime, forgetBefore: 0)
            try await groups.createRelayInvite(code: "old", createdAt: testTime - 100, forgetBefore: 0)
            #expect(try await groups.redeemRelayInvite(code: "old", by: bob, issuedAfter: testTime - 10) == .expired)
            #expect(try await groups.redeemRelayInvite(code: "r", by: bob, issuedAfter: testTime - 10) == .joined)
            #expect(try await groups.redeemRelayInvite(code: "r", by: carol, issuedAfter: testTime - 10) == .alreadyUsed)
            #expect(try await groups.redeemRelayInvite(code: "nope", by: carol, issuedAfter: 0) == .unknownCode)
            // Codes older than `forgetBefore` are forgotten when the next one is made.
            try await groups.createRelayInvite(code: "new", createdAt: testTime + 10, forgetBefore: testTime)
            #expect(try await groups.redeemRelayInvite(code: "old", by: carol, issuedAfter: 0) == .unknownCode)
        }
    }

    @Test("of many redeeming one code at once, exactly one joins", arguments: storeFactories)
    func concurrentRedemption(factory: any StoreFactory) async throws {
        try await factory.withStore { store in
            let groups = try #require(store as? any GroupStore)
            let alice = Author().pubkey
            #expect(try await groups.createGroup(GroupRecord(id: "race", createdAt: testTime), creator: alice, roles: ["admin"]))
            #expect(try await groups.createInvite(code: "once", group: "race", by: alice))
            let outcomes = try await withThrowingTaskGroup(of: InviteRedemption.self) { tasks in
                for _ in 0..<8 {
                    tasks.addTask { try await groups.redeemInvite(code: "once", group: "race", by: Author().pubkey) }
                }
                return try await tasks.reduce(into: [InviteRedemption]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .joined }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyUsed }.count == 7)
            #expect(try await groups.group("race")?.members.count == 2)
        }
    }
}
