import Foundation

/// The real `martlet serve` binary in a child process, for tests that kill or signal it.
///
/// The binary is the one `swift build` put beside the tests (`MARTLET_BINARY` overrides).
final class RelayProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; this wrapper is used from one test task.
    let process: Process
    let port: Int

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["MARTLET_BINARY"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/martlet")
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `martlet serve` on a free port with its store in `data`, and waits until it listens.
    static func start(
        data: URL, arguments: [String] = [], environment extra: [String: String] = [:]
    ) async throws -> RelayProcess {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data", data.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MARTLET_LOG_LEVEL"] = "warning"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Locked(Data())
        output.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(chunk)
                var found: [String] = []
                while let newline = buffer.firstIndex(of: 0x0a) {
                    found.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                return found
            }
            for line in complete { continuation.yield(line) }
        }
        let port = try await withTimeout(.seconds(60)) {
            for await line in lines {
                if let range = line.range(of: "listening on ws://127.0.0.1:") {
                    return Int(line[range.upperBound...].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            return 0
        }
        guard port > 0 else { throw TestFailure("martlet serve did not start") }
        return RelayProcess(process: process, port: port)
    }

    var url: String { "ws://127.0.0.1:\(port)/" }

    func connect() async throws -> NostrTestClient { try await NostrTestClient.connect(url: url) }

    /// Sends `signal` and waits for the process to end; returns its termination status.
    @discardableResult
    func stop(signal: Int32) async -> Int32 {
        kill(process.processIdentifier, signal)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }
}

/// Runs `body`, throwing `TimedOut` if it takes longer than `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut() }
        return value
    }
}
