import Foundation
import MartletTestSupport

/// Runs `body` with `yaml` written to a `martlet.yaml` in a temporary folder of its own
/// (removed afterwards), for tests of `--config`.
///
/// ```swift
/// try await withConfigurationFile("limits:\n  max_filters: 3\n") { file, folder in
///     let relay = try await RelayProcess.start(data: folder.appendingPathComponent("data"),
///                                              arguments: ["--config", file.path])
/// }
/// ```
func withConfigurationFile<T>(_ yaml: String, _ body: (_ file: URL, _ folder: URL) async throws -> T) async throws -> T {
    try await withTemporaryFolder("martlet-config") { folder in
        let file = folder.appendingPathComponent("martlet.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return try await body(file, folder)
    }
}
