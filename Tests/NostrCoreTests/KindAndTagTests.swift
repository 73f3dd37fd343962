import NostrCore
import Testing

@Suite("kinds and tags")
struct KindAndTagTests {
    @Test("kind ranges: regular, replaceable, ephemeral, addressable at every NIP-01 boundary", arguments: [
        (UInt16(0), Kind.Category.replaceable),  // n == 0
        (1, .regular), (2, .regular),  // n == 1 || n == 2
        (3, .replaceable),  // n == 3
        (4, .regular), (44, .regular),  // 4 <= n < 45
        (45, .regular), (999, .regular),  // unassigned: stored like regular
        (1000, .regular), (9999, .regular),  // 1000 <= n < 10000
        (10000, .replaceable), (19999, .replaceable),  // 10000 <= n < 20000
        (20000, .ephemeral), (29999, .ephemeral),  // 20000 <= n < 30000
        (30000, .addressable), (39999, .addressable),  // 30000 <= n < 40000
        (40000, .regular), (65535, .regular),  // unassigned
    ])
    func categories(_ raw: UInt16, _ category: Kind.Category) {
        let kind = Kind(raw)
        #expect(kind.category == category)
        #expect(kind.isReplaceable == (category == .replaceable))
        #expect(kind.isEphemeral == (category == .ephemeral))
        #expect(kind.isAddressable == (category == .addressable))
    }

    @Test("named kinds")
    func namedKinds() {
        #expect(Kind.metadata.category == .replaceable)
        #expect(Kind.contacts.category == .replaceable)
        #expect(Kind.textNote.category == .regular)
        #expect(Kind.authentication == 22242 && Kind.authentication.isEphemeral)
        #expect(Kind(30023) > Kind(1) && Kind(30023).description == "30023")
    }

    static func event(kind: Kind = 1, tags: [NostrCore.Tag], pubkey: PublicKey = PublicKey(hex: hex64("pk"))!) -> Event {
        Event(
            id: EventID(.zero), pubkey: pubkey, createdAt: 1, kind: kind, tags: tags, content: "",
            sig: Signature(r: .zero, s: .zero))
    }

    @Test("Tag: the first element is the name and the second the value")
    func tagParts() {
        let tag: NostrCore.Tag = ["e", "abc", "wss://r"]
        #expect(tag.name == "e" && tag.value == "abc")
        #expect(NostrCore.Tag(["-"]).value == nil)
        #expect(NostrCore.Tag([]).name == "")
        #expect(tag.description == #"["e", "abc", "wss://r"]"#)
    }

    @Test("single-letter tag names a-z, A-Z are indexed; nothing else", arguments: [
        ("e", UInt8?(UInt8(ascii: "e"))), ("E", UInt8(ascii: "E")), ("z", UInt8(ascii: "z")), ("A", UInt8(ascii: "A")),
        ("ee", nil), ("", nil), ("1", nil), ("-", nil), ("é", nil), ("\u{212A}", nil), ("#", nil),
    ])
    func indexLetter(_ name: String, _ letter: UInt8?) {
        #expect(NostrCore.Tag([name, "v"]).indexLetter == letter)
    }

    @Test("firstValue and values(named:)")
    func tagLookups() {
        let tags: [NostrCore.Tag] = [["t", "a"], ["p", "x"], ["t", "b"], ["t"], ["tt", "c"]]
        #expect(tags.firstValue(named: "t") == "a")
        #expect(tags.values(named: "t") == ["a", "b"])
        #expect(tags.firstValue(named: "q") == nil)
    }

    @Test("d tag: the identifier of an addressable event, \"\" when absent")
    func dTag() {
        #expect(Self.event(tags: [["d", "x"], ["d", "y"]]).dTag == "x")
        #expect(Self.event(tags: [["t", "x"]]).dTag == "")
        #expect(Self.event(tags: [["d", ""]]).dTag == "")
        #expect(Self.event(tags: [["d"], ["d", "later"]]).dTag == "")
    }

    @Test("expiration tag (NIP-40): a unix timestamp, or nothing when malformed")
    func expiration() {
        #expect(Self.event(tags: [["expiration", "1700003600"]]).expiration == 1_700_003_600)
        #expect(Self.event(tags: []).expiration == nil)
        #expect(Self.event(tags: [["expiration", "soon"]]).expiration == nil)
        #expect(Self.event(tags: [["expiration", "1.5"]]).expiration == nil)
        #expect(Self.event(tags: [["expiration"]]).expiration == nil)
    }

    @Test("the \"-\" tag marks a protected event (NIP-70)")
    func protected() {
        #expect(Self.event(tags: [["-"]]).isProtected)
        #expect(Self.event(tags: [["t", "x"], ["-"]]).isProtected)
        #expect(!Self.event(tags: [["t", "-"]]).isProtected)
        #expect(!Self.event(tags: []).isProtected)
    }

    @Test("e and p tags: references, malformed values skipped")
    func references() {
        let id = hex64("id")
        let key = hex64("key")
        let event = Self.event(tags: [
            ["e", id, "wss://r", "root"], ["e", "not hex"], ["e", id.uppercased()], ["p", key], ["p", String(key.dropLast())],
            ["P", key],
        ])
        #expect(event.referencedEventIDs == [EventID(hex: id)!])
        #expect(event.referencedPubkeys == [PublicKey(hex: key)!])
    }

    @Test("a tag: <kind integer>:<32-bytes lowercase hex of a pubkey>:<d tag value>")
    func addresses() throws {
        let key = hex64("key")
        let pubkey = try #require(PublicKey(hex: key))
        let parsed = try #require(EventAddress("30023:\(key):my:article"))
        #expect(parsed == EventAddress(kind: 30023, pubkey: pubkey, identifier: "my:article"))
        #expect(parsed.description == "30023:\(key):my:article")
        // "for a normal replaceable event ... (note: include the trailing colon)"
        let replaceable = try #require(EventAddress("10002:\(key):"))
        #expect(replaceable.identifier == "" && replaceable.kind == 10002)
        #expect(replaceable.description == "10002:\(key):")
        for bad in [
            "30023:\(key)", "x:\(key):d", "70000:\(key):d", "-1:\(key):d", "30023:\(key.uppercased()):d",
            "30023:\(key.dropLast()):d", ":\(key):d", "", "30023::d", "+30023:\(key):d", " 1:\(key):d",
        ] {
            #expect(EventAddress(bad) == nil, "\(bad)")
        }
        let event = Self.event(tags: [["a", "30023:\(key):x", "wss://r"], ["a", "junk"], ["a", "0:\(key):"]])
        #expect(event.referencedAddresses == [
            EventAddress(kind: 30023, pubkey: pubkey, identifier: "x"),
            EventAddress(kind: 0, pubkey: pubkey, identifier: ""),
        ])
    }

    @Test("an event's own address: kind and pubkey for replaceable, plus the d tag for addressable")
    func ownAddress() throws {
        let pubkey = try #require(PublicKey(hex: hex64("pk")))
        #expect(Self.event(kind: 0, tags: [["d", "ignored"]]).address == EventAddress(kind: 0, pubkey: pubkey, identifier: ""))
        #expect(Self.event(kind: 10002, tags: []).address == EventAddress(kind: 10002, pubkey: pubkey, identifier: ""))
        #expect(Self.event(kind: 30023, tags: [["d", "a"]]).address == EventAddress(kind: 30023, pubkey: pubkey, identifier: "a"))
        #expect(Self.event(kind: 39999, tags: []).address == EventAddress(kind: 39999, pubkey: pubkey, identifier: ""))
        #expect(Self.event(kind: 1, tags: [["d", "a"]]).address == nil)
        #expect(Self.event(kind: 20000, tags: []).address == nil)
    }

    @Test("ids and keys are fixed-size values; their order is the lexical order of the hex")
    func identifiers() throws {
        let low = try #require(EventID(hex: "00" + String(repeating: "f", count: 62)))
        let high = try #require(EventID(hex: "01" + String(repeating: "0", count: 62)))
        #expect(low < high)
        let hexes = (0..<50).map { hex64("id \($0)") }
        let ids = hexes.compactMap(EventID.init(hex:))
        #expect(ids.sorted().map(\.hex) == hexes.sorted())
        #expect(ids.map(\.hex) == hexes)
        #expect(EventID(hex: String(repeating: "0", count: 63)) == nil)
        #expect(Bytes32(bytes: Array(repeating: 1, count: 31)) == nil)
        let sig = try #require(Signature(hex: Fixture.plain.sig))
        #expect(sig.hex == Fixture.plain.sig)
        #expect(Signature(bytes: sig.bytes) == sig)
        #expect(Signature(hex: String(Fixture.plain.sig.dropLast(2))) == nil)
    }
}
