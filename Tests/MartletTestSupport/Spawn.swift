public import Foundation
import Synchronization

/// Starts `process` while no other test is starting one. Under `make test`'s parallel run,
/// Foundation's `Process.run()` crashed once in its own copying (a bad read in memmove)
/// while other tests started children at the same moment; starts are rare and quick, so
/// one at a time costs nothing.
///
/// ```swift
/// try spawn(process)
/// ```
public func spawn(_ process: Process) throws {
    try starting.withLock { _ in try process.run() }
}

private let starting = Mutex(())

/// Runs `program` with `arguments` to its end (at most `timeout`, then it is ended) and
/// returns its exit status and everything it printed, stdout and stderr together.
///
/// ```swift
/// let run = try await runProgram("/usr/bin/systemd-analyze", ["verify", path])
/// #expect(run.status == 0, "\(run.output)")
/// ```
public func runProgram(
    _ program: String, _ arguments: [String], timeout: Duration = .seconds(60)
) async throws -> (status: Int32, output: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-program-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("output")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = try FileHandle(forWritingTo: output)
    process.standardError = process.standardOutput
    try spawn(process)
    if await !waitUntil(timeout: timeout, { !process.isRunning }) {
        process.terminate()
        await blocking { process.waitUntilExit() }
    }
    return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
}
