public import Foundation

/// Runs `body` with a new, empty folder under the system's temporary directory, named
/// `<prefix>-<uuid>`, and removes the folder afterwards, whether `body` throws or not.
///
/// ```swift
/// try await withTemporaryFolder("martlet-crash") { data in
///     let relay = try await RelayProcess.start(data: data)
/// }
/// ```
public func withTemporaryFolder<T>(_ prefix: String, _ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
