import Crypto
import DHTTestSupport
import MartletDHT
import MartletTestSupport
import Testing

@Suite("a Martlet DHT node on loopback")
struct DHTNodeTests {
    func query(_ socket: RawUDPSocket, _ node: DHTNode, _ query: KRPCQuery) async throws -> KRPCMessage.Body? {
        try await socket.send(KRPCMessage(transactionID: [9, 9], body: .query(query)).encoded(), to: node.localAddress)
        guard let reply = await socket.nextReply() else { return nil }
        return try KRPCMessage.decode(reply).body
    }

    func token(_ socket: RawUDPSocket, _ node: DHTNode, target: NodeID) async throws -> [UInt8] {
        let body = try await query(socket, node, .get(id: .random(), target: target, sequence: nil))
        guard case .response(let response)? = body, let token = response.token else { throw DHTError.timeout }
        return token
    }

    @Test("nodes join through one another and an item put on one is got from another")
    func putAndGet() async throws {
        try await withLoopbackNodes(4) { nodes in
            for node in nodes.dropFirst() { await node.bootstrap([nodes[0].localAddress]) }
            #expect(await waitUntil { nodes[0].routingTable.count == 3 })
            let key = Curve25519.Signing.PrivateKey()
            let item = try MutableItem.signed(value: .string("wss://relay.example"), sequence: 1, salt: [1], key: key)
            #expect(await nodes[1].put(item) >= 2)
            let got = await nodes[3].getMutable(publicKey: item.publicKey, salt: [1], bootstrap: [nodes[0].localAddress])
            #expect(got == item)
            let newer = try MutableItem.signed(value: .string("wss://relay2.example"), sequence: 2, salt: [1], key: key)
            #expect(await nodes[2].put(newer) >= 2)
            #expect(await nodes[3].getMutable(publicKey: item.publicKey, salt: [1]) == newer)
        }
    }

    @Test("a put with a bad signature gets error 206 and is counted")
    func badSignature() async throws {
        try await withLoopbackNodes(1) { nodes in
            let socket = try await RawUDPSocket.open()
            defer { Task { try? await socket.close() } }
            let item = try MutableItem.signed(value: .string("a"), sequence: 1, key: Curve25519.Signing.PrivateKey())
            let forged = MutableItem(publicKey: item.publicKey, salt: [], sequence: 1, value: .string("b"), signature: item.signature)
            let token = try await token(socket, nodes[0], target: item.target)
            let body = try await query(socket, nodes[0], .put(id: .random(), token: token, item: .mutable(forged), compareAndSwap: nil))
            #expect(body == .error(code: 206, message: "invalid signature"))
            #expect(nodes[0].dropCounts[.badSignature] == 1)
            #expect(nodes[0].storedItemCount == 0)
        }
    }

    @Test("a stale seq gets error 302, a wrong cas 301, a bad token 203, a value over 1000 bytes 205")
    func refusals() async throws {
        try await withLoopbackNodes(1) { nodes in
            let node = nodes[0]
            let socket = try await RawUDPSocket.open()
            defer { Task { try? await socket.close() } }
            let key = Curve25519.Signing.PrivateKey()
            let v2 = try MutableItem.signed(value: .string("two"), sequence: 2, key: key)
            let v1 = try MutableItem.signed(value: .string("one"), sequence: 1, key: key)
            let v3 = try MutableItem.signed(value: .string("three"), sequence: 3, key: key)
            let token = try await token(socket, node, target: v2.target)
            func put(_ item: MutableItem, cas: Int64? = nil, token: [UInt8]) async throws -> KRPCMessage.Body? {
                try await query(socket, node, .put(id: .random(), token: token, item: .mutable(item), compareAndSwap: cas))
            }
            guard case .response? = try await put(v2, token: token) else { Issue.record("v2 refused"); return }
            #expect(try await put(v1, token: token) == .error(code: 302, message: "sequence number less than current"))
            #expect(try await put(v3, cas: 1, token: token) == .error(code: 301, message: "CAS mismatch, re-read value and try again"))
            #expect(try await put(v3, token: [0]) == .error(code: 203, message: "bad token"))
            let big = try MutableItem.signed(value: .bytes([UInt8](repeating: 1, count: 1000)), sequence: 9, key: key)
            #expect(try await put(big, token: token) == .error(code: 205, message: "message (v field) too big"))
            #expect(node.dropCounts[.staleSequence] == 2)
            #expect(node.dropCounts[.badToken] == 1)
            #expect(node.dropCounts[.tooLarge] == 1)
            guard case .response(let got)? = try await query(socket, node, .get(id: .random(), target: v2.target, sequence: nil))
            else { Issue.record("no get answer"); return }
            #expect(got.sequence == 2 && got.value == .string("two"))
        }
    }

    @Test("malformed packets are dropped and counted, an unknown method gets 204, and the node keeps answering")
    func malformed() async throws {
        try await withLoopbackNodes(1) { nodes in
            let socket = try await RawUDPSocket.open()
            defer { Task { try? await socket.close() } }
            for junk in ["", "d", "i1e", "d1:t2:aa1:y1:qe", "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", "l" + String(repeating: "l", count: 100)] {
                try await socket.send(Array(junk.utf8), to: nodes[0].localAddress)
            }
            #expect(await waitUntil { nodes[0].dropCounts[.malformed] == 6 })
            let unknown = "d1:ad2:id20:abcdefghij0123456789e1:q5:fancy1:t2:aa1:y1:qe"
            try await socket.send(Array(unknown.utf8), to: nodes[0].localAddress)
            let reply = try #require(await socket.nextReply())
            #expect(try KRPCMessage.decode(reply).body == .error(code: 204, message: "Method Unknown"))
            #expect(try await query(socket, nodes[0], .ping(id: .random())) == .response(KRPCResponse(id: nodes[0].id)))
        }
    }

    @Test("a flood from one IP is cut to its rate and counted")
    func rateLimit() async throws {
        try await withLoopbackNodes(1, configure: { $0.packetsPerSecondPerIP = 1; $0.packetBurstPerIP = 5 }) { nodes in
            let socket = try await RawUDPSocket.open()
            defer { Task { try? await socket.close() } }
            let ping = KRPCMessage(transactionID: [1, 1], body: .query(.ping(id: .random()))).encoded()
            let flood = 200
            let started = ContinuousClock.now
            for _ in 0..<flood { try await socket.send(ping, to: nodes[0].localAddress) }
            // Every ping is either answered or dropped as rate-limited; a loaded machine may take
            // its time, and the bucket refills meanwhile, so the bound below counts the seconds.
            var answered = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while answered + (nodes[0].dropCounts[.rateLimited] ?? 0) < flood, ContinuousClock.now < deadline {
                if await socket.nextReply(timeout: .milliseconds(200)) != nil { answered += 1 }
            }
            let elapsed = (ContinuousClock.now - started).components.seconds + 1
            #expect(answered + (nodes[0].dropCounts[.rateLimited] ?? 0) == flood)
            #expect(answered >= 1 && answered <= 5 + Int(elapsed) + 1, "\(answered) answered in \(elapsed) s")
        }
    }

    @Test("pending queries are bounded; an unanswered query times out")
    func pendingBound() async throws {
        try await withLoopbackNodes(1, configure: { $0.maxPendingQueries = 2; $0.queryTimeout = .seconds(2) }) { nodes in
            let silent = try await RawUDPSocket.open()
            defer { Task { try? await silent.close() } }
            let target = IPv4Endpoint(silent.channel.localAddress!)!
            let node = nodes[0]
            await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        do { _ = try await node.ping(target); return nil } catch { return error }
                    }
                }
                var errors: [DHTError] = []
                for await error in group { if let error = error as? DHTError { errors.append(error) } }
                #expect(errors.filter { $0 == .timeout }.count == 2)
                #expect(errors.filter { $0 == .tooManyPendingQueries }.count == 1)
            }
            #expect(node.pendingQueryCount == 0)
        }
    }

    @Test("two values with the same seq on different nodes: every reader picks the same one, whatever answers first")
    func equalSequenceTieBreak() async throws {
        try await withLoopbackNodes(3) { nodes in
            let seeds = nodes.map(\.localAddress)
            for node in nodes { await node.bootstrap(seeds) }
            let key = Curve25519.Signing.PrivateKey()
            let salt = Array("nostr:relay:0".utf8)
            let first = try MutableItem.signed(value: .string("a-first"), sequence: 7, salt: salt, key: key)
            let second = try MutableItem.signed(value: .string("b-second"), sequence: 7, salt: salt, key: key)
            let reader = nodes[0]
            // The holder nearer the target answers first in a lookup's results; it gets the value
            // that sorts last, so a reader that kept the first answer would pick it.
            let holders = nodes[1...].sorted { $0.id.distance(to: first.target) < $1.id.distance(to: first.target) }
            for (holder, item) in zip(holders, [second, first]) {
                let answer = try await reader.query(.get(id: reader.id, target: item.target, sequence: nil), to: holder.localAddress)
                let token = try #require(answer.token)
                _ = try await reader.query(
                    .put(id: reader.id, token: token, item: .mutable(item), compareAndSwap: nil), to: holder.localAddress)
            }
            #expect(holders.allSatisfy { $0.storedItemCount == 1 })
            let got = await reader.getMutable(publicKey: first.publicKey, salt: salt)
            #expect(got?.value == first.value)
        }
    }
}
