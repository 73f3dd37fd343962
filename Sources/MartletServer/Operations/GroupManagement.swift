import MartletRelay
import MartletStore
import NostrCore

/// Martlet's own NIP-86 methods for NIP-29 groups (an extension: NIP-86 names none):
/// `listgroups`, `creategroup <id> <owner pubkey> [name]`, `deletegroup <id>`. A group made
/// here is as one made by its owner's kind 9007: the owner is its admin, and the relay
/// publishes its state events.
struct GroupManagement {
    static let methods = ["listgroups", "creategroup", "deletegroup"]

    struct Refusal: Error {
        let message: String
    }

    let groups: Groups?

    func perform(_ method: String, _ params: [Any]) async throws -> Any {
        guard let groups else { throw Refusal(message: "groups are not enabled on this relay (groups.enabled)") }
        switch method {
        case "listgroups":
            return try await groups.store.allGroups().map(Self.object)
        case "creategroup":
            guard let id = params.first as? String, params.count >= 2, let owner = (params[1] as? String).flatMap(PublicKey.init(hex:))
            else { throw Refusal(message: "creategroup takes a group id and the owner's hex pubkey") }
            let name = params.count > 2 ? params[2] as? String ?? "" : ""
            guard try await groups.create(id: id, owner: owner, metadata: GroupMetadata(name: name)) else {
                throw Refusal(message: "group '\(id)' exists already, or is not a group id (letters, digits, '-', '_', '.')")
            }
            return true
        case "deletegroup":
            guard let id = params.first as? String else { throw Refusal(message: "deletegroup takes a group id") }
            guard try await groups.delete(id: id) else { throw Refusal(message: "there is no group '\(id)'") }
            return true
        default:
            throw Refusal(message: "unsupported method: \(method)")
        }
    }

    private static func object(_ group: StoredGroup) -> [String: Any] {
        let metadata = group.metadata
        let flags = [
            ("private", metadata.isPrivate), ("restricted", metadata.isRestricted), ("hidden", metadata.isHidden),
            ("closed", metadata.isClosed),
        ].filter(\.1).map(\.0)
        return [
            "id": group.id, "name": metadata.name, "members": group.members.count,
            "admins": group.members.filter { $0.value.contains("admin") }.map(\.key.hex).sorted(), "flags": flags,
        ]
    }
}
