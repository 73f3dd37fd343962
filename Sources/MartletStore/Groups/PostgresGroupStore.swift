import Logging
import PostgresNIO
public import NostrCore

/// NIP-29 groups and NIP-43 invites in the shared database. Each change is one transaction
/// that also announces the group on `PostgresChannels.groups` (sent if and only if the
/// change commits), so every node's copy of the groups follows within moments
/// (`groupChanges()`). A code is marked used with `used_by IS NULL` in its `WHERE`: of two
/// nodes redeeming it at once, one updates the row and the other finds it used.
extension PostgresEventStore: GroupFeed {
    public func allGroups() async throws -> [StoredGroup] {
        try await bounded("groups read", on: reads) { [logger] client in
            try await client.withConnection { connection in
                var records: [GroupRecord] = []
                for try await row in try await connection.query(
                    "SELECT \(unescaped: Self.groupColumns) FROM groups ORDER BY id", logger: logger
                ).decode(GroupRow.self) {
                    records.append(Self.record(row))
                }
                var members: [String: [PublicKey: [String]]] = [:]
                for try await (group, pubkey, roles) in try await connection.query(
                    "SELECT group_id, pubkey, roles FROM group_members", logger: logger
                ).decode((String, String, String).self) {
                    guard let key = PublicKey(hex: pubkey) else { continue }
                    members[group, default: [:]][key] = GroupRoles.decode(roles)
                }
                return records.map { StoredGroup(record: $0, members: members[$0.id] ?? [:]) }
            }
        }
    }

    public func group(_ id: String) async throws -> StoredGroup? {
        try await bounded("group read", on: reads) { [logger] client in
            try await client.withConnection { connection in
                try await Self.group(id, connection, logger)
            }
        }
    }

    public func createGroup(_ record: GroupRecord, creator: PublicKey, roles: [String]) async throws -> Bool {
        try await announcedGroupChange(record.id) { connection, logger in
            let metadata = record.metadata
            let inserted = try await connection.query(
                """
                INSERT INTO groups (id, name, picture, about, banner, private, restricted, hidden, closed, created_at)
                VALUES (\(record.id), \(metadata.name), \(metadata.picture), \(metadata.about), \(metadata.banner),
                    \(metadata.isPrivate), \(metadata.isRestricted), \(metadata.isHidden), \(metadata.isClosed),
                    \(record.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING true
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { return false }
            try await connection.perform(
                "INSERT INTO group_members (group_id, pubkey, roles) VALUES (\(record.id), \(creator.hex), \(GroupRoles.encode(roles)))",
                logger: logger
            )
            return true
        }
    }

    public func deleteGroup(_ id: String) async throws -> Bool {
        try await announcedGroupChange(id) { connection, logger in
            try await connection.perform("DELETE FROM group_members WHERE group_id = \(id)", logger: logger)
            try await connection.perform("DELETE FROM group_invites WHERE group_id = \(id)", logger: logger)
            return try await !connection.query("DELETE FROM groups WHERE id = \(id) RETURNING true", logger: logger)
                .collect().isEmpty
        }
    }

    public func setMetadata(_ metadata: GroupMetadata, of id: String) async throws -> Bool {
        try await announcedGroupChange(id) { connection, logger in
            try await !connection.query(
                """
                UPDATE groups SET name = \(metadata.name), picture = \(metadata.picture), about = \(metadata.about),
                    banner = \(metadata.banner), private = \(metadata.isPrivate), restricted = \(metadata.isRestricted),
                    hidden = \(metadata.isHidden), closed = \(metadata.isClosed)
                WHERE id = \(id) RETURNING true
                """, logger: logger
            ).collect().isEmpty
        }
    }

    public func putMember(_ pubkey: PublicKey, roles: [String], in id: String) async throws -> Bool {
        try await announcedGroupChange(id) { connection, logger in
            // Locks the group's row: a concurrent delete-group waits, so no member outlives its group.
            guard try await !connection.query("SELECT true FROM groups WHERE id = \(id) FOR UPDATE", logger: logger)
                .collect().isEmpty
            else { return false }
            try await connection.perform(
                """
                INSERT INTO group_members (group_id, pubkey, roles) VALUES (\(id), \(pubkey.hex), \(GroupRoles.encode(roles)))
                ON CONFLICT (group_id, pubkey) DO UPDATE SET roles = excluded.roles
                """, logger: logger
            )
            return true
        }
    }

    public func removeMember(_ pubkey: PublicKey, from id: String) async throws -> Bool {
        try await announcedGroupChange(id) { connection, logger in
            try await !connection.query(
                "DELETE FROM group_members WHERE group_id = \(id) AND pubkey = \(pubkey.hex) RETURNING true",
                logger: logger
            ).collect().isEmpty
        }
    }

    public func createInvite(code: String, group id: String, by creator: PublicKey) async throws -> Bool {
        try await announcedGroupChange(id) { connection, logger in
            guard try await !connection.query("SELECT true FROM groups WHERE id = \(id) FOR UPDATE", logger: logger)
                .collect().isEmpty
            else { return false }
            return try await !connection.query(
                """
                INSERT INTO group_invites (group_id, code, created_by) VALUES (\(id), \(code), \(creator.hex))
                ON CONFLICT (group_id, code) DO NOTHING RETURNING true
                """, logger: logger
            ).collect().isEmpty
        }
    }

    public func redeemInvite(code: String, group id: String, by pubkey: PublicKey) async throws -> InviteRedemption {
        try await announcedGroupChange(id) { connection, logger in
            guard try await !connection.query("SELECT true FROM groups WHERE id = \(id) FOR UPDATE", logger: logger)
                .collect().isEmpty
            else { return .unknownCode }
            let member = try await connection.query(
                "SELECT true FROM group_members WHERE group_id = \(id) AND pubkey = \(pubkey.hex)", logger: logger
            ).collect()
            if !member.isEmpty { return .alreadyMember }
            let claimed = try await connection.query(
                """
                UPDATE group_invites SET used_by = \(pubkey.hex)
                WHERE group_id = \(id) AND code = \(code) AND used_by IS NULL RETURNING true
                """, logger: logger
            ).collect()
            if claimed.isEmpty {
                let exists = try await connection.query(
                    "SELECT true FROM group_invites WHERE group_id = \(id) AND code = \(code)", logger: logger
                ).collect()
                return exists.isEmpty ? .unknownCode : .alreadyUsed
            }
            try await connection.perform(
                "INSERT INTO group_members (group_id, pubkey, roles) VALUES (\(id), \(pubkey.hex), '')", logger: logger
            )
            return .joined
        }
    }

    public func createRelayInvite(code: String, createdAt: Int64, forgetBefore: Int64) async throws {
        try await bounded("relay invite write", on: writes) { client in
            try await client.perform("DELETE FROM relay_invites WHERE created_at < \(forgetBefore)")
            try await client.perform(
                "INSERT INTO relay_invites (code, created_at) VALUES (\(code), \(createdAt)) ON CONFLICT (code) DO NOTHING")
        }
    }

    public func redeemRelayInvite(code: String, by pubkey: PublicKey, issuedAfter: Int64) async throws -> InviteRedemption {
        try await bounded("relay invite write", on: writes) { [logger] client in
            try await client.withTransaction(logger: logger) { connection -> InviteRedemption in
                let claimed = try await connection.query(
                    """
                    UPDATE relay_invites SET used_by = \(pubkey.hex)
                    WHERE code = \(code) AND used_by IS NULL AND created_at >= \(issuedAfter) RETURNING true
                    """,
                    logger: logger
                ).collect()
                if !claimed.isEmpty { return .joined }
                var found: (usedBy: String?, createdAt: Int64)?
                for try await row in try await connection.query(
                    "SELECT used_by, created_at FROM relay_invites WHERE code = \(code)", logger: logger
                ).decode((String?, Int64).self) {
                    found = row
                }
                guard let found else { return .unknownCode }
                // Not claimed above: used already, or too old.
                return found.usedBy == nil && found.createdAt < issuedAfter ? .expired : .alreadyUsed
            }
        }
    }

    public func groupChanges() -> AsyncStream<GroupChange> {
        let (changes, continuation) = AsyncStream.makeStream(of: GroupChange.self, bufferingPolicy: .bufferingNewest(256))
        let channel = channels.groups
        let subscription = listener.subscribe { message in
            switch message {
            case .listening: continuation.yield(.everything)
            case .notification(channel, let group): continuation.yield(.group(group))
            case .notification: break
            case .closed: continuation.finish()
            }
        }
        continuation.onTermination = { [listener] _ in listener.unsubscribe(subscription) }
        return changes
    }

    // MARK: Helpers

    private typealias GroupRow = (String, String, String, String, String, Bool, Bool, Bool, Bool, Int64)

    private static let groupColumns = "id, name, picture, about, banner, private, restricted, hidden, closed, created_at"

    private static func record(_ row: GroupRow) -> GroupRecord {
        GroupRecord(
            id: row.0,
            metadata: GroupMetadata(
                name: row.1, picture: row.2, about: row.3, banner: row.4, isPrivate: row.5, isRestricted: row.6,
                isHidden: row.7, isClosed: row.8),
            createdAt: row.9)
    }

    private static func group(_ id: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> StoredGroup? {
        var record: GroupRecord?
        for try await row in try await connection.query(
            "SELECT \(unescaped: groupColumns) FROM groups WHERE id = \(id)", logger: logger
        ).decode(GroupRow.self) {
            record = Self.record(row)
        }
        guard let record else { return nil }
        var members: [PublicKey: [String]] = [:]
        for try await (pubkey, roles) in try await connection.query(
            "SELECT pubkey, roles FROM group_members WHERE group_id = \(id)", logger: logger
        ).decode((String, String).self) {
            if let key = PublicKey(hex: pubkey) { members[key] = GroupRoles.decode(roles) }
        }
        return StoredGroup(record: record, members: members)
    }

    /// Runs `change` and announces group `id` in one transaction: the notification goes out
    /// if and only if the change commits (even a refused one: a spare reload is harmless).
    private func announcedGroupChange<T: Sendable>(
        _ id: String, _ change: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await bounded("group write", on: writes) { [logger, channels] client in
            try await client.withTransaction(logger: logger) { connection in
                let result = try await change(connection, logger)
                try await connection.perform("SELECT pg_notify(\(channels.groups), \(id))", logger: logger)
                return result
            }
        }
    }
}

extension PostgresSchema {
    /// The same tables as `SQLiteSchema.createGroups`, in PostgreSQL types.
    static let groups = Step(
        name: "groups",
        statements: [
            """
            CREATE TABLE groups (
                id text PRIMARY KEY,
                name text NOT NULL,
                picture text NOT NULL,
                about text NOT NULL,
                banner text NOT NULL,
                private boolean NOT NULL,
                restricted boolean NOT NULL,
                hidden boolean NOT NULL,
                closed boolean NOT NULL,
                created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE group_members (
                group_id text NOT NULL,
                pubkey text NOT NULL,
                roles text NOT NULL,
                PRIMARY KEY (group_id, pubkey)
            )
            """,
            """
            CREATE TABLE group_invites (
                group_id text NOT NULL,
                code text NOT NULL,
                created_by text NOT NULL,
                used_by text,
                PRIMARY KEY (group_id, code)
            )
            """,
            """
            CREATE TABLE relay_invites (
                code text PRIMARY KEY,
                created_at bigint NOT NULL,
                used_by text
            )
            """,
        ])
}
