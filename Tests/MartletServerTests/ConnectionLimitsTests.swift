import Foundation
import MartletServer
import MartletTestSupport
import Testing

/// Connections bounded before they become Nostr sessions: per address, and in the time a
/// client gets to send its request. 1,100 half-open requests once held all 1,024
/// descriptors and locked everyone out.
@Suite("Connection limits")
struct ConnectionLimitsTests {
    @Test("connections beyond max_connections_per_ip from one address are answered 429 and closed; closing frees the slots")
    func perAddressCap() async throws {
        try await TestRelay.with(configure: {
            $0.connections.maxPerIP = 20
            // Long enough that no admitted socket is closed for its silence during the test.
            $0.connections.handshakeTimeout = .seconds(600)
        }) { relay in
            let client = try await relay.connect()
            await waitUntil { relay.relay.connectionCount == 1 }
            var sockets: [RawConnection] = []
            for _ in 0..<50 { sockets.append(try await RawConnection.open(port: relay.port)) }
            // The client holds one slot, 19 sockets the rest: 31 are refused.
            await waitUntil(timeout: .seconds(60)) { sockets.filter(\.isClosed).count >= 31 }
            #expect(try await client.query("s", "{}").isEmpty)
            let refused = sockets.filter(\.isClosed)
            #expect(refused.count == 31)
            #expect(refused.allSatisfy { $0.receivedText.hasPrefix("HTTP/1.1 429 Too Many Requests\r\n") })
            #expect(sockets.filter { !$0.isClosed }.allSatisfy { $0.receivedText.isEmpty })
            await #expect(throws: TestFailure.self) { try await RawConnection.webSocket(port: relay.port) }
            for socket in sockets { await socket.close() }
            // Every slot is given back as its connection closes.
            let upgraded = try await waitForUpgrade(port: relay.port)
            try await upgraded.sendFrame(opcode: .text, payload: Array(#"["REQ","t",{}]"#.utf8))
            #expect(try await upgraded.nextFrame().frame.text == #"["EOSE","t"]"#)
            await upgraded.close()
            await client.close()
        }
    }

    // The relay runs in a process of its own (`martlet serve`), so that its resident memory
    // is measured apart from the tests running beside this one.
    @Test("sockets that never finish their request head are closed after handshake_timeout while clients connect and subscribe, in bounded memory")
    func halfOpenFlood() async throws {
        // 600 client sockets, twice the relay's cap of 300 per address. Not more: with about
        // 1,360 descriptors open in this process, Foundation's Process.run (which reads
        // /proc/self/fd, copying each entry's whole 256-byte name) read past the end of its
        // directory buffer and crashed the whole test run when another test started a child.
        FileDescriptorLimit.raiseToHardLimit()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-flood-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try await RelayProcess.start(
            data: folder,
            environment: ["MARTLET_SERVER_MAX_CONNECTIONS_PER_IP": "300", "MARTLET_SERVER_HANDSHAKE_TIMEOUT": "1"])
        let pid = relay.process.processIdentifier
        let residentAtStart = try residentMemoryKB(pid: pid)
        var peak = residentAtStart
        let client = try await relay.connect()
        var sockets: [RawConnection] = []
        for index in 0..<600 {
            // Half send nothing, half stop in the middle of their headers.
            let partial = index.isMultiple(of: 2) ? "" : "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            sockets.append(try await RawConnection.open(port: relay.port, sending: partial))
            if index.isMultiple(of: 100) {
                #expect(try await client.query("s\(index)", "{}").isEmpty)
                peak = max(peak, try residentMemoryKB(pid: pid))
            }
        }
        peak = max(peak, try residentMemoryKB(pid: pid))
        await waitUntil(timeout: .seconds(120)) { sockets.allSatisfy(\.isClosed) }
        #expect(sockets.allSatisfy { $0.isClosed })
        // Some were refused at once, the rest closed for their silence.
        #expect(sockets.contains { $0.receivedText.isEmpty })
        #expect(sockets.allSatisfy { $0.receivedText.isEmpty || $0.receivedText.hasPrefix("HTTP/1.1 429") })
        // The slots are free again: a new client connects and subscribes.
        let late = try await relay.connect()
        #expect(try await late.query("late", "{}").isEmpty)
        #expect(try await client.query("still", "{}").isEmpty)
        peak = max(peak, try residentMemoryKB(pid: pid))
        #expect(peak - residentAtStart < 100 * 1024, "VmRSS \(residentAtStart) kB -> \(peak) kB")
        for socket in sockets { await socket.close() }
        await late.close()
        await client.close()
        #expect(await relay.stop(signal: SIGTERM) == 0)
    }

    @Test("martlet serve raises its open-files limit to the hard limit and applies server.max_connections_per_ip")
    func serveRaisesFileLimit() async throws {
        let hard = try #require(FileDescriptorLimit.raiseToHardLimit()?.hard)
        try #require(hard > 256, "the hard limit (\(hard)) leaves nothing to raise")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-fd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let relay = try await RelayProcess.start(
            data: folder, softFileLimit: 256,
            environment: ["MARTLET_SERVER_MAX_CONNECTIONS_PER_IP": "2", "MARTLET_SERVER_HANDSHAKE_TIMEOUT": "600"])
        let limits = try String(contentsOfFile: "/proc/\(relay.process.processIdentifier)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let figures = line.split(separator: " ").compactMap { UInt64($0) }
        #expect(figures == [hard, hard], "\(line)")
        let sockets = [
            try await RawConnection.open(port: relay.port), try await RawConnection.open(port: relay.port),
            try await RawConnection.open(port: relay.port),
        ]
        await waitUntil(timeout: .seconds(30)) { sockets.contains(where: \.isClosed) }
        #expect(sockets.filter(\.isClosed).count == 1)
        #expect(sockets.contains { $0.receivedText.hasPrefix("HTTP/1.1 429") })
        for socket in sockets { await socket.close() }
        #expect(await relay.stop(signal: SIGTERM) == 0)
    }

    /// Upgrades as soon as the relay has a slot free (closed sockets are counted out as the
    /// relay notices them).
    private func waitForUpgrade(port: Int) async throws -> RawConnection {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await RawConnection.webSocket(port: port)
            } catch let error as TestFailure where ContinuousClock.now < deadline {
                _ = error
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// A process's resident memory, from /proc/<pid>/status.
func residentMemoryKB(pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = line.split(separator: " ").compactMap({ Int($0) }).first
    else { throw TestFailure("no VmRSS in /proc/\(pid)/status") }
    return kilobytes
}
