import NostrCore
import Testing

/// Events signed by an independent implementation (coincurve, see `Fixtures/generate_vectors.py`).
@Suite("NIP-01 events signed elsewhere")
struct SignedVectorTests {
    @Test("the fixture covers every NIP-01 escape, other controls, non-BMP text and every kind category")
    func fixtureCoverage() {
        let vectors = Fixture.vectors
        #expect(vectors.count >= 40)
        let text = vectors.map { $0.content + $0.tags.joined().joined() }.joined()
        for escape in ["\n", "\"", "\\", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}", "\u{01}", "\u{1F}", "😀"] {
            #expect(text.unicodeScalars.contains { String($0) == escape }, "no \(escape.debugDescription)")
        }
        let categories = Set(vectors.map { Kind($0.kind).category })
        #expect(categories == [.regular, .replaceable, .ephemeral, .addressable])
    }

    @Test("serialization is [0,pubkey,created_at,kind,tags,content] with the seven NIP-01 escapes and \\u00XX for other controls",
          arguments: Fixture.vectors)
    func preimage(_ vector: Vector) throws {
        let pubkey = try #require(PublicKey(hex: vector.pubkey))
        let ours = EventSerializer.idPreimage(
            pubkey: pubkey, createdAt: vector.createdAt, kind: Kind(vector.kind), tags: vector.tags.map(NostrCore.Tag.init),
            content: vector.content)
        #expect(ours == vector.preimage)
    }

    @Test("event.id is the sha256 of the serialized event data", arguments: Fixture.vectors)
    func id(_ vector: Vector) throws {
        let event = try EventDecoder.decode(json: vector.jsonBytes)
        #expect(event.id.hex == vector.id)
        #expect(event.computedID().hex == vector.id)
        #expect(event.pubkey.hex == vector.pubkey)
        #expect(event.sig.hex == vector.sig)
        #expect(event.createdAt == vector.createdAt)
        #expect(event.kind.rawValue == vector.kind)
        #expect(event.tags.map(\.fields) == vector.tags)
        #expect(event.content.utf8.elementsEqual(vector.content.utf8))
    }

    @Test("a signature made by another BIP-340 implementation verifies", arguments: Fixture.vectors)
    func validates(_ vector: Vector) throws {
        let event = try EventDecoder.decode(json: vector.jsonBytes)
        #expect(throws: Never.self) { try event.validate() }
        let key = try #require(XOnlyKey(event.pubkey))
        #expect(Schnorr.verify(event.sig, digest: event.id.raw, key: key))
        #expect(Schnorr.verify(event.sig, digest: event.id.raw, pubkey: event.pubkey))
    }

    @Test("the canonical JSON decodes and encodes back to the same bytes", arguments: Fixture.vectors)
    func canonicalRoundTrip(_ vector: Vector) throws {
        #expect(try EventDecoder.decode(json: vector.jsonBytes).json == vector.jsonBytes)
    }

    @Test("another spelling of the same event (sorted keys, whitespace, \\u escapes, surrogate pairs) decodes to the canonical JSON",
          arguments: Fixture.vectors)
    func asciiSpelling(_ vector: Vector) throws {
        let event = try EventDecoder.decode(json: vector.jsonASCII.bytes)
        #expect(event.json == vector.jsonBytes)
        #expect(event.computedID().hex == vector.id)
    }

    @Test("our key derivation agrees: the secret gives the fixture's x-only pubkey, and our signature verifies",
          arguments: Fixture.vectors)
    func signingAgrees(_ vector: Vector) throws {
        let secret = try #require(SecretKey(hex: vector.secret))
        #expect(secret.publicKey.hex == vector.pubkey)
        let event = Event.signed(
            by: secret, kind: Kind(vector.kind), createdAt: vector.createdAt, tags: vector.tags.map(NostrCore.Tag.init),
            content: vector.content)
        #expect(event.id.hex == vector.id)
        #expect(throws: Never.self) { try event.validate() }
    }

    // MARK: Tampering

    @Test("changing the content makes the id not match: invalid:", arguments: Fixture.vectors.prefix(12))
    func tamperedContent(_ vector: Vector) throws {
        let event = try EventDecoder.decode(json: vector.jsonBytes)
        let forged = Event(
            id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content + " ", sig: event.sig)
        #expect(throws: EventValidationError.idMismatch) { try forged.validate() }
        #expect(EventValidationError.idMismatch.message.hasPrefix("invalid: "))
    }

    @Test("changing created_at, kind or tags makes the id not match")
    func tamperedFields() throws {
        let event = try EventDecoder.decode(json: Fixture.vector("many tags").jsonBytes)
        let forgeries = [
            Event(id: event.id, pubkey: event.pubkey, createdAt: event.createdAt + 1, kind: event.kind,
                  tags: event.tags, content: event.content, sig: event.sig),
            Event(id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: Kind(7),
                  tags: event.tags, content: event.content, sig: event.sig),
            Event(id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind,
                  tags: Array(event.tags.dropLast()), content: event.content, sig: event.sig),
        ]
        for forged in forgeries {
            #expect(throws: EventValidationError.idMismatch) { try forged.validate() }
        }
    }

    @Test("a flipped bit anywhere in the signature fails verification", arguments: [0, 1, 31, 32, 63])
    func tamperedSignature(_ byteIndex: Int) throws {
        let event = try EventDecoder.decode(json: Fixture.plain.jsonBytes)
        var bytes = event.sig.bytes
        bytes[byteIndex] ^= 0x01
        let forged = Event(
            id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content, sig: try #require(Signature(bytes: bytes)))
        #expect(throws: EventValidationError.badSignature) { try forged.validate() }
        #expect(EventValidationError.badSignature.message == "invalid: signature verification failed")
    }

    @Test("a signature from another event does not verify this one")
    func swappedSignature() throws {
        let first = try EventDecoder.decode(json: Fixture.vectors[0].jsonBytes)
        let second = try EventDecoder.decode(json: Fixture.vectors[1].jsonBytes)
        #expect(first.pubkey == second.pubkey)
        let forged = Event(
            id: first.id, pubkey: first.pubkey, createdAt: first.createdAt, kind: first.kind, tags: first.tags,
            content: first.content, sig: second.sig)
        #expect(throws: EventValidationError.badSignature) { try forged.validate() }
    }

    @Test("a changed id is refused before any signature check")
    func tamperedID() throws {
        let event = try EventDecoder.decode(json: Fixture.plain.jsonBytes)
        var raw = event.id.raw
        raw.w3 ^= 1
        let forged = Event(
            id: EventID(raw), pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content, sig: event.sig)
        #expect(throws: EventValidationError.idMismatch) { try forged.validate() }
        #expect(EventValidationError.idMismatch.message == "invalid: event id does not match the hash of the event")
    }

    @Test("another author's pubkey makes the id not match")
    func tamperedPubkey() throws {
        let event = try EventDecoder.decode(json: Fixture.plain.jsonBytes)
        let other = try #require(PublicKey(hex: Fixture.vector("emoji").pubkey))
        let forged = Event(
            id: event.id, pubkey: other, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content, sig: event.sig)
        #expect(throws: EventValidationError.idMismatch) { try forged.validate() }
    }

    @Test("a pubkey that is not an x coordinate on secp256k1 is refused with invalid:")
    func pubkeyOffCurve() throws {
        // 2^256 - 1 is above the field size, so no point has it as x coordinate.
        let offCurve = try #require(PublicKey(hex: String(repeating: "f", count: 64)))
        #expect(XOnlyKey(offCurve) == nil)
        let event = try EventDecoder.decode(json: Fixture.plain.jsonBytes)
        let id = Event.computeID(
            pubkey: offCurve, createdAt: event.createdAt, kind: event.kind, tags: event.tags, content: event.content)
        let forged = Event(
            id: id, pubkey: offCurve, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content, sig: event.sig)
        #expect(throws: EventValidationError.invalidPublicKey) { try forged.validate() }
        #expect(Schnorr.verify(event.sig, digest: id.raw, pubkey: offCurve) == false)
        #expect(EventValidationError.invalidPublicKey.message.hasPrefix("invalid: "))
    }
}
