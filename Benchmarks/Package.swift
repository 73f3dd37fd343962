// swift-tools-version: 6.1
// Micro benchmarks for NostrCore, kept out of the root package so that building or
// testing the relay never resolves package-benchmark. Run from this directory:
//
//     swift package benchmark
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
                // The root package's own module map for libsecp256k1, so the direct C
                // benchmark calls exactly the library NostrCore links.
                .product(name: "CSecp256k1", package: "martlet"),
            ],
            path: "Benchmarks/NostrCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
