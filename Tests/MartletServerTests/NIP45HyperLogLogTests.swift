import Foundation
import NostrCore
import MartletTestSupport
import Testing

/// NIP-45's HyperLogLog in COUNT answers, on both stores, checked against registers computed
/// by a separate implementation (Python's, below), never by the relay's own code.
@Suite("NIP-45 HyperLogLog")
struct NIP45HyperLogLogTests {
    @Test("COUNT answers carry NIP-45's hll for its common filters, equal to independently computed registers (SQLite)")
    func sqlite() async throws {
        try await TestRelay.with { relay in try await Self.scenario(relay) }
    }

    @Test(
        "COUNT answers carry NIP-45's hll for its common filters, equal to independently computed registers (PostgreSQL)",
        .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
    func postgres() async throws {
        try await TestRelay.withPostgres { relay in
            try await Self.scenario(relay)
        }
    }

    static func scenario(_ relay: TestRelay) async throws {
        let client = try await relay.connect()
        let target = Author().event(content: "react to me")
        let followed = Author()
        let article = "30023:\(followed.pubkey.hex):hll-article"
        #expect(try await client.publishAndWait(target).accepted)

        // "Read the byte at position offset ... count the number of leading zero bits
        // starting at position offset+1": one reactor has a whole zero byte there.
        let offset = try await expectedOffset(target.id.hex)
        var reactors = (0..<40).map { _ in Author() }
        reactors.append(mined { $0.pubkey.raw.withUnsafeBytes { $0[offset + 1] == 0 } })
        var reactions: [Event] = []
        for reactor in reactors {
            reactions.append(reactor.event(kind: 7, content: "+", tags: [["e", target.id.hex], ["p", target.pubkey.hex]]))
        }
        // A second reaction by the same author is another event, not another author.
        reactions.append(reactors[0].event(kind: 7, content: "🔥", tags: [["e", target.id.hex]]))
        let followers = (0..<25).map { _ in Author() }
        let follows = followers.map { $0.event(kind: 3, content: "", tags: [["p", followed.pubkey.hex]]) }
        let likers = (0..<15).map { _ in Author() }
        let articleReactions = likers.map { $0.event(kind: 7, content: "+", tags: [["a", article]]) }
        let tagged = (0..<10).map { _ in Author().event(tags: [["t", "hyperloglog"]]) }
        for event in reactions + follows + articleReactions + tagged {
            #expect(try await client.publishAndWait(event).accepted)
        }

        let cases: [(filter: String, value: String, events: [Event])] = [
            // An event id, used as it is.
            (##"{"#e":["\##(target.id.hex)"],"kinds":[7]}"##, target.id.hex, reactions),
            // A pubkey, used as it is.
            (##"{"#p":["\##(followed.pubkey.hex)"],"kinds":[3]}"##, followed.pubkey.hex, follows),
            // An address: its pubkey part.
            (##"{"#a":["\##(article)"],"kinds":[7]}"##, article, articleReactions),
            // Anything else: its SHA-256.
            (##"{"#t":["hyperloglog"],"kinds":[1]}"##, "hyperloglog", tagged),
        ]
        for (index, item) in cases.enumerated() {
            try await client.send(#"["COUNT","c\#(index)",\#(item.filter)]"#)
            let answer = try await client.next()
            let body = try #require(answer.object(2), "\(answer)")
            #expect(body["count"] as? Int == item.events.count, "\(item.filter)")
            let expected = try await expectedHLL(value: item.value, pubkeys: item.events.map(\.pubkey.hex))
            #expect(body["hll"] as? String == expected, "\(item.filter)")
        }

        // Outside what NIP-45 defines: several filters, no tag attribute. And a filter that
        // could match gift wraps, whose authors the registers would reveal.
        for filters in [
            ##"{"#e":["\##(target.id.hex)"],"kinds":[7]},{"kinds":[3]}"##, ##"{"kinds":[7]}"##,
            ##"{"#p":["\##(target.pubkey.hex)"]}"##,
        ] {
            try await client.send(#"["COUNT","n",\#(filters)]"#)
            let answer = try await client.next()
            #expect(answer.type == "COUNT" && answer.object(2)?["hll"] == nil, "\(filters): \(answer)")
        }
        await client.close()
    }

    /// An author whose key satisfies `condition`.
    static func mined(_ condition: (Author) -> Bool) -> Author {
        while true {
            let author = Author()
            if condition(author) { return author }
        }
    }

    /// NIP-45's algorithm written out plainly in Python, apart from the relay's code.
    static let reference = #"""
        import hashlib, json, sys
        request = json.load(sys.stdin)
        value = request["value"]
        def is_hex64(text):
            return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
        parts = value.split(":", 2)
        if is_hex64(value):
            key = value
        elif len(parts) == 3 and parts[0].isdigit() and is_hex64(parts[1]):
            key = parts[1]
        else:
            key = hashlib.sha256(value.encode()).hexdigest()
        offset = int(key[32], 16) + 8
        registers = [0] * 256
        for pubkey in request["pubkeys"]:
            raw = bytes.fromhex(pubkey)
            bits = "".join(format(byte, "08b") for byte in raw[offset + 1:])
            zeros = len(bits) - len(bits.lstrip("0"))
            registers[raw[offset]] = max(registers[raw[offset]], zeros + 1)
        print(json.dumps({"offset": offset, "hll": bytes(registers).hex()}))
        """#

    static func runReference(value: String, pubkeys: [String]) async throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", reference]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try await spawn(process)
        let request = try JSONSerialization.data(withJSONObject: ["value": value, "pubkeys": pubkeys])
        try input.fileHandleForWriting.write(contentsOf: request)
        try input.fileHandleForWriting.close()
        let data = await blocking { output.fileHandleForReading.readDataToEndOfFile() }
        await waitForExit(process)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "python3 printed \(data)")
    }

    static func expectedHLL(value: String, pubkeys: [String]) async throws -> String {
        try #require(try await runReference(value: value, pubkeys: pubkeys)["hll"] as? String)
    }

    static func expectedOffset(_ value: String) async throws -> Int {
        try #require(try await runReference(value: value, pubkeys: [])["offset"] as? Int)
    }
}
