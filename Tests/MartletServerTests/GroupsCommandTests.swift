import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// `martlet groups` against `martlet serve` with `groups.enabled`, both real processes.
@Suite("martlet groups")
struct GroupsCommandTests {
    @Test("martlet groups creates, lists and deletes a group; the relay signs its metadata with NIP-11's self")
    func createListDelete() async throws {
        let secret = String((0..<64).map { _ in "0123456789abcdef".randomElement()! })
        let admin = try #require(SecretKey(hex: secret))
        let owner = Author()
        try await withTemporaryFolder("martlet-groups") { folder in
            let relay = try await RelayProcess.start(
                data: folder,
                environment: ["MARTLET_MANAGEMENT_ADMIN_PUBKEYS": admin.publicKey.hex, "MARTLET_GROUPS_ENABLED": "true"])
            do {
                let url = "ws://127.0.0.1:\(relay.port)"
                let key = ["--url", url, "--key", secret]
                let created = try await MartletCommand.run(["groups", "create", "pizza", owner.pubkey.hex, "Pizza Lovers"] + key)
                #expect(created.status == 0, "\(created.errors)")
                let listed = try await MartletCommand.run(["groups", "list"] + key)
                #expect(listed.output.contains("pizza") && listed.output.contains(owner.pubkey.hex), "\(listed.output)")
                let twice = try await MartletCommand.run(["groups", "create", "pizza", owner.pubkey.hex] + key)
                #expect(twice.status != 0)

                let document = try await HTTPGet.informationDocument(port: relay.port)
                let me = try #require(document["self"] as? String)
                #expect((document["supported_nips"] as? [Int])?.contains(29) == true)
                let client = try await relay.connect()
                let metadata = try await client.query("m", ##"{"kinds":[39000],"#d":["pizza"]}"##)
                #expect(metadata.first?["pubkey"] as? String == me)
                // The owner is the group's admin: their moderation is accepted.
                let edit = owner.event(kind: 9002, content: "", tags: [["h", "pizza"], ["name", "Pizza"], ["closed"]])
                #expect(try await client.publishAndWait(edit).accepted)

                let deleted = try await MartletCommand.run(["groups", "delete", "pizza"] + key)
                #expect(deleted.status == 0, "\(deleted.errors)")
                #expect(try await client.query("m", ##"{"kinds":[39000],"#d":["pizza"]}"##).isEmpty)
                let unknown = try await MartletCommand.run(["groups", "rename", "pizza"] + key)
                #expect(unknown.status != 0)
                await client.close()
            } catch {
                await relay.stop(signal: SIGTERM)
                throw error
            }
            await relay.stop(signal: SIGTERM)
        }
    }
}
