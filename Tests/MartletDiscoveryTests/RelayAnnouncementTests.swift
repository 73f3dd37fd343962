import Crypto
import Foundation
import MartletDHT
import MartletDiscovery
import NostrCore
import Testing

/// The slot scheme and the announcement a relay puts there (docs/discovery.md).
@Suite("Relay announcements in the DHT's salt space")
struct RelayAnnouncementTests {
    let relayKey = SecretKey.generate()
    let now: Int64 = 1_764_700_000

    @Test("the slot key is the seed's published HardcodedKey: its seed half yields its public half")
    func slotKeyIsTheSeeds() {
        #expect(Array(RelaySlots.key.publicKey.rawRepresentation) == RelaySlots.publicKey)
        #expect(RelaySlots.salt(7) == Array("nostr:relay:7".utf8))
        #expect(
            BEP44.mutableTarget(publicKey: RelaySlots.publicKey, salt: RelaySlots.salt(0))
                == NodeID(Array(Insecure.SHA1.hash(data: RelaySlots.publicKey + Array("nostr:relay:0".utf8))))!)
    }

    @Test("an announcement signed by the relay's key is valid, and survives its JSON")
    func roundTrip() throws {
        let announcement = RelayAnnouncement.signed(
            url: "wss://relay.example", supportedNIPs: [77, 1, 11], createdAt: now, by: relayKey)
        #expect(announcement.isValid(now: now, maxAge: 3600))
        let read = try RelayAnnouncement.decode(announcement.json())
        #expect(read == announcement)
        #expect(read.supportedNIPs == [1, 11, 77])
        #expect(read.relayKey == relayKey.publicKey)
        #expect(read.isValid(now: now + 60, maxAge: 3600))
    }

    @Test("a changed URL, key, NIP list or time breaks the signature")
    func tamperingIsRefused() throws {
        let announcement = RelayAnnouncement.signed(
            url: "wss://relay.example", supportedNIPs: [1, 11], createdAt: now, by: relayKey)
        let forgeries = [
            RelayAnnouncement(
                url: "wss://evil.example", relayKey: announcement.relayKey, supportedNIPs: [1, 11], createdAt: now,
                signature: announcement.signature),
            RelayAnnouncement(
                url: announcement.url, relayKey: SecretKey.generate().publicKey, supportedNIPs: [1, 11], createdAt: now,
                signature: announcement.signature),
            RelayAnnouncement(
                url: announcement.url, relayKey: announcement.relayKey, supportedNIPs: [1, 11, 29], createdAt: now,
                signature: announcement.signature),
            RelayAnnouncement(
                url: announcement.url, relayKey: announcement.relayKey, supportedNIPs: [1, 11], createdAt: now + 1,
                signature: announcement.signature),
        ]
        for forgery in forgeries { #expect(!forgery.isValid(now: now, maxAge: 3600), "\(forgery)") }
    }

    @Test("an announcement older than the maximum age or from the future is not believed")
    func staleAndFutureAreRefused() {
        let old = RelayAnnouncement.signed(url: "wss://relay.example", supportedNIPs: [1], createdAt: now - 3601, by: relayKey)
        #expect(!old.isValid(now: now, maxAge: 3600))
        let future = RelayAnnouncement.signed(
            url: "wss://relay.example", supportedNIPs: [1], createdAt: now + 3600, by: relayKey)
        #expect(!future.isValid(now: now, maxAge: 3600))
    }

    @Test("a slot value that is not an announcement is an error, never a crash")
    func garbageIsAnError() {
        let samples = [
            "", "[]", "{}", #"{"url":"https://x.example"}"#, #"{"url":"wss://x","self":"zz"}"#,
            #"{"created_at":1,"self":"\#(String(repeating: "a", count: 64))","sig":"00","supported_nips":[1],"url":"wss://x"}"#,
            String(repeating: " ", count: 2000),
        ]
        for sample in samples {
            #expect(throws: AnnouncementError.self) { try RelayAnnouncement.decode(Array(sample.utf8)) }
        }
    }

    @Test("the largest announcement allowed fits BEP 44's 1,000-byte value")
    func largestFits() throws {
        let url = "wss://" + String(repeating: "r", count: RelayAnnouncement.maxURLLength - 6)
        let announcement = RelayAnnouncement.signed(
            url: url, supportedNIPs: Array(1...RelayAnnouncement.maxNIPs), createdAt: Int64(Int32.max), by: relayKey)
        let value = Bencode.bytes(announcement.json())
        #expect(value.encoded().count <= BEP44.maxValueSize, "\(value.encoded().count) bytes")
        _ = try MutableItem.signed(value: value, sequence: 1, salt: RelaySlots.salt(63), key: RelaySlots.key)
    }
}
