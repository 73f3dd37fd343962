import Foundation
import Logging
public import MartletStore
public import NostrCore
public import PostgresNIO
public import Testing

/// The PostgreSQL servers tests may use, from the environment that `scripts/ci-postgres.sh`
/// sets up. Tests needing one are skipped, with a note, when the variable is unset; CI
/// always sets them.
///
/// ```swift
/// @Test(.enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
/// func something() async throws {
///     let schema = TestPostgres.freshSchema()
///     let store = try await TestPostgres.store(schema: schema)
///     ...
///     try await TestPostgres.dropSchema(schema)
/// }
/// ```
public enum TestPostgres {
    private static let environment = ProcessInfo.processInfo.environment

    /// The shared test server (`MARTLET_TEST_POSTGRES_URL`).
    public static let url = environment["MARTLET_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    public static let skipNote: Comment = "MARTLET_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"

    /// A server of its own that a test may stop and start (`MARTLET_TEST_RESTART_POSTGRES_URL`,
    /// `MARTLET_TEST_PG_CTL`, the command running pg_ctl, and `MARTLET_TEST_PGDATA`).
    public static let restartable: RestartableServer? = {
        guard let url = environment["MARTLET_TEST_RESTART_POSTGRES_URL"], !url.isEmpty,
            let pgCtl = environment["MARTLET_TEST_PG_CTL"], !pgCtl.isEmpty,
            let data = environment["MARTLET_TEST_PGDATA"], !data.isEmpty
        else { return nil }
        return RestartableServer(url: url, pgCtl: pgCtl, data: data)
    }()
    public static let restartSkipNote: Comment =
        "MARTLET_TEST_RESTART_POSTGRES_URL, MARTLET_TEST_PG_CTL or MARTLET_TEST_PGDATA is not set"

    /// A schema name no other test uses.
    public static func freshSchema() -> String {
        "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    }

    /// Small pools, a quick feed, and a time limit generous enough for a CI machine that
    /// runs every suite at once on two cores.
    public static var options: PostgresEventStore.Options {
        PostgresEventStore.Options(
            readConnections: 4, writeConnections: 2, timeout: .seconds(30), feedPollInterval: .milliseconds(500))
    }

    /// A store in `schema` of the server at `url`, with `options` (a test of an outage
    /// passes a short time limit).
    public static func store(
        url: String? = url, schema: String, timeout: Duration = .seconds(30), searchableKinds: SearchableKinds = .all
    ) async throws -> PostgresEventStore {
        var options = options
        options.timeout = timeout
        options.searchableKinds = searchableKinds
        options.schema = schema
        var logger = Logger(label: "martlet.test.postgres")
        logger.logLevel = .critical
        let url = try #require(url)
        return try await PostgresEventStore(url: url, options: options, logger: logger)
    }

    public static func dropSchema(_ schema: String, url: String? = url) async throws {
        try await withAdminClient(url: url) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
    }

    /// Runs `body` with a plain client on the test database, for what the store does not
    /// offer: dropping a schema, looking at the tables.
    @discardableResult
    public static func withAdminClient<T: Sendable>(
        url: String? = url, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let url = try #require(url)
        let components = try #require(URLComponents(string: url))
        let client = PostgresClient(
            configuration: .init(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
                username: components.user ?? "postgres", password: components.password,
                database: String(components.path.dropFirst()), tls: .disable),
            backgroundLogger: Logger(label: "martlet.test.postgres.admin") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Runs `body` with the URL of a database of its own on the test server, named
    /// `prefix` and a fresh suffix, and drops it afterwards (for a relay whose store lives in
    /// schema `public`, as the CLI's does).
    public static func withDatabase(prefix: String, _ body: (String) async throws -> Void) async throws {
        let database = prefix + freshSchema().dropFirst(5)
        var components = try #require(url.flatMap(URLComponents.init(string:)))
        components.path = "/" + database
        let databaseURL = try #require(components.string)
        try await withAdminClient { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)"))
        }
        func drop() async throws {
            try await withAdminClient { admin in
                try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"))
            }
        }
        do {
            try await body(databaseURL)
        } catch {
            try? await drop()
            throw error
        }
        try await drop()
    }

    /// A server a test may stop and start with pg_ctl.
    public struct RestartableServer: Sendable {
        public let url: String
        let pgCtl: String
        let data: String

        public func stop() async throws { try await run("-D '\(data)' -m fast -w stop") }
        public func start() async throws { try await run("-D '\(data)' -l '\(data)/server.log' -w start") }

        /// Runs pg_ctl and waits for it. Foundation notices a child's exit only once every
        /// process holding its descriptors has ended, and the server that `pg_ctl start`
        /// leaves running would inherit them, so the shell closes them all first.
        private func run(_ arguments: String) async throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let closeInherited = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && exec {fd}>&-; done"#
            process.arguments = ["-c", "\(closeInherited) 2>/dev/null; exec \(pgCtl) \(arguments) >/dev/null"]
            process.standardError = FileHandle.nullDevice
            try await spawn(process)
            guard await waitForExit(process, within: .seconds(120)) else {
                throw TestFailure("pg_ctl \(arguments) did not end within 120 s")
            }
            guard process.terminationStatus == 0 else {
                throw TestFailure("pg_ctl \(arguments) exited with \(process.terminationStatus)")
            }
        }
    }
}
