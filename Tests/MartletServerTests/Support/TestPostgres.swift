import Foundation
import Logging
import MartletStore
import PostgresNIO
import Testing

/// The PostgreSQL servers the end-to-end tests may use, from the environment that
/// `scripts/ci-postgres.sh` sets up. Tests needing one are skipped, with a note, when the
/// variable is unset; CI always sets them.
enum TestPostgres {
    private static let environment = ProcessInfo.processInfo.environment

    /// The shared test server (`MARTLET_TEST_POSTGRES_URL`).
    static let url = environment["MARTLET_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let skipNote: Comment = "MARTLET_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"

    /// A server of its own that a test may stop and start (`MARTLET_TEST_RESTART_POSTGRES_URL`,
    /// `MARTLET_TEST_PG_CTL`, the command running pg_ctl, and `MARTLET_TEST_PGDATA`).
    static let restartable: RestartableServer? = {
        guard let url = environment["MARTLET_TEST_RESTART_POSTGRES_URL"], !url.isEmpty,
            let pgCtl = environment["MARTLET_TEST_PG_CTL"], !pgCtl.isEmpty,
            let data = environment["MARTLET_TEST_PGDATA"], !data.isEmpty
        else { return nil }
        return RestartableServer(url: url, pgCtl: pgCtl, data: data)
    }()
    static let restartSkipNote: Comment =
        "MARTLET_TEST_RESTART_POSTGRES_URL, MARTLET_TEST_PG_CTL or MARTLET_TEST_PGDATA is not set"

    /// A schema name no other test uses.
    static func freshSchema() -> String {
        "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    }

    /// A store in `schema` of the server at `url`. The time limit is generous (CI runs every
    /// suite at once on two cores); a test of an outage passes a short one.
    static func store(url: String? = url, schema: String, timeout: Duration = .seconds(30)) async throws
        -> PostgresEventStore
    {
        var options = PostgresEventStore.Options(
            readConnections: 4, writeConnections: 2, timeout: timeout, feedPollInterval: .milliseconds(500))
        options.schema = schema
        var logger = Logger(label: "martlet.test.postgres")
        logger.logLevel = .critical
        let url = try #require(url)
        return try await PostgresEventStore(url: url, options: options, logger: logger)
    }

    static func dropSchema(_ schema: String, url: String? = url) async throws {
        let url = try #require(url)
        let components = try #require(URLComponents(string: url))
        let client = PostgresClient(
            configuration: .init(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
                username: components.user ?? "postgres", password: components.password,
                database: String(components.path.dropFirst()), tls: .disable),
            backgroundLogger: Logger(label: "martlet.test.postgres.admin") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
    }

    struct RestartableServer: Sendable {
        let url: String
        let pgCtl: String
        let data: String

        func stop() throws { try run("-D '\(data)' -m fast -w stop") }
        func start() throws { try run("-D '\(data)' -l '\(data)/server.log' -w start") }

        /// Runs pg_ctl and waits for it. Foundation notices a child's exit only once every
        /// process holding its descriptors has ended, and the server that `pg_ctl start`
        /// leaves running would inherit them, so the shell closes them all first.
        private func run(_ arguments: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let closeInherited = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && exec {fd}>&-; done"#
            process.arguments = ["-c", "\(closeInherited) 2>/dev/null; exec \(pgCtl) \(arguments) >/dev/null"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw TestFailure("pg_ctl \(arguments) exited with \(process.terminationStatus)")
            }
        }
    }
}
