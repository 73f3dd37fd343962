public import NostrCore

/// The event kinds of NIP-29 the relay acts on.
public enum GroupKind {
    // Moderation, sent by admins (`kinds:9000-9020`).
    public static let putUser: Kind = 9000
    public static let removeUser: Kind = 9001
    public static let editMetadata: Kind = 9002
    public static let deleteEvent: Kind = 9005
    public static let createGroup: Kind = 9007
    public static let deleteGroup: Kind = 9008
    public static let createInvite: Kind = 9009
    public static let moderation: ClosedRange<UInt16> = 9000...9020
    // Sent by any user about themselves.
    public static let joinRequest: Kind = 9021
    public static let leaveRequest: Kind = 9022
    // Signed by the relay only, addressed by the group id in `d`.
    public static let metadata: Kind = 39000
    public static let admins: Kind = 39001
    public static let members: Kind = 39002
    public static let roles: Kind = 39003
    public static let relaySigned: ClosedRange<UInt16> = 39000...39009

    /// Kinds that are about a group whatever their tags: they must name it in `h`.
    static func requiresGroup(_ kind: Kind) -> Bool {
        moderation.contains(kind.rawValue) || kind == joinRequest || kind == leaveRequest
    }
}

/// The roles this relay gives a meaning to, and what each may do; NIP-29 leaves both to the
/// relay and lets clients name other roles, which are kept and shown but grant nothing.
enum GroupRole: String, CaseIterable {
    case admin
    case moderator

    var summary: String {
        switch self {
        case .admin: "may add and remove members, give roles, edit the metadata, delete events, invite and delete the group"
        case .moderator: "may delete events and create invite codes"
        }
    }

    var allowedKinds: Set<Kind> {
        switch self {
        case .admin:
            [GroupKind.putUser, GroupKind.removeUser, GroupKind.editMetadata, GroupKind.deleteEvent,
             GroupKind.deleteGroup, GroupKind.createInvite]
        case .moderator: [GroupKind.deleteEvent, GroupKind.createInvite]
        }
    }

    /// Whether someone holding `roles` may send a moderation event of `kind`.
    static func allows(_ roles: [String], _ kind: Kind) -> Bool {
        roles.contains { GroupRole(rawValue: $0)?.allowedKinds.contains(kind) == true }
    }

    /// Whether `roles` include one with a privilege (NIP-29: such members are the group's
    /// admins "in a broad sense", listed in kind 39001).
    static func isPrivileged(_ roles: [String]) -> Bool {
        roles.contains { GroupRole(rawValue: $0) != nil }
    }
}

/// What the relay accepts as a group id, a role name or an invite code: bounded, and
/// plain enough to be a SQL value, a NOTIFY payload and a `d` tag without surprises.
enum GroupNames {
    static let maxIDLength = 128
    static let maxRoleLength = 64
    static let maxRoles = 16
    static let maxCodeLength = 128

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxIDLength
            && id.utf8.allSatisfy { $0.isASCIIWordCharacter || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    static func isValidRole(_ role: String) -> Bool {
        !role.isEmpty && role.utf8.count <= maxRoleLength && role.unicodeScalars.allSatisfy {
            !$0.properties.isWhitespace && $0.properties.generalCategory != .control
        }
    }

    static func isValidCode(_ code: String) -> Bool {
        !code.isEmpty && code.utf8.count <= maxCodeLength && code.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension UInt8 {
    fileprivate var isASCIIWordCharacter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "_")
    }
}
