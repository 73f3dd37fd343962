import GRDB
public import NostrCore

/// NIP-29 groups and NIP-43 invites in the SQLite file, each change one write
/// transaction (GRDB's single writer), so a check and its change cannot be split.
extension SQLiteEventStore: GroupStore {
    public func allGroups() async throws -> [StoredGroup] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT \(Self.groupColumns) FROM groups ORDER BY id")
            return try rows.map { row in
                let record = Self.groupRecord(row)
                return StoredGroup(record: record, members: try Self.members(of: record.id, db))
            }
        }
    }

    public func group(_ id: String) async throws -> StoredGroup? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.groupColumns) FROM groups WHERE id = ?", arguments: [id])
            else { return nil }
            return StoredGroup(record: Self.groupRecord(row), members: try Self.members(of: id, db))
        }
    }

    public func createGroup(_ record: GroupRecord, creator: PublicKey, roles: [String]) async throws -> Bool {
        try await write { db in
            let metadata = record.metadata
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO groups (id, name, picture, about, banner, private, restricted, hidden, closed, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id, metadata.name, metadata.picture, metadata.about, metadata.banner, metadata.isPrivate,
                    metadata.isRestricted, metadata.isHidden, metadata.isClosed, record.createdAt,
                ])
            guard db.changesCount == 1 else { return false }
            try db.execute(
                sql: "INSERT INTO group_members (group_id, pubkey, roles) VALUES (?, ?, ?)",
                arguments: [record.id, creator.hex, GroupRoles.encode(roles)])
            return true
        }
    }

    public func deleteGroup(_ id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM group_members WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM group_invites WHERE group_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM groups WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func setMetadata(_ metadata: GroupMetadata, of id: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE groups SET name = ?, picture = ?, about = ?, banner = ?, private = ?, restricted = ?,
                        hidden = ?, closed = ?
                    WHERE id = ?
                    """,
                arguments: [
                    metadata.name, metadata.picture, metadata.about, metadata.banner, metadata.isPrivate,
                    metadata.isRestricted, metadata.isHidden, metadata.isClosed, id,
                ])
            return db.changesCount == 1
        }
    }

    public func putMember(_ pubkey: PublicKey, roles: [String], in id: String) async throws -> Bool {
        try await write { db in
            guard try Self.groupExists(id, db) else { return false }
            try db.execute(
                sql: "INSERT OR REPLACE INTO group_members (group_id, pubkey, roles) VALUES (?, ?, ?)",
                arguments: [id, pubkey.hex, GroupRoles.encode(roles)])
            return true
        }
    }

    public func removeMember(_ pubkey: PublicKey, from id: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM group_members WHERE group_id = ? AND pubkey = ?", arguments: [id, pubkey.hex])
            return db.changesCount == 1
        }
    }

    public func createInvite(code: String, group id: String, by creator: PublicKey) async throws -> Bool {
        try await write { db in
            guard try Self.groupExists(id, db) else { return false }
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_invites (group_id, code, created_by) VALUES (?, ?, ?)",
                arguments: [id, code, creator.hex])
            return db.changesCount == 1
        }
    }

    public func redeemInvite(code: String, group id: String, by pubkey: PublicKey) async throws -> InviteRedemption {
        try await write { db in
            let isMember = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM group_members WHERE group_id = ? AND pubkey = ?", arguments: [id, pubkey.hex])
            if isMember == true { return .alreadyMember }
            let usedBy = try Row.fetchOne(
                db, sql: "SELECT used_by FROM group_invites WHERE group_id = ? AND code = ?", arguments: [id, code])
            guard let usedBy else { return .unknownCode }
            if (usedBy[0] as String?) != nil { return .alreadyUsed }
            try db.execute(
                sql: "UPDATE group_invites SET used_by = ? WHERE group_id = ? AND code = ?",
                arguments: [pubkey.hex, id, code])
            try db.execute(
                sql: "INSERT INTO group_members (group_id, pubkey, roles) VALUES (?, ?, '')", arguments: [id, pubkey.hex])
            return .joined
        }
    }

    public func createRelayInvite(code: String, createdAt: Int64, forgetBefore: Int64) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM relay_invites WHERE created_at < ?", arguments: [forgetBefore])
            try db.execute(
                sql: "INSERT OR IGNORE INTO relay_invites (code, created_at) VALUES (?, ?)", arguments: [code, createdAt])
        }
    }

    public func redeemRelayInvite(code: String, by pubkey: PublicKey, issuedAfter: Int64) async throws -> InviteRedemption {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT used_by, created_at FROM relay_invites WHERE code = ?", arguments: [code])
            else { return .unknownCode }
            if (row[0] as String?) != nil { return .alreadyUsed }
            if (row[1] as Int64) < issuedAfter { return .expired }
            try db.execute(sql: "UPDATE relay_invites SET used_by = ? WHERE code = ?", arguments: [pubkey.hex, code])
            return .joined
        }
    }

    private static let groupColumns = "id, name, picture, about, banner, private, restricted, hidden, closed, created_at"

    private static func groupRecord(_ row: Row) -> GroupRecord {
        GroupRecord(
            id: row[0],
            metadata: GroupMetadata(
                name: row[1], picture: row[2], about: row[3], banner: row[4], isPrivate: row[5], isRestricted: row[6],
                isHidden: row[7], isClosed: row[8]),
            createdAt: row[9])
    }

    private static func members(of id: String, _ db: Database) throws -> [PublicKey: [String]] {
        var members: [PublicKey: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT pubkey, roles FROM group_members WHERE group_id = ?", arguments: [id]) {
            guard let pubkey = PublicKey(hex: row[0]) else { continue }
            members[pubkey] = GroupRoles.decode(row[1])
        }
        return members
    }

    private static func groupExists(_ id: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE id = ?", arguments: [id]) == true
    }
}

extension SQLiteSchema {
    /// NIP-29 groups (one row each, the flags of kind 39000 as columns), their members with
    /// space-separated roles, their single-use invite codes, and NIP-43's relay invites.
    static func createGroups(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE groups (
                    id TEXT NOT NULL PRIMARY KEY,
                    name TEXT NOT NULL,
                    picture TEXT NOT NULL,
                    about TEXT NOT NULL,
                    banner TEXT NOT NULL,
                    private INTEGER NOT NULL,
                    restricted INTEGER NOT NULL,
                    hidden INTEGER NOT NULL,
                    closed INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE group_members (
                    group_id TEXT NOT NULL,
                    pubkey TEXT NOT NULL,
                    roles TEXT NOT NULL,
                    PRIMARY KEY (group_id, pubkey)
                ) WITHOUT ROWID;
                CREATE TABLE group_invites (
                    group_id TEXT NOT NULL,
                    code TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    used_by TEXT,
                    PRIMARY KEY (group_id, code)
                ) WITHOUT ROWID;
                CREATE TABLE relay_invites (
                    code TEXT NOT NULL PRIMARY KEY,
                    created_at INTEGER NOT NULL,
                    used_by TEXT
                ) WITHOUT ROWID;
                """)
    }
}
