import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// permessage-deflate (RFC 7692), checked with a client of its own written with Python's
/// standard library (scripts/deflate_client.py): it offers the extension or not, publishes
/// an event and reads it back.
@Suite("WebSocket compression")
struct CompressionTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/deflate_client.py")

    /// Runs the client and returns what it printed.
    private func client(port: Int, _ mode: String, event: Event) async throws -> (status: Int32, output: String) {
        try await runProgram("/usr/bin/env", ["python3", Self.script.path, "\(port)", mode, event.jsonString])
    }

    /// An event long enough to be worth compressing (the relay leaves frames under 256 bytes).
    private func largeEvent() -> Event {
        Author().event(content: String(repeating: "compress me, ", count: 200))
    }

    @Test("a client that offers permessage-deflate gets it, and compressed messages travel both ways")
    func offered() async throws {
        try await TestRelay.with { relay in
            let run = try await client(port: relay.port, "offer", event: largeEvent())
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output == "agreed\npublished\nevent compressed\nok\n", "\(run.output)")
        }
    }

    @Test("a client that does not offer it, or a relay with server.compression off, talks plain")
    func notOffered() async throws {
        try await TestRelay.with { relay in
            let run = try await client(port: relay.port, "plain", event: largeEvent())
            #expect(run.output == "not agreed\npublished\nevent plain\nok\n", "\(run.output)")
        }
        try await TestRelay.with(configure: { $0.connections.compression = false }) { relay in
            // The client's check: offered, but refused, is a failure of "offer" mode...
            let run = try await client(port: relay.port, "offer", event: largeEvent())
            #expect(run.output.hasPrefix("not agreed\nFAIL: offered=True"), "the relay declines: \(run.output)")
        }
    }
}
