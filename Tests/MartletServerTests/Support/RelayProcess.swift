import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MartletTestSupport
import Testing

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

    /// Starts `martlet serve` on `port` (0: a free one) with its store in `data`, and waits
    /// until it listens. `softFileLimit` starts it with that soft open-files limit.
    static func start(
        data: URL, port requested: Int = 0, arguments: [String] = [], softFileLimit: Int? = nil,
        environment extra: [String: String] = [:], errors: URL? = nil
    ) async throws -> RelayProcess {
        let process = Process()
        let serve = ["serve", "--host", "127.0.0.1", "--port", "\(requested)", "--data", data.path] + arguments
        if let softFileLimit {
            // `exec` keeps the process id, so the limits read from /proc are the relay's.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -Sn \(softFileLimit) && exec \"$0\" \"$@\"", binary.path] + serve
        } else {
            process.executableURL = binary
            process.arguments = serve
        }
        var environment = ProcessInfo.processInfo.environment
        environment["MARTLET_LOG_LEVEL"] = "warning"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        if let errors {
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        let lines = output.lines()
        try await spawn(process)
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

    /// The relay's NIP-11 document, parsed.
    func informationDocument() async throws -> [String: Any] {
        try await HTTPGet.informationDocument(port: port)
    }

    /// Sends `signal` and waits for the process to end; returns its termination status. A
    /// relay that has not ended a minute later is killed, and the test fails for it: a
    /// shutdown that hangs is a defect, never a reason to hang the run.
    @discardableResult
    func stop(signal: Int32) async -> Int32 {
        kill(process.processIdentifier, signal)
        if await !waitForExit(process, within: .seconds(60)) {
            Issue.record("martlet serve did not end within 60 s of signal \(signal); it was killed")
        }
        return process.isRunning ? -1 : process.terminationStatus
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now, for a relay that must be
/// configured with the ports of others before they start (the port is released before it
/// is returned, so another process could take it first; on a test machine none does).
func unusedPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestFailure("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
        }
    }
    guard bound else { throw TestFailure("could not bind a port on 127.0.0.1") }
    return Int(UInt16(bigEndian: address.sin_port))
}
