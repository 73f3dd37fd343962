// swift-tools-version: 6.1
// Micro benchmarks of every hot-path stage, kept out of the root package so that building
// or testing the relay never resolves package-benchmark. NostrCoreBenchmarks: decode, hash,
// verify, filter match, frame encode. RelayBenchmarks: the write-policy chain, the SQLite
// store's write per event of a batch, the subscription index's match. Run from this directory:
//
//     swift package benchmark                            # both targets
//     swift package benchmark --target RelayBenchmarks   # one of them
import PackageDescription

let package = Package(
    name: "MartletBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "martlet", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "NostrCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NostrCore", package: "martlet"),
                .product(name: "MartletAxon", package: "martlet"),
                // The root package's own module map for libsecp256k1, so the direct C
                // benchmark calls exactly the library NostrCore links.
                .product(name: "CSecp256k1", package: "martlet"),
            ],
            path: "Benchmarks/NostrCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RelayBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MartletRelay", package: "martlet"),
                .product(name: "MartletStore", package: "martlet"),
                .product(name: "NostrCore", package: "martlet"),
            ],
            path: "Benchmarks/RelayBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
