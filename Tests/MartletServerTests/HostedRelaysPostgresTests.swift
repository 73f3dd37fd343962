import Foundation
import MartletRelay
import MartletServer
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

/// Issue 18 on PostgreSQL: "each with its own store (its own SQLite file under the data
/// folder, or its own schema on PostgreSQL)". A real `martlet serve --database` on a
/// database of the test's own, so that the default relay's tables (schema `public`) are
/// no other test's.
@Suite("Hosted relays on PostgreSQL", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct HostedRelaysPostgresTests {
    @Test("each hosted relay keeps its events in a schema of its own, apart from the default relay's and each other's, across a restart")
    func schemaPerRelay() async throws {
        try await withDatabase { url in
            try await withTemporaryFolder("martlet-hosted-pg") { data in
                let server = try await RelayProcess.start(data: data, arguments: ["--database", url])
                var keys: [String] = []
                for name in ["first", "second"] {
                    keys.append(try await HostedNode.createRelay(name, port: server.port, data: data))
                }
                let author = Author()
                let notes = keys.map { author.event(content: "only on \($0)") }
                for (key, note) in zip(keys, notes) {
                    try await HostedNode.publish(note, to: "ws://127.0.0.1:\(server.port)/\(key)")
                }
                try await expectSeparate(keys: keys, notes: notes, port: server.port, url: url, data: data)
                #expect(await server.stop(signal: SIGTERM) == 0)

                // The same schemas after a restart: found again from the keys alone.
                let restarted = try await RelayProcess.start(data: data, arguments: ["--database", url])
                defer { Task { await restarted.stop(signal: SIGTERM) } }
                try await expectSeparate(keys: keys, notes: notes, port: restarted.port, url: url, data: data)
            }
        }
    }

    @Test("an idle hosted relay gives its PostgreSQL connections back after hosted.idle_close and reopens on use")
    func idleRelayClosesConnections() async throws {
        try await withDatabase { url in
            try await withTemporaryFolder("martlet-hosted-pg-idle") { data in
                let server = try await RelayProcess.start(
                    data: data, arguments: ["--database", url], environment: ["MARTLET_HOSTED_IDLE_CLOSE": "1"])
                defer { Task { await server.stop(signal: SIGTERM) } }
                let hex = try await HostedNode.createRelay("quiet", port: server.port, data: data)
                let key = try #require(HostedRelayKey(hex))
                let relayURL = "ws://127.0.0.1:\(server.port)/\(key.hex)"
                let note = Author().event(content: "kept while closed")
                let client = try await NostrTestClient.connect(url: relayURL)
                #expect(try await client.publishAndWait(note).accepted)
                // Open, it listens for other nodes' news: one connection at least, four at most.
                let whileOpen = try await connections(of: key, url: url)
                #expect((1...4).contains(whileOpen), "\(whileOpen) connections while open")
                await client.close()
                try await HostedNode.waitUntil("the idle relay's connections are closed") {
                    try await connections(of: key, url: url) == 0
                }
                #expect(try await HostedNode.holds([note], at: relayURL))
            }
        }
    }

    @Test("a relay's schema is named from its key alone, and fits a PostgreSQL identifier")
    func schemaName() throws {
        let key = try #require(HostedRelayKey(String(repeating: "0f", count: 32)))
        let other = try #require(HostedRelayKey(String(repeating: "0f", count: 31) + "10"))
        let schema = HostedRelayStorage.schema(of: key)
        // PostgreSQL: "identifiers longer than NAMEDATALEN-1 bytes are truncated" (63 by default).
        #expect(schema.utf8.count <= 63)
        #expect(schema.hasPrefix("hosted_") && key.hex.hasPrefix(schema.dropFirst("hosted_".count)))
        #expect(schema == HostedRelayStorage.schema(of: HostedRelayKey(key.publicKey)))
        #expect(schema != HostedRelayStorage.schema(of: HostedRelayKey(String(repeating: "1f", count: 32))!))
        // Keys that differ only past what the name holds share a schema: 56 hex characters
        // (224 bits) of a key made at random are never alike by chance.
        #expect(HostedRelayStorage.schema(of: other) == schema)
    }

    // MARK: Helpers

    /// Each relay serves its own note only; the default relay at `/` neither; each note is
    /// in its relay's schema in the database and in no other, and no SQLite file was made.
    private func expectSeparate(keys: [String], notes: [Event], port: Int, url: String, data: URL) async throws {
        for (index, key) in keys.enumerated() {
            let ids = try await HostedNode.ids(at: "ws://127.0.0.1:\(port)/\(key)")
            #expect(ids.contains(notes[index].id.hex), "relay \(index) serves its note")
            #expect(!ids.contains(notes[1 - index].id.hex), "relay \(index) does not serve the other's note")
            let schema = HostedRelayStorage.schema(of: try #require(HostedRelayKey(key)))
            #expect(try await stored(notes[index].id, in: schema, url: url))
            #expect(try await !stored(notes[1 - index].id, in: schema, url: url))
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("relays/\(key)/martlet.sqlite").path))
        }
        let root = try await HostedNode.ids(at: "ws://127.0.0.1:\(port)/")
        #expect(root.isDisjoint(with: notes.map(\.id.hex)), "the default relay serves neither note")
        for note in notes { #expect(try await !stored(note.id, in: "public", url: url)) }
    }

    private func stored(_ id: EventID, in schema: String, url: String) async throws -> Bool {
        try await TestPostgres.withAdminClient(url: url) { admin in
            let rows = try await admin.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(schema)\".events WHERE id = decode('\(id.hex)', 'hex')"))
            for try await count in rows.decode(Int64.self) { return count == 1 }
            return false
        }
    }

    /// The connections a hosted relay's store holds: its pools name themselves
    /// `martlet/<schema>` (`application_name`), cut to the 63 bytes PostgreSQL keeps.
    private func connections(of key: HostedRelayKey, url: String) async throws -> Int {
        let name = String(("martlet/" + HostedRelayStorage.schema(of: key)).prefix(63))
        return try await TestPostgres.withAdminClient(url: url) { admin in
            let rows = try await admin.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(name)'"))
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    /// A database of the test's own on the test server, dropped afterwards.
    private func withDatabase(_ body: (String) async throws -> Void) async throws {
        try await TestPostgres.withDatabase(prefix: "martlet_hosted_", body)
    }
}

/// A relay's first use opens its store once, however many uses come while it opens (a
/// PostgreSQL store connects and migrates first, which takes a while).
@Suite("Hosted relays opened once")
struct HostedRelaysOpeningTests {
    @Test("concurrent first uses of a SQLite hosted relay share one store and one Relay")
    func sqliteOpensOnce() async throws {
        try await withTemporaryFolder("martlet-hosted-open") { data in
            _ = try await expectOpenedOnce(data: data, storage: .sqlite(durableCommits: false))
        }
    }

    @Test("concurrent first uses of a PostgreSQL hosted relay share one store and one Relay",
          .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func postgresOpensOnce() async throws {
        let url = try #require(TestPostgres.url)
        try await withTemporaryFolder("martlet-hosted-open-pg") { data in
            let key = try await expectOpenedOnce(data: data, storage: .postgres(url: url, options: TestPostgres.options))
            try await TestPostgres.dropSchema(HostedRelayStorage.schema(of: key))
        }
    }

    /// Creates a relay, then, through a new registry over the same folder (the relay known
    /// but closed), opens it from sixteen tasks at once.
    private func expectOpenedOnce(data: URL, storage: HostedRelayStorage) async throws -> HostedRelayKey {
        var options = HostedRelays.Options(
            dataDirectory: data.path, configuration: RelayConfiguration(), node: SecretKey.generate())
        options.storage = storage
        let addresses = RelayAddresses(configured: ["ws://127.0.0.1:7777"])
        let creator = HostedRelays(options: options, addresses: addresses)
        let key = try await creator.create(name: "once", description: "")
        await creator.closeOffline()

        let hosted = HostedRelays(options: options, addresses: addresses)
        #expect(hosted.count == 1 && hosted.openCount == 0)
        let opened = try await withThrowingTaskGroup(of: ObjectIdentifier?.self) { group in
            for _ in 0..<16 { group.addTask { try await hosted.open(key).map(ObjectIdentifier.init) } }
            var opened: [ObjectIdentifier?] = []
            for try await relay in group { opened.append(relay) }
            return opened
        }
        #expect(opened.count == 16 && !opened.contains(nil))
        #expect(Set(opened).count == 1, "one HostedRelay for every use")
        #expect(hosted.openCount == 1)
        // The store the creation was recorded in, found again.
        let relay = try #require(try await hosted.open(key)).relay
        let stored = try await relay.store.query(
            [Filter(kinds: [30078])], maxLimit: 10, now: Int64(Date().timeIntervalSince1970))
        #expect(stored.count == 1)
        await hosted.closeOffline()
        return key
    }
}
