/// The two byte spellings of an event: NIP-01's id preimage and the canonical JSON object.
///
/// Both write strings the same way: NIP-01's seven named escapes (`\n \" \\ \r \t \b \f`),
/// `\u00XX` in lower-case hex for the other C0 controls, every other character verbatim
/// (DEL and C1 too).
///
/// NIP-01's text says controls outside its list are "included verbatim" in the id preimage,
/// but no client signs that way: rust-nostr (serde_json), nostr-tools (`JSON.stringify`) and
/// go-nostr write them as `\u00XX`, and so do the relays they talk to. Hashing the raw bytes
/// refused every such event as forged, so the preimage follows the clients (see the nostr-sdk
/// vectors in `Tests/NostrCoreTests/Fixtures/c0_vectors.json`). It is also valid JSON that
/// way, so the preimage and the event JSON share one string writer.
///
/// ```swift
/// let preimage = EventSerializer.idPreimage(pubkey: key, createdAt: 1, kind: Kind(1), tags: [], content: "a\u{01}")
/// // [0,"<key>",1,1,[],"a\u0001"]
/// ```
public enum EventSerializer {
    /// `[0,"<pubkey>",<created_at>,<kind>,<tags>,"<content>"]`, the bytes the id hashes.
    public static func idPreimage(
        pubkey: PublicKey, createdAt: Int64, kind: Kind, tags: [Tag], content: String
    ) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(160 + content.utf8.count + tags.count * 80)
        out.append(contentsOf: #"[0,""#.utf8)
        pubkey.raw.appendHex(to: &out)
        out.append(contentsOf: #"","#.utf8)
        appendInteger(createdAt, to: &out)
        out.append(UInt8(ascii: ","))
        appendInteger(Int64(kind.rawValue), to: &out)
        out.append(UInt8(ascii: ","))
        appendTags(tags, to: &out)
        out.append(UInt8(ascii: ","))
        appendString(content, to: &out)
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// `{"id":…,"pubkey":…,"created_at":…,"kind":…,"tags":…,"content":…,"sig":…}`.
    public static func json(
        id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, tags: [Tag], content: String,
        sig: Signature
    ) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(300 + content.utf8.count + tags.count * 80)
        appendOpening(id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, to: &out)
        out.append(contentsOf: #""tags":"#.utf8)
        appendTags(tags, to: &out)
        out.append(contentsOf: #","content":"#.utf8)
        appendString(content, to: &out)
        appendClosing(sig: sig, to: &out)
        return out
    }

    /// `{"id":…,"pubkey":…,"created_at":…,"kind":…,`: what comes before `"tags"` in `json`.
    static func appendOpening(id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":""#.utf8)
        id.raw.appendHex(to: &out)
        out.append(contentsOf: #"","pubkey":""#.utf8)
        pubkey.raw.appendHex(to: &out)
        out.append(contentsOf: #"","created_at":"#.utf8)
        appendInteger(createdAt, to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        appendInteger(Int64(kind.rawValue), to: &out)
        out.append(UInt8(ascii: ","))
    }

    /// `,"sig":…}`: what comes after the content in `json`.
    static func appendClosing(sig: Signature, to out: inout [UInt8]) {
        out.append(contentsOf: #","sig":""#.utf8)
        sig.appendHex(to: &out)
        out.append(contentsOf: #""}"#.utf8)
    }

    /// Appends `[["f1","f2"],...]`, each field written by `appendString`.
    public static func appendTags(_ tags: [Tag], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (tagIndex, tag) in tags.enumerated() {
            if tagIndex > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (fieldIndex, field) in tag.fields.enumerated() {
                if fieldIndex > 0 { out.append(UInt8(ascii: ",")) }
                appendString(field, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends `value` as a quoted JSON string: the seven NIP-01 escapes, `\u00XX` for the
    /// other C0 controls.
    public static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var copy = value
        copy.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5c else { continue }
                let escape: (UInt8, UInt8)?
                switch byte {
                case 0x0a: escape = (0x5c, UInt8(ascii: "n"))
                case 0x22: escape = (0x5c, 0x22)
                case 0x5c: escape = (0x5c, 0x5c)
                case 0x0d: escape = (0x5c, UInt8(ascii: "r"))
                case 0x09: escape = (0x5c, UInt8(ascii: "t"))
                case 0x08: escape = (0x5c, UInt8(ascii: "b"))
                case 0x0c: escape = (0x5c, UInt8(ascii: "f"))
                default: escape = nil
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                if let (first, second) = escape {
                    out.append(first)
                    out.append(second)
                } else {
                    out.append(contentsOf: [0x5c, UInt8(ascii: "u"), 0x30, 0x30])
                    out.append(Hex.digits[Int(byte >> 4)])
                    out.append(Hex.digits[Int(byte & 0x0f)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the decimal spelling of `value`.
    @inlinable
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, no heap
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }
}
