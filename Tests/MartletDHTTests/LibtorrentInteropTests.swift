import Crypto
import MartletDHT
import DHTTestSupport
import MartletTestSupport
import Testing

/// Martlet's node among libtorrent 2.x nodes (an independent BEP 5 / BEP 44 implementation),
/// all on 127.0.0.1. `make test` installs python3-libtorrent, so CI never skips this.
@Suite(
    "interoperability with libtorrent's DHT",
    .enabled(
        if: LibtorrentPeers.python != nil,
        "python3-libtorrent is not installed (apt-get install python3-libtorrent, or `make dht-deps`)"),
    .serialized)
struct LibtorrentInteropTests {
    @Test("Martlet joins libtorrent nodes, and mutable items put by either are got by the other")
    func putAndGetBothWays() async throws {
        let peers = try LibtorrentPeers(python: LibtorrentPeers.python!, sessions: 3)
        defer { peers.stop() }
        let libtorrent = try await peers.ready()
        try await withLoopbackNodes(1) { nodes in
            let martlet = nodes[0]
            // Joining: libtorrent answers find_node, so its nodes land in our routing table.
            #expect(await waitUntil(timeout: .seconds(30)) {
                await martlet.bootstrap(libtorrent) >= 2
            })
            _ = try await peers.send(["op": "add_node", "port": Int(martlet.localAddress.port)])

            // Martlet puts; libtorrent gets, and so has checked our signature and target.
            let ours = Curve25519.Signing.PrivateKey()
            let item = try MutableItem.signed(
                value: .string("wss://martlet.example"), sequence: 1, salt: Array("nostr:relay:0".utf8), key: ours)
            var stored = 0
            #expect(await waitUntil(timeout: .seconds(30)) {
                stored = await martlet.put(item, bootstrap: libtorrent)
                return stored >= 1
            })
            let got = try await peers.send([
                "op": "get", "session": 2, "public_key": DHTHex.encode(item.publicKey), "salt": "nostr:relay:0",
                "timeout": 20,
            ])
            #expect(got["found"] as? Bool == true)
            #expect(got["value"] as? String == "wss://martlet.example")
            #expect(got["seq"] as? Int == 1)
            #expect(got["signature"] as? String == DHTHex.encode(item.signature))

            // libtorrent puts (signing with the same seed through its own ed25519); Martlet gets.
            let theirs = Curve25519.Signing.PrivateKey()
            let put = try await peers.send([
                "op": "put", "session": 1, "seed": DHTHex.encode(theirs.rawRepresentation),
                "public_key": DHTHex.encode(theirs.publicKey.rawRepresentation), "value": "wss://libtorrent.example",
                "salt": "lt", "timeout": 20,
            ])
            #expect((put["num_success"] as? Int ?? 0) >= 1)
            // Four nodes in all, so libtorrent's put reaches ours too: our put responder accepted it.
            #expect(await waitUntil { martlet.storedItemCount >= 1 })
            var fetched: MutableItem?
            #expect(await waitUntil(timeout: .seconds(20)) {
                fetched = await martlet.getMutable(
                    publicKey: Array(theirs.publicKey.rawRepresentation), salt: Array("lt".utf8), bootstrap: libtorrent)
                return fetched != nil
            })
            #expect(fetched?.value == .string("wss://libtorrent.example"))
            #expect(fetched?.sequence == 1)
            // Signed by libtorrent from the same seed: ed25519 is deterministic, so the bytes agree.
            let expected = try MutableItem.signed(
                value: .string("wss://libtorrent.example"), sequence: 1, salt: Array("lt".utf8), key: theirs)
            #expect(fetched?.signature == expected.signature)
            #expect(martlet.dropCounts[.malformed] == nil)
            #expect(martlet.dropCounts[.badSignature] == nil)
        }
    }
}
