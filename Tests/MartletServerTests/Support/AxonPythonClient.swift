import Foundation
import MartletTestSupport
import NostrCore

/// The reference axon client (scripts/axon_client.py, PyPI's msgpack and cryptography) in a
/// child process, driven by JSON lines; what the relay says is read back line by line.
///
/// ```swift
/// let client = try await AxonPythonClient.connect(port: relay.port)   // reads the challenge
/// client.send(["op": "auth", "key": secretHex, "relay_url": url])
/// let answer = try await client.receive()                              // [["type": "ok"]]
/// ```
final class AxonPythonClient: Sendable {
    private let process: Process
    private let input: FileHandle
    /// Each line the client printed, as JSON text, oldest first.
    private let lines = Locked<[String]>([])
    private let ended = Locked(false)
    private let challengeNonce = Locked("")

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/axon_client.py").path

    /// The relay's challenge nonce, in hex.
    var nonce: String { challengeNonce.value }

    private init(process: Process, input: FileHandle) {
        self.process = process
        self.input = input
    }

    /// Starts the client against the relay on `port`; returns once it printed the challenge.
    static func connect(port: Int) async throws -> AxonPythonClient {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--url", "ws://127.0.0.1:\(port)"]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        // Never the test run's own stderr: a child left holding it would keep the run's log open.
        process.standardError = FileHandle.nullDevice
        let stream = stdout.lines()
        try await spawn(process)
        let client = AxonPythonClient(process: process, input: stdin.fileHandleForWriting)
        Task {
            for await line in stream { client.lines.withLock { $0.append(line) } }
            client.ended.withLock { $0 = true }
        }
        do {
            let connected = try await client.next(timeout: .seconds(30))
            guard connected["type"] as? String == "connected", connected["protocol"] as? String == "axon" else {
                throw TestFailure("the relay did not accept the axon subprotocol: \(connected)")
            }
            let challenge = try await client.next()
            guard challenge["type"] as? String == "challenge", let nonce = challenge["nonce"] as? String, nonce.count == 64
            else { throw TestFailure("expected a challenge of 32 bytes first, got \(challenge)") }
            client.challengeNonce.withLock { $0 = nonce }
            return client
        } catch {
            client.stop()
            throw error
        }
    }

    func send(_ command: [String: Any]) {
        var data = try! JSONSerialization.data(withJSONObject: command)
        data.append(0x0a)
        try? input.write(contentsOf: data)
    }

    /// Asks the client to read `count` messages and returns them (a `closed` or `timeout`
    /// line ends them early).
    func receive(_ count: Int = 1, timeout seconds: Int = 20) async throws -> [[String: Any]] {
        send(["op": "recv", "count": count, "timeout": seconds])
        var received: [[String: Any]] = []
        while received.count < count {
            let line = try await next(timeout: .seconds(seconds + 30))
            received.append(line)
            if ["closed", "timeout"].contains(line["type"] as? String) { break }
        }
        return received
    }

    /// The next line the client printed, parsed.
    func next(timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        guard await waitUntil(timeout: timeout, { !lines.value.isEmpty || ended.value }) else {
            throw TestFailure("the axon client printed nothing in \(timeout)")
        }
        guard let line = lines.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
            throw TestFailure("the axon client exited")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(line)")
        }
        return object
    }

    /// Ends the client; it is not waited for (this runs in `defer` blocks, on threads the
    /// relays share, and a quit client has nothing more to say).
    func stop() {
        send(["op": "quit"])
        try? input.close()
        process.terminate()
    }
}
