public import Foundation
import Synchronization

/// Starts `process` while no other test is starting one. Under `make test`'s parallel run,
/// Foundation's `Process.run()` crashed once in its own copying (a bad read in memmove)
/// while other tests started children at the same moment; starts are rare and quick, so
/// one at a time costs nothing.
///
/// ```swift
/// try await spawn(process)
/// ```
public func spawn(_ process: Process) async throws {
    // Foundation's Process.run lists /proc/self/fd and copies each entry's whole 256-byte
    // name, which reads past the end of glibc's 32 KiB directory buffer once about 1,350
    // descriptors are open: CI runs crashed there while parallel tests held that many.
    // A start waits (at most 30 s, without holding a thread) until this process holds fewer.
    let deadline = ContinuousClock.now + .seconds(30)
    while openDescriptorCount() > maxDescriptorsAtStart, ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(20))
    }
    try spawnAtOnce(process)
}

/// `spawn` for the few starts made outside async code (the libtorrent peers' initializer).
public func spawnAtOnce(_ process: Process) throws {
    try starting.withLock { _ in try process.run() }
}

private let maxDescriptorsAtStart = 1_100

/// How many descriptors this process holds, counted without reading the entries' names.
private func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count
}

private let starting = Mutex(())

/// Waits, without holding a thread, until `process` has ended, at most `limit`; a process
/// still running then is killed (SIGKILL). Returns whether it ended by itself.
///
/// Foundation's `waitUntilExit` has no bound and has been seen to wait for ever on Linux;
/// a test that waits on a child must fail, never hang the run.
///
/// ```swift
/// #expect(await waitForExit(process, within: .seconds(60)), "the child did not end")
/// ```
@discardableResult
public func waitForExit(_ process: Process, within limit: Duration = .seconds(60)) async -> Bool {
    if await waitUntil(timeout: limit, { !process.isRunning }) { return true }
    kill(process.processIdentifier, SIGKILL)
    await waitUntil(timeout: .seconds(10)) { !process.isRunning }
    return false
}

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
    try await spawn(process)
    if await !waitUntil(timeout: timeout, { !process.isRunning }) {
        process.terminate()
        await waitForExit(process, within: .seconds(10))
    }
    return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
}
