import Foundation
import NostrCore
import Testing

/// Connections that misbehave are cut off alone; the relay and everyone else go on.
@Suite("Connection health")
struct ConnectionHealthTests {
    @Test("a barrage of malformed input on one connection gets reasons while other connections keep working")
    func malformedBarrage() async throws {
        try await TestRelay.with { relay in
            let attacker = try await relay.connect()
            let neighbour = try await relay.connect()
            let author = Author()
            let valid = author.event(content: "valid")
            let broken: [String] = [
                "not json", "[", "[]", "{}", "[1,2,3]", #"["EVENT"]"#, #"["EVENT",{}]"#, #"["REQ"]"#,
                #"["REQ","s"]"#, #"["REQ","",{}]"#, #"["CLOSE"]"#, #"["WHAT","x"]"#, #"["EVENT",\#(valid.jsonString),1]"#,
                #"["REQ","s",{"kinds":[1.5]}]"#, #"["REQ","s",{"since":-1}]"#, #"["REQ","s",{"ids":["AB"]}]"#,
                #"["EVENT",{"id":"\ud800"}]"#, String(repeating: "[", count: 100), "[\"EVENT\",\(valid.jsonString)] trailing",
                #"["COUNT","c"]"#, #"["NEG-OPEN","n",{}]"#, "\u{0}", #"["REQ","s",{"limit":1e3}]"#,
            ]
            let flood = Task {
                for round in 0..<20 {
                    for text in broken { try await attacker.send(text) }
                    try await attacker.send(bytes: [0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d])  // invalid UTF-8
                    _ = round
                }
            }
            for index in 0..<10 {
                let event = author.event(content: "neighbour \(index)")
                #expect(try await neighbour.publishAndWait(event).accepted)
            }
            try await flood.value
            // Every malformed message got an answer; the attacker's connection still works.
            var answered = 0
            while let message = try await attacker.silence(for: .milliseconds(500)) {
                #expect(["NOTICE", "OK", "CLOSED", "NEG-ERR"].contains(message.type), "\(message)")
                answered += 1
            }
            #expect(answered >= 20 * (broken.count + 1) - 20)
            #expect(try await attacker.publishAndWait(valid).accepted)
            #expect(try await neighbour.query("n", #"{"authors":["\#(author.pubkey.hex)"]}"#).count == 11)
            await attacker.close()
            await neighbour.close()
        }
    }

    @Test("a consumer that falls behind is cut off, and the publisher is not held up")
    func slowConsumerIsCutOff() async throws {
        try await TestRelay.with(configure: { $0.outboxByteLimit = 256 * 1024 }) { relay in
            let slow = try await SilentClient.connect(port: relay.port)
            try await slow.sendText(#"["REQ","all",{}]"#)
            let publisher = try await relay.connect()
            try await waitUntil { relay.relay.connectionCount == 2 && relay.relay.subscriptions.count == 1 }
            #expect(relay.relay.subscriptions.count == 1)
            let author = Author()
            let body = String(repeating: "x", count: 60_000)
            var cutOff = false
            for index in 0..<400 where !cutOff {
                let event = author.event(content: "\(index) \(body)")
                #expect(try await publisher.publishAndWait(event).accepted)
                cutOff = relay.relay.connectionCount == 1
            }
            try await waitUntil { relay.relay.connectionCount == 1 }
            #expect(relay.relay.connectionCount == 1)
            #expect(try await publisher.publishAndWait(author.event(content: "still fine")).accepted)
            await publisher.close()
            await slow.close()
        }
    }

    @Test("a connection that does not answer pings is closed; one that answers stays")
    func pingTimeout() async throws {
        // Three seconds: short for a test, long enough that a busy CI machine answers in time.
        try await TestRelay.with(pingInterval: .seconds(3)) { relay in
            let silent = try await SilentClient.connect(port: relay.port)
            let healthy = try await relay.connect()
            try await waitUntil { relay.relay.connectionCount == 2 }
            try await waitUntil(timeout: .seconds(20)) { relay.relay.connectionCount == 1 }
            #expect(relay.relay.connectionCount == 1)
            #expect(try await healthy.query("s", "{}").isEmpty)
            await healthy.close()
            await silent.close()
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
}
