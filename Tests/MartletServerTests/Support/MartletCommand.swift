import Foundation
import MartletTestSupport

/// One run of the `martlet` binary to its end, for tests of the command line: its exit
/// status and everything it printed.
///
/// ```swift
/// let run = try await MartletCommand.run(["config", "check", "--config", path])
/// #expect(run.status == 0)
/// ```
struct MartletCommand {
    var status: Int32
    var output: String
    var errors: String

    /// Runs `martlet <arguments>` with the test's environment plus `environment`; a run
    /// still going after `timeout` is ended and fails the test.
    static func run(
        _ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> MartletCommand {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outputFile = folder.appendingPathComponent("stdout")
        let errorFile = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = RelayProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try await spawn(process)
        await waitUntil(timeout: timeout) { !process.isRunning }
        if process.isRunning {
            process.terminate()
            throw TestFailure("martlet \(arguments.joined(separator: " ")) did not end within \(timeout)")
        }
        return MartletCommand(
            status: process.terminationStatus,
            output: try String(contentsOf: outputFile, encoding: .utf8),
            errors: try String(contentsOf: errorFile, encoding: .utf8))
    }
}
