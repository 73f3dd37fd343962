import MartletStore
import MartletTestSupport
import Testing

/// Stores on the PostgreSQL server named by `MARTLET_TEST_POSTGRES_URL` (`TestPostgres`),
/// each in a fresh schema of its own, dropped when the test is done with it.
struct PostgresFactory: StoreFactory {
    func makeStore() async throws -> any EventStore {
        try await makePostgresStore(schema: TestPostgres.freshSchema())
    }

    func makePostgresStore(schema: String) async throws -> PostgresEventStore {
        try await TestPostgres.store(schema: schema)
    }

    func reopen(_ store: any EventStore) async throws -> any EventStore {
        let postgres = try #require(store as? PostgresEventStore)
        try await postgres.close()
        return try await makePostgresStore(schema: try #require(postgres.schema))
    }

    func dispose(_ store: any EventStore) async throws {
        let postgres = try #require(store as? PostgresEventStore)
        try? await postgres.close()
        try await TestPostgres.dropSchema(try #require(postgres.schema))
    }
}
