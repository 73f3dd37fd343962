import Foundation
public import MartletDHT
import MartletTestSupport

/// libtorrent DHT nodes on 127.0.0.1, run by scripts/dht_peer.py in a subprocess and driven
/// by JSON lines. The independent implementation Martlet's node is checked against.
public final class LibtorrentPeers {
    public static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/dht_peer.py").path

    /// A Python that can `import libtorrent` (Debian's package lives in /usr/bin/python3's path).
    public static let python: String? = {
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-c", "import libtorrent"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? spawnAtOnce(process)) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let lines: AsyncStream<String>
    private var iterator: AsyncStream<String>.Iterator
    public private(set) var ports: [Int] = []

    public init(python: String, sessions: Int) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.script, String(sessions)]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        lines = output.lines()
        iterator = lines.makeAsyncIterator()
        try spawnAtOnce(process)
    }

    /// Waits for the "ready" line and returns the sessions' ports.
    public func ready(timeout: Duration = .seconds(30)) async throws -> [IPv4Endpoint] {
        let reply = try await next(timeout: timeout)
        guard reply["event"] as? String == "ready", let ports = reply["ports"] as? [Int] else {
            throw PeerError.unexpected(reply.description)
        }
        self.ports = ports
        return ports.compactMap { IPv4Endpoint(host: "127.0.0.1", port: $0) }
    }

    /// Sends one command and returns its answer.
    public func send(_ command: [String: Any], timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: command) + Data([0x0a])
        try input.fileHandleForWriting.write(contentsOf: data)
        return try await next(timeout: timeout)
    }

    private func next(timeout: Duration) async throws -> [String: Any] {
        // The helper bounds every command itself; this deadline only guards a hung process.
        let deadline = Task { [process] in
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        defer { deadline.cancel() }
        guard let line = await iterator.next() else { throw PeerError.exited }
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw PeerError.unexpected(line)
        }
        return object
    }

    public func stop() {
        try? input.fileHandleForWriting.write(contentsOf: Data(#"{"op":"quit"}"#.utf8 + [0x0a]))
        try? input.fileHandleForWriting.close()
        // The peer gets 10 s to leave cleanly, watched from a thread of its own: `stop` runs in
        // `defer` blocks of async tests, whose cooperative threads every relay shares.
        let process = process
        Thread {
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning { process.terminate() }
        }.start()
    }

    public enum PeerError: Error {
        case exited
        case unexpected(String)
    }
}
