import Foundation
import MartletRelay
import MartletServer
import NostrCore
import MartletTestSupport
import Testing

/// Behind a reverse proxy every client arrives from the proxy's address. Only a proxy the
/// operator trusts (`server.trusted_proxies`) may name the client in its header; the relay's
/// blocks, rate limits, logs and status page then see that client.
@Suite("Client addresses behind a proxy")
struct ClientAddressTests {
    private static let loopback = [IPRange("127.0.0.1")!, IPRange("::1")!]

    private func trustingLoopback(_ configuration: inout RelayConfiguration) {
        configuration.connections.trustedProxies = Self.loopback
        configuration.access.blockedIPs = ["203.0.113.7"]
    }

    @Test("from a trusted proxy, X-Forwarded-For names the client: its block holds, and a client's own entry is not believed")
    func trustedProxy() async throws {
        try await TestRelay.with(configure: trustingLoopback) { relay in
            await #expect(throws: TestFailure.self, "the blocked client behind the proxy is refused") {
                _ = try await RawConnection.webSocket(port: relay.port, headers: [("X-Forwarded-For", "203.0.113.7")])
            }
            // The client wrote the first entry, the proxy appended the address it saw.
            let socket = try await RawConnection.webSocket(
                port: relay.port, headers: [("X-Forwarded-For", "203.0.113.7, 198.51.100.9")])
            try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","live",{"kinds":[1]}]"#.utf8))
            #expect(try await socket.nextFrame().frame.text.contains("EOSE"))
            // A block of the forwarded address reaches the session (at its next event): it is
            // the address the session holds.
            try await RelayAdministration(relay: relay.relay).block(ip: "198.51.100.9", reason: "abuse")
            #expect(await relay.relay.ingest(Author().event(content: "after the block"), origin: .importFile) == .accepted)
            let closed = try await socket.nextFrame(from: 1).frame.text
            #expect(closed.contains("CLOSED") && closed.contains("blocked:"), "\(closed)")
            await socket.close()
        }
    }

    @Test("from a peer that is not trusted, the header is ignored: the peer's own address is judged")
    func untrustedPeer() async throws {
        try await TestRelay.with(configure: { $0.access.blockedIPs = ["203.0.113.7"] }) { relay in
            let socket = try await RawConnection.webSocket(port: relay.port, headers: [("X-Forwarded-For", "203.0.113.7")])
            await socket.close()
        }
        try await TestRelay.with(configure: { $0.access.blockedIPs = ["127.0.0.1", "::1"] }) { relay in
            await #expect(throws: TestFailure.self, "a blocked peer cannot name another address") {
                _ = try await RawConnection.webSocket(port: relay.port, headers: [("X-Forwarded-For", "198.51.100.9")])
            }
        }
    }

    @Test("status_access loopback judges the client behind a trusted proxy on the same machine, not the proxy")
    func statusPageBehindProxy() async throws {
        try await TestRelay.with(configure: {
            $0.connections.trustedProxies = Self.loopback
            $0.statusAccess = .loopback
        }) { relay throws in
            #expect(try await relay.httpGet().status == 200, "the operator on the machine itself")
            #expect(try await relay.httpGet(headers: ["X-Forwarded-For": "198.51.100.9"]).status == 401)
        }
    }

    @Test("each header's syntax, read from the nearest hop back past every trusted proxy", arguments: [
        (RelayConfiguration.RealIPHeader.xForwardedFor, ["6.6.6.6, 198.51.100.9, 10.0.0.2"], "198.51.100.9"),
        (.xForwardedFor, ["6.6.6.6", "198.51.100.9"], "198.51.100.9"),
        (.xForwardedFor, ["10.0.0.3, 10.0.0.2"], "10.0.0.1"),
        (.xForwardedFor, ["not an address"], "10.0.0.1"),
        (.xForwardedFor, [], "10.0.0.1"),
        (.xRealIP, [" 2001:DB8::0001 "], "2001:db8::1"),
        (.forwarded, [#"for=192.0.2.60;proto=https;by=203.0.113.43"#], "192.0.2.60"),
        (.forwarded, [#"for="[2001:db8:cafe::17]:4711", for=10.0.0.2"#], "2001:db8:cafe::17"),
        (.forwarded, [#"For="192.0.2.43:47011""#], "192.0.2.43"),
        (.forwarded, ["for=unknown"], "10.0.0.1"),
    ])
    func headerSyntax(header: RelayConfiguration.RealIPHeader, lines: [String], client: String) {
        let addresses = ClientAddresses(trusted: [IPRange("10.0.0.0/8")!], header: header)
        #expect(addresses.client(peer: "10.0.0.1", headerLines: lines) == client)
        #expect(addresses.client(peer: "192.0.2.1", headerLines: lines) == "192.0.2.1", "an untrusted peer is itself")
    }
}
