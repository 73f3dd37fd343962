// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "martlet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "martlet", targets: ["martlet"]),
        .library(name: "NostrCore", targets: ["NostrCore"]),
        // Exported for the Benchmarks package, which compares our wrapper with a direct C call.
        .library(name: "CSecp256k1", targets: ["CSecp256k1"]),
        .library(name: "Negentropy", targets: ["Negentropy"]),
        .library(name: "MartletStore", targets: ["MartletStore"]),
        .library(name: "MartletAxon", targets: ["MartletAxon"]),
        .library(name: "MartletRelay", targets: ["MartletRelay"]),
        .library(name: "MartletReplication", targets: ["MartletReplication"]),
        .library(name: "MartletServer", targets: ["MartletServer"]),
        .library(name: "MartletBench", targets: ["MartletBench"]),
        .library(name: "MartletDHT", targets: ["MartletDHT"]),
        .library(name: "MartletDiscovery", targets: ["MartletDiscovery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["JSON", "YAML"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Already here through swift-configuration; the CLI reads the YAML file's keys and
        // their line numbers with it to check them before a relay starts.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .target(
            name: "NostrCore",
            dependencies: [
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Negentropy",
            dependencies: ["NostrCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "MartletStore",
            dependencies: [
                "NostrCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // The axon profile's wire: a bounded MessagePack codec, messages, ed25519 auth.
        .target(
            name: "MartletAxon",
            dependencies: ["NostrCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "MartletRelay",
            dependencies: [
                "NostrCore", "Negentropy", "MartletStore", "MartletAxon",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The outbound side: one WebSocket client of other relays, NIP-77 sync, the mesh.
        .target(
            name: "MartletReplication",
            dependencies: [
                "MartletRelay", "MartletStore", "Negentropy", "NostrCore",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The HTTP and WebSocket edge: upgrade, NIP-11, NIP-86 over HTTP, status, metrics.
        .target(
            name: "MartletServer",
            dependencies: [
                "MartletRelay", "MartletReplication", "MartletStore", "Negentropy", "NostrCore", "MartletAxon",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSCompression", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MartletBench",
            dependencies: [
                "NostrCore", "MartletAxon",
                "Negentropy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Relay discovery over the Mainline DHT (BEP 5 KRPC, BEP 44 items); self-contained.
        .target(
            name: "MartletDHT",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Relays announcing and finding each other in the DHT (a service of `serve`).
        .target(
            name: "MartletDiscovery",
            dependencies: [
                "MartletDHT", "MartletRelay", "MartletStore", "NostrCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "martlet",
            dependencies: [
                "MartletServer", "MartletReplication", "MartletStore", "MartletBench", "MartletDiscovery", "NostrCore", "MartletAxon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // What the test targets share: seeded randomness, signing authors, polling, the fuzz
        // loop, the PostgreSQL servers of scripts/ci-postgres.sh, child processes' output,
        // and reading a relay's messages (over a socket or straight from a session).
        .target(
            name: "MartletTestSupport",
            dependencies: [
                "MartletBench", "MartletRelay", "MartletStore", "NostrCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/MartletTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "NostrCoreTests",
            dependencies: ["NostrCore", "MartletTestSupport"],
            // The fixture is read next to the sources (#filePath), so it is not a resource.
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MartletStoreTests",
            dependencies: [
                "MartletStore", "NostrCore", "MartletTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // libtorrent DHT nodes in a subprocess, shared by the DHT and discovery tests.
        .target(
            name: "DHTTestSupport",
            dependencies: ["MartletDHT", "MartletTestSupport"],
            path: "Tests/DHTTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "MartletDiscoveryTests",
            dependencies: [
                "MartletDiscovery", "MartletDHT", "MartletRelay", "NostrCore", "DHTTestSupport", "MartletTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MartletDHTTests",
            dependencies: [
                "MartletDHT", "MartletTestSupport", "DHTTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MartletAxonTests",
            dependencies: ["MartletAxon", "NostrCore", "MartletTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NegentropyTests",
            dependencies: ["Negentropy", "MartletTestSupport"],
            swiftSettings: strict
        ),
        // The protocol's rules through `RelaySession`, without sockets.
        .testTarget(
            name: "MartletRelayTests",
            dependencies: [
                "MartletRelay", "MartletStore", "Negentropy", "NostrCore", "MartletTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MartletServerTests",
            dependencies: [
                "MartletServer", "MartletReplication", "MartletRelay", "MartletStore", "Negentropy", "NostrCore",
                "MartletTestSupport", "DHTTestSupport", "MartletDHT", "MartletDiscovery", "MartletAxon",
                "MartletBench",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
