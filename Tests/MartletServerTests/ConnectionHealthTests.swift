import Foundation
import MartletTestSupport
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
            await waitUntil { relay.relay.connectionCount == 2 && relay.relay.subscriptions.count == 1 }
            #expect(relay.relay.subscriptions.count == 1)
            let author = Author()
            let body = String(repeating: "x", count: 60_000)
            var cutOff = false
            for index in 0..<400 where !cutOff {
                let event = author.event(content: "\(index) \(body)")
                #expect(try await publisher.publishAndWait(event).accepted)
                cutOff = relay.relay.connectionCount == 1
            }
            await waitUntil { relay.relay.connectionCount == 1 }
            #expect(relay.relay.connectionCount == 1)
            #expect(try await publisher.publishAndWait(author.event(content: "still fine")).accepted)
            await publisher.close()
            await slow.close()
        }
    }

    // The private-relay plan: "pings every 30 s and a connection that misses two is closed".
    // Every wait below is for a condition (pings counted, a connection gone), never for a
    // span of time, and pongs are sent from the client's event loop. What remains is the
    // ping loop's own tolerance: an answer may come up to two periods late (a period with
    // nothing heard is one miss, and it takes two), so the periods are long enough for
    // event loops slowed by a loaded machine.
    @Test("a connection that does not answer pings is closed; one that answers stays")
    func pingTimeout() async throws {
        try await TestRelay.with(pingInterval: .seconds(5)) { relay in
            let silent = try await SilentClient.connect(port: relay.port)
            let healthy = try await RawConnection.webSocket(port: relay.port)
            await waitUntil { relay.relay.connectionCount == 2 }
            // The silent one goes after two unanswered pings; the healthy one has answered
            // several by the time it is checked.
            await waitUntil(timeout: .seconds(120)) { relay.relay.connectionCount == 1 && healthy.pingsReceived >= 4 }
            #expect(relay.relay.connectionCount == 1)
            #expect(healthy.pingsReceived >= 4)
            #expect(!healthy.isClosed)
            let client = try await relay.connect()
            #expect(try await client.query("s", "{}").isEmpty)
            await client.close()
            await healthy.close()
            await silent.close()
        }
    }

    @Test("one unanswered ping does not close a connection: a client that answers every other ping stays")
    func oneMissedPingIsTolerated() async throws {
        try await TestRelay.with(pingInterval: .seconds(5)) { relay in
            let sometimes = try await RawConnection.webSocket(port: relay.port) { ping in ping % 2 == 1 }
            await waitUntil { relay.relay.connectionCount == 1 }
            // Ping 2 went unanswered and ping 3 was answered: the fourth comes only to a
            // connection that survived a miss (Hummingbird's loop closed at the first).
            await waitUntil(timeout: .seconds(120)) { sometimes.pingsReceived >= 4 || sometimes.isClosed }
            #expect(!sometimes.isClosed, "closed after \(sometimes.pingsReceived) pings: \(sometimes.frames.last.map(\.text) ?? "")")
            #expect(relay.relay.connectionCount == 1)
            try await sometimes.sendFrame(opcode: .text, payload: Array(#"["REQ","s",{}]"#.utf8))
            #expect(try await sometimes.nextFrame().frame.text == #"["EOSE","s"]"#)
            await sometimes.close()
        }
    }

    @Test("a connection that answers no ping is closed after the second one")
    func twoMissedPingsClose() async throws {
        try await TestRelay.with(pingInterval: .seconds(1)) { relay in
            let deaf = try await RawConnection.webSocket(port: relay.port) { _ in false }
            await waitUntil { relay.relay.connectionCount == 1 }
            await waitUntil(timeout: .seconds(60)) { deaf.isClosed }
            #expect(deaf.isClosed)
            // Two pings sent, the close comes at the third period: no third ping before it.
            #expect(deaf.pingsReceived == 2)
            #expect(deaf.frames.last?.closeCode == 1001)
            await waitUntil { relay.relay.connectionCount == 0 }
            #expect(relay.relay.connectionCount == 0)
        }
    }
}
