public import NostrCore

/// Where NIP-29 groups and NIP-43 relay invites live: the group's settings, its members
/// with their roles, and the invite codes that admit someone once.
///
/// Every method is one transaction, so a check and the change it guards cannot be split by
/// another writer (two nodes on one PostgreSQL database redeeming the same code, say): a
/// code is used once, a member is added only to a group that exists. Both adapters
/// (SQLite, PostgreSQL) implement it beside `EventStore`; the relay finds it with
/// `store as? any GroupStore`.
///
/// ```swift
/// _ = try await store.createGroup(GroupRecord(id: "pizza", createdAt: now), creator: alice, roles: ["admin"])
/// _ = try await store.createInvite(code: "x7", group: "pizza", by: alice)
/// let outcome = try await store.redeemInvite(code: "x7", group: "pizza", by: bob)   // .joined
/// ```
public protocol GroupStore: Sendable {
    /// Every group with its members (the relay's read rules keep them in memory).
    func allGroups() async throws -> [StoredGroup]

    /// One group with its members, or nil when there is none by that id.
    func group(_ id: String) async throws -> StoredGroup?

    /// Creates `record` with `creator` as its first member with `roles`; false (and no
    /// change) when a group with that id exists.
    func createGroup(_ record: GroupRecord, creator: PublicKey, roles: [String]) async throws -> Bool

    /// Removes the group, its members and its invites; false when there was none.
    func deleteGroup(_ id: String) async throws -> Bool

    /// Replaces the group's metadata; false when there is no such group.
    func setMetadata(_ metadata: GroupMetadata, of id: String) async throws -> Bool

    /// Adds `pubkey` to the group, or sets its roles when it is a member; false when there
    /// is no such group.
    func putMember(_ pubkey: PublicKey, roles: [String], in id: String) async throws -> Bool

    /// Takes `pubkey` out of the group; false when it was not a member.
    func removeMember(_ pubkey: PublicKey, from id: String) async throws -> Bool

    /// Records an invite code of the group; false when the group does not exist or the code
    /// is already one of its codes.
    func createInvite(code: String, group id: String, by creator: PublicKey) async throws -> Bool

    /// Uses the code to make `pubkey` a plain member, in one transaction: a code admits
    /// one person once.
    func redeemInvite(code: String, group id: String, by pubkey: PublicKey) async throws -> InviteRedemption

    /// NIP-43: records a code that admits one person to the relay, and forgets the codes
    /// made before `forgetBefore` (expired, used or not), so that they do not pile up.
    func createRelayInvite(code: String, createdAt: Int64, forgetBefore: Int64) async throws

    /// NIP-43: uses a relay invite code for `pubkey`; `.joined` at most once per code, and
    /// `.expired` for a code made before `issuedAfter`.
    func redeemRelayInvite(code: String, by pubkey: PublicKey, issuedAfter: Int64) async throws -> InviteRedemption
}

/// A store shared by several relay nodes says when a group changed under this process, so
/// that each node's copy of the groups (for its read rules) follows within moments.
///
/// ```swift
/// for await change in store.groupChanges() {
///     switch change { case .group(let id): reload(id); case .everything: reloadAll() }
/// }
/// ```
public protocol GroupFeed: GroupStore {
    /// A change to one group (any node's, this one's too), or `.everything` when changes may
    /// have been missed (once the store listens, and after it lost touch with the
    /// database). Ends when the store is closed or the consumer is cancelled.
    func groupChanges() -> AsyncStream<GroupChange>
}

/// What changed, as a group feed says it.
public enum GroupChange: Sendable, Equatable {
    case group(String)
    case everything
}

/// How using an invite code went.
public enum InviteRedemption: Sendable, Equatable {
    /// The code was good and is now used: the person is a member.
    case joined
    /// The person was a member already; the code is left unused.
    case alreadyMember
    /// No such code (for this group), or no such group.
    case unknownCode
    /// The code admitted someone before.
    case alreadyUsed
    /// The code is older than its lifetime (NIP-43's relay invites).
    case expired
}

/// NIP-29's display fields and flags of a group, as kind 39000 shows them.
public struct GroupMetadata: Sendable, Equatable {
    public var name = ""
    public var picture = ""
    public var about = ""
    public var banner = ""
    /// Only members read the group's events.
    public var isPrivate = false
    /// Only members write to the group.
    public var isRestricted = false
    /// The group's metadata is shown to members only.
    public var isHidden = false
    /// Join requests without an invite code are not honoured.
    public var isClosed = false

    public init(
        name: String = "", picture: String = "", about: String = "", banner: String = "", isPrivate: Bool = false,
        isRestricted: Bool = false, isHidden: Bool = false, isClosed: Bool = false
    ) {
        self.name = name
        self.picture = picture
        self.about = about
        self.banner = banner
        self.isPrivate = isPrivate
        self.isRestricted = isRestricted
        self.isHidden = isHidden
        self.isClosed = isClosed
    }
}

/// A group's own row: its id, metadata and when it was created.
public struct GroupRecord: Sendable, Equatable {
    public var id: String
    public var metadata: GroupMetadata
    public var createdAt: Int64

    public init(id: String, metadata: GroupMetadata = GroupMetadata(), createdAt: Int64) {
        self.id = id
        self.metadata = metadata
        self.createdAt = createdAt
    }
}

/// A group as stored: its record and its members, each with its roles (none for a plain
/// member).
public struct StoredGroup: Sendable, Equatable {
    public var record: GroupRecord
    public var members: [PublicKey: [String]]

    public init(record: GroupRecord, members: [PublicKey: [String]]) {
        self.record = record
        self.members = members
    }

    public var id: String { record.id }
    public var metadata: GroupMetadata { record.metadata }
}

/// Roles are kept as one text column, words separated by spaces; the relay accepts only
/// role names without white space (`Groups` checks them before they get here).
enum GroupRoles {
    static func encode(_ roles: [String]) -> String { roles.joined(separator: " ") }
    static func decode(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
}
