import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Stores on the PostgreSQL server named by `MARTLET_TEST_POSTGRES_URL` (`TestPostgres`),
/// each in a fresh schema of its own, dropped when the test is done with it.
struct PostgresFactory: StoreFactory {
    var testDescription: String { "PostgreSQL" }

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

    func reopen(_ store: any EventStore, searchableKinds: SearchableKinds) async throws -> any EventStore {
        let postgres = try #require(store as? PostgresEventStore)
        try await postgres.close()
        return try await TestPostgres.store(schema: try #require(postgres.schema), searchableKinds: searchableKinds)
    }

    func dispose(_ store: any EventStore) async throws {
        let postgres = try #require(store as? PostgresEventStore)
        try? await postgres.close()
        try await TestPostgres.dropSchema(try #require(postgres.schema))
    }

    /// Runs `body` with two nodes, two stores on one fresh schema, then closes both and
    /// drops the schema, whether `body` throws or not.
    func withTwoNodes(_ body: (PostgresEventStore, PostgresEventStore) async throws -> Void) async throws {
        let schema = TestPostgres.freshSchema()
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
}
