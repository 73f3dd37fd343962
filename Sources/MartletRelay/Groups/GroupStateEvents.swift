import MartletStore
import NostrCore

/// The four addressable events NIP-29 has the relay publish about a group, built from the
/// stored group (signing and publishing are `Groups`'s): "a single instance of each (or
/// none) should exist at all times for each group", reflecting "the latest group state".
enum GroupStateEvents {
    /// An event before its `created_at` and signature.
    struct Draft {
        var kind: Kind
        var tags: [Tag]
        var content: String
    }

    static let kinds: Set<Kind> = [GroupKind.metadata, GroupKind.admins, GroupKind.members, GroupKind.roles]

    static func all(of group: StoredGroup) -> [Draft] {
        [metadata(group), admins(group), members(group), roles(group)]
    }

    /// Kind 39000: the display fields and the flags, a flag present only when set.
    static func metadata(_ group: StoredGroup) -> Draft {
        let metadata = group.metadata
        var tags: [Tag] = [["d", group.id]]
        for (name, value) in [
            ("name", metadata.name), ("picture", metadata.picture), ("about", metadata.about), ("banner", metadata.banner),
        ] where !value.isEmpty {
            tags.append([name, value])
        }
        for (flag, isSet) in [
            ("private", metadata.isPrivate), ("restricted", metadata.isRestricted), ("hidden", metadata.isHidden),
            ("closed", metadata.isClosed),
        ] where isSet {
            tags.append([flag])
        }
        return Draft(kind: GroupKind.metadata, tags: tags, content: "")
    }

    /// Kind 39001: members holding a role with a privilege, each with all their roles.
    static func admins(_ group: StoredGroup) -> Draft {
        let admins = sortedMembers(group).filter { GroupRole.isPrivileged($0.roles) }
        return Draft(
            kind: GroupKind.admins, tags: [["d", group.id]] + admins.map { Tag(["p", $0.pubkey.hex] + $0.roles) },
            content: "admins of group \(group.id)")
    }

    /// Kind 39002: every member.
    static func members(_ group: StoredGroup) -> Draft {
        Draft(
            kind: GroupKind.members, tags: [["d", group.id]] + sortedMembers(group).map { Tag(["p", $0.pubkey.hex]) },
            content: "members of group \(group.id)")
    }

    /// Kind 39003: the roles this relay gives a meaning to.
    static func roles(_ group: StoredGroup) -> Draft {
        Draft(
            kind: GroupKind.roles, tags: [["d", group.id]] + GroupRole.allCases.map { Tag(["role", $0.rawValue, $0.summary]) },
            content: "roles of group \(group.id)")
    }

    private static func sortedMembers(_ group: StoredGroup) -> [(pubkey: PublicKey, roles: [String])] {
        group.members.map { (pubkey: $0.key, roles: $0.value) }.sorted { $0.pubkey.hex < $1.pubkey.hex }
    }
}
