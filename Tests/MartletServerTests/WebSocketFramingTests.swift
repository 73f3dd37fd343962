import Foundation
import MartletTestSupport
import Testing

/// RFC 6455 §5.4 fragmentation, and the size limit NIP-11 advertises, on hand-built frames.
@Suite("WebSocket framing")
struct WebSocketFramingTests {
    @Test("a continuation frame with no message to continue closes the connection with 1002, and the previous REQ does not run again")
    func strayContinuation() async throws {
        try await TestRelay.with { relay in
            let socket = try await RawConnection.webSocket(port: relay.port)
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","s",{}]"#.utf8))
            let eose = try await socket.nextFrame()
            #expect(eose.frame.text == #"["EOSE","s"]"#)
            // RFC 6455 §5.4: "a fragmented message consists of a single frame with the FIN bit
            // clear and an opcode other than 0, followed by zero or more frames with the FIN
            // bit clear and the opcode set to 0, and terminated by a single frame with the FIN
            // bit set and an opcode of 0": a continuation must follow such a start.
            try await socket.sendFrame(opcode: .continuation, fin: true, payload: [])
            let next = try await socket.nextFrame(from: eose.index + 1)
            #expect(next.frame.opcode == .connectionClose, "\(next.frame.text)")
            #expect(next.frame.closeCode == 1002)
            await waitUntil { relay.relay.connectionCount == 0 }
            #expect(relay.relay.connectionCount == 0)
            await socket.close()
        }
    }

    @Test("a new message that starts before the fragmented one ends closes the connection with 1002")
    func interleavedMessage() async throws {
        try await TestRelay.with { relay in
            let socket = try await RawConnection.webSocket(port: relay.port)
            try await socket.sendFrame(opcode: .text, fin: false, payload: Array(#"["REQ","s","#.utf8))
            try await socket.sendFrame(opcode: .text, fin: true, payload: Array(#"["REQ","t",{}]"#.utf8))
            let next = try await socket.nextFrame()
            #expect(next.frame.opcode == .connectionClose, "\(next.frame.text)")
            #expect(next.frame.closeCode == 1002)
            await socket.close()
        }
    }

    @Test("a message in fragments is read once, and the next message starts afresh")
    func fragmentedMessages() async throws {
        try await TestRelay.with { relay in
            let socket = try await RawConnection.webSocket(port: relay.port)
            try await socket.sendFrame(opcode: .text, fin: false, payload: Array(#"["REQ","#.utf8))
            try await socket.sendFrame(opcode: .continuation, fin: false, payload: Array(#""a","#.utf8))
            try await socket.sendFrame(opcode: .continuation, fin: true, payload: Array("{}]".utf8))
            let first = try await socket.nextFrame()
            #expect(first.frame.text == #"["EOSE","a"]"#)
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","b",{}]"#.utf8))
            let second = try await socket.nextFrame(from: first.index + 1)
            #expect(second.frame.text == #"["EOSE","b"]"#)
            // Nothing in between: each message ran once.
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","c",{}]"#.utf8))
            #expect(try await socket.nextFrame(from: second.index + 1).frame.text == #"["EOSE","c"]"#)
            await socket.close()
        }
    }

    @Test("a message over the limit is answered with a NOTICE stating the advertised max_message_length")
    func oversizedNoticeStatesAdvertisedLimit() async throws {
        try await TestRelay.with(configure: { $0.limits.maxMessageLength = 1024 }) { relay in
            let document = try await relay.informationDocument()
            let advertised = try #require((document["limitation"] as? [String: Any])?["max_message_length"] as? Int)
            #expect(advertised == 1024)
            let socket = try await RawConnection.webSocket(port: relay.port)
            // Two fragments, each within the frame size the relay accepts, three times the limit together.
            let half = Array(String(repeating: " ", count: 1536).utf8)
            try await socket.sendFrame(opcode: .text, fin: false, payload: half)
            try await socket.sendFrame(opcode: .continuation, fin: true, payload: half)
            let notice = try await socket.nextFrame()
            #expect(notice.frame.text == #"["NOTICE","invalid: message is larger than \#(advertised) bytes"]"#)
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","s",{}]"#.utf8))
            #expect(try await socket.nextFrame(from: notice.index + 1).frame.text == #"["EOSE","s"]"#)
            await socket.close()
        }
    }

    @Test("a message longer than max_message_length is refused and the connection keeps working")
    func messageLength() async throws {
        try await TestRelay.with(configure: { $0.limits.maxMessageLength = 2048 }) { relay in
            let client = try await relay.connect()
            let author = Author()
            let big = author.event(content: String(repeating: "x", count: 3000))
            let answer = try await client.publishAndWait(big)
            #expect(!answer.accepted && answer.message.hasPrefix("invalid:"))
            // Up to twice the limit the relay reads enough to answer with a NOTICE; beyond that
            // the WebSocket layer closes with 1009 (message too big).
            try await client.send(String(repeating: " ", count: 4000) + "[]")
            let notice = try await client.next()
            #expect(notice.type == "NOTICE")
            #expect(try await client.publishAndWait(author.event()).accepted)
            await client.close()
        }
    }

    /// The outbox pump writes a batch as one buffer of frames it encodes itself; each must
    /// still be one whole frame to a client's decoder, in all three length forms.
    @Test("a REQ's answers arrive as one unmasked frame each, with 7-bit, 16-bit and 64-bit lengths")
    func frameLengths() async throws {
        try await TestRelay.with { relay in
            let author = Author()
            // RFC 6455 §5.2: "Payload length: 7 bits, 7+16 bits, or 7+64 bits ... If 0-125,
            // that is the payload length. If 126, the following 2 bytes ... If 127, the
            // following 8 bytes". EOSE is short; a note is a few hundred bytes; the last
            // event is over 65,535 bytes, seeded straight into the store.
            let events = [
                author.event(content: "short", createdAt: 1_700_000_003),
                author.event(content: String(repeating: "m", count: 70_000), createdAt: 1_700_000_002),
                author.event(content: String(repeating: "x", count: 65_000), tags: [["t", String(repeating: "y", count: 2_000)]], createdAt: 1_700_000_001),
            ]
            _ = try await relay.relay.store.save(events)
            let socket = try await RawConnection.webSocket(port: relay.port)
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","s",{"authors":["\#(author.pubkey.hex)"]}]"#.utf8))
            var index = 0
            for event in events {
                let next = try await socket.nextFrame(from: index)
                #expect(next.frame.fin && next.frame.opcode == .text)
                #expect(next.frame.payload == Array(#"["EVENT","s","#.utf8) + event.json + Array("]".utf8))
                index = next.index + 1
            }
            #expect(events.map(\.json.count).contains { $0 > 65_535 })
            #expect(try await socket.nextFrame(from: index).frame.text == #"["EOSE","s"]"#)
            await socket.close()
        }
    }
}
