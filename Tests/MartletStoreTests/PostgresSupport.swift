import Foundation
import Logging
import MartletStore
import PostgresNIO
import Testing

/// Stores on the PostgreSQL server named by `MARTLET_TEST_POSTGRES_URL`, each in a fresh
/// schema of its own, dropped when the test is done with it. Tests that need one are
/// skipped, with a note saying why, when the variable is unset; CI always sets it
/// (`scripts/ci-postgres.sh`).
struct PostgresFactory: StoreFactory {
    static let url = ProcessInfo.processInfo.environment["MARTLET_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let skipNote: Comment = "MARTLET_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"

    var testDescription: String { "PostgreSQL" }

    /// Small pools, a quick feed, and a time limit generous enough for a CI machine that
    /// runs every suite at once on two cores.
    static var options: PostgresEventStore.Options {
        PostgresEventStore.Options(
            readConnections: 4, writeConnections: 2, timeout: .seconds(30), feedPollInterval: .milliseconds(500))
    }

    func makeStore() async throws -> any EventStore {
        try await makePostgresStore(schema: Self.freshSchema())
    }

    func makePostgresStore(schema: String) async throws -> PostgresEventStore {
        let url = try #require(Self.url)
        var options = Self.options
        options.schema = schema
        var logger = Logger(label: "martlet.test.postgres")
        logger.logLevel = .warning
        return try await PostgresEventStore(url: url, options: options, logger: logger)
    }

    func reopen(_ store: any EventStore) async throws -> any EventStore {
        let postgres = try #require(store as? PostgresEventStore)
        try await postgres.close()
        return try await makePostgresStore(schema: try #require(postgres.schema))
    }

    func dispose(_ store: any EventStore) async throws {
        let postgres = try #require(store as? PostgresEventStore)
        try? await postgres.close()
        try await Self.dropSchema(try #require(postgres.schema))
    }

    /// Runs `body` with two nodes, two stores on one fresh schema, then closes both and
    /// drops the schema, whether `body` throws or not.
    func withTwoNodes(_ body: (PostgresEventStore, PostgresEventStore) async throws -> Void) async throws {
        let schema = Self.freshSchema()
        let nodeA = try await makePostgresStore(schema: schema)
        do {
            let nodeB = try await makePostgresStore(schema: schema)
            do {
                try await body(nodeA, nodeB)
            } catch {
                try? await nodeB.close()
                throw error
            }
            try await nodeB.close()
        } catch {
            try? await dispose(nodeA)
            throw error
        }
        try await dispose(nodeA)
    }

    /// A schema name no other test uses.
    static func freshSchema() -> String {
        "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    }

    static func dropSchema(_ schema: String) async throws {
        try await withAdminClient { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
    }

    /// Runs `body` with a plain client on the test database, for what the store does not
    /// offer: dropping a schema, looking at the tables.
    @discardableResult
    static func withAdminClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
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
}
