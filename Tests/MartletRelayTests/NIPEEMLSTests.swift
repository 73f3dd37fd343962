import Foundation
@testable import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// NIP-EE (MLS over Nostr) behind `features.mls`: what the relay takes, keeps and purges.
/// The MLS content itself is opaque bytes here; the interop script drives the same rules
/// with KeyPackages and Welcomes made by a real RFC 9420 implementation.
@Suite("NIP-EE MLS")
struct NIPEEMLSTests {
    static func mlsOn(retention: Int64 = 3_600) -> (inout RelayConfiguration) -> Void {
        { configuration in
            configuration.mls.enabled = true
            configuration.mls.groupEventRetention = retention
        }
    }

    /// NIP-EE: "["mls_protocol_version", "1.0"], ["ciphersuite", ...], ["extensions", ...]"
    static func keyPackage(by author: Author, tags: [NostrCore.Tag] = [["mls_protocol_version", "1.0"]]) -> Event {
        author.event(
            kind: .mlsKeyPackage, content: "0001000120deadbeef",
            tags: tags + [["ciphersuite", "0x0001"], ["extensions", "0x0001", "0x0002"], ["relays", "ws://127.0.0.1:7777"]])
    }

    @Test("NIP-EE: a KeyPackage (kind 443) is stored and served; one without mls_protocol_version is refused invalid:")
    func keyPackages() async throws {
        try await SessionRelay.withClient(configure: Self.mlsOn()) { _, client throws in
            let alice = Author()
            let package = Self.keyPackage(by: alice)
            #expect(try await client.publishAndWait(package).accepted)
            let read = try await client.query("kp", #"{"kinds":[443],"authors":["\#(alice.pubkey.hex)"]}"#)
            #expect(read.ids == [package.id.hex])
            #expect(read.first?["content"] as? String == package.content)

            // "The `mls_protocol_version` tag is required"
            let versionless = Self.keyPackage(by: alice, tags: [])
            let refusal = try await client.refusal(of: versionless)
            #expect(refusal?.hasPrefix("invalid:") == true)
            #expect(refusal?.contains("mls_protocol_version") == true)
        }
    }

    @Test("NIP-EE: a bare Welcome (kind 444) is refused invalid:, the gift wrap (kind 1059) carrying one is stored")
    func welcomeOnlyWrapped() async throws {
        try await SessionRelay.withClient(configure: Self.mlsOn()) { _, client throws in
            let alice = Author()
            let bob = Author()
            // "Welcome Events are then sealed and gift-wrapped as detailed in NIP-59 before
            // being published. Like all events that are sealed and gift-wrapped, `kind: 444`
            // events MUST never be signed."
            let bare = alice.event(kind: .mlsWelcome, content: "welcome bytes", tags: [["e", String(repeating: "ab", count: 32)]])
            let refusal = try await client.refusal(of: bare)
            #expect(refusal?.hasPrefix("invalid:") == true)
            #expect(refusal?.contains("gift-wrapped") == true)
            let wrap = Author().event(kind: .giftWrap, content: "sealed welcome", tags: [["p", bob.pubkey.hex]])
            #expect(try await client.publishAndWait(wrap).accepted)
        }
    }

    @Test("NIP-EE: group events (kind 445) are read by #h until their retention ends, then purged")
    func groupEventRetention() async throws {
        let clock = Locked<Int64>(now())
        let start = clock.value
        try await SessionRelay.withClient(configure: Self.mlsOn(retention: 600), clock: { clock.value }) { relay, client throws in
            let group = String(repeating: "0f", count: 32)
            // "Clients MUST use a new Nostr keypair for each Group Event they publish."
            let older = Author().event(kind: .mlsGroupEvent, content: "commit", tags: [["h", group]], createdAt: start - 300)
            let newer = Author().event(kind: .mlsGroupEvent, content: "message", tags: [["h", group]], createdAt: start - 10)
            for event in [older, newer] { #expect(try await client.publishAndWait(event).accepted) }
            let byGroup = ##"{"kinds":[445],"#h":["\##(group)"]}"##
            #expect(try await client.query("g1", byGroup).ids == [newer.id.hex, older.id.hex])

            // A group event already past its retention would only be purged again.
            let stale = Author().event(kind: .mlsGroupEvent, content: "late", tags: [["h", group]], createdAt: start - 601)
            #expect(try await client.refusal(of: stale)?.hasPrefix("invalid:") == true)
            // Without an h tag nobody could read it back.
            let groupless = Author().event(kind: .mlsGroupEvent, content: "lost")
            #expect(try await client.refusal(of: groupless)?.hasPrefix("invalid:") == true)

            // 301 s later `older` is 601 s old, past the 600 s retention; the purge task
            // (every second in tests) removes it and keeps `newer`.
            clock.withLock { $0 = start + 301 }
            #expect(
                try await waitUntil(timeout: .seconds(30)) {
                    try await relay.relay.store.contains(older.id) == false
                })
            #expect(try await client.query("g2", byGroup).ids == [newer.id.hex])
        }
    }

    @Test("NIP-EE: the KeyPackage relay list (kind 10051) is replaceable, with MLS on or off")
    func keyPackageRelayListIsReplaceable() async throws {
        for enabled in [true, false] {
            try await SessionRelay.withClient(configure: { $0.mls.enabled = enabled }) { _, client throws in
                let alice = Author()
                #expect(Kind.mlsKeyPackageRelays.isReplaceable)
                let first = alice.event(
                    kind: .mlsKeyPackageRelays, content: "", tags: [["relay", "wss://a.example.com"]], createdAt: now() - 20)
                let second = alice.event(
                    kind: .mlsKeyPackageRelays, content: "", tags: [["relay", "wss://b.example.com"]], createdAt: now() - 10)
                for event in [first, second] { #expect(try await client.publishAndWait(event).accepted) }
                let lists = try await client.query("l", #"{"kinds":[10051],"authors":["\#(alice.pubkey.hex)"]}"#)
                #expect(lists.ids == [second.id.hex])
            }
        }
    }

    @Test("NIP-EE off (the default): kinds 443, 444 and 445 are ordinary events, and none is purged")
    func offByDefault() async throws {
        #expect(RelayConfiguration().mls.enabled == false)
        let clock = Locked<Int64>(now())
        let start = clock.value
        try await SessionRelay.withClient(clock: { clock.value }) { relay, client throws in
            let alice = Author()
            let bare = alice.event(kind: .mlsWelcome, content: "welcome bytes")
            let versionless = Self.keyPackage(by: alice, tags: [])
            let old = Author().event(kind: .mlsGroupEvent, content: "old", createdAt: start - 30 * 86_400)
            for event in [bare, versionless, old] { #expect(try await client.publishAndWait(event).accepted) }
            try await relay.relay.purgeExpiredGroupEvents()
            #expect(try await relay.relay.store.contains(old.id))
        }
    }
}
