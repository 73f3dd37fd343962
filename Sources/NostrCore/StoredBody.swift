/// The part of an event's canonical JSON that a store keeping id, pubkey, created_at, kind
/// and signature in binary columns of their own does not already hold:
/// `{"tags":[…],"content":"…"}`, cut verbatim out of `Event.json`.
///
/// Whole, the JSON repeats those five fields as 320 hex digits and their keys, about a
/// quarter of a typical note, next to the same values in the store's columns. Kept as the
/// body and joined again on the way out, a million events take about 265 MB less disk and
/// every write that much less WAL. The body is still a JSON object, so SQL can read its
/// `content` and `tags` as it read them from the whole event.
///
/// ```swift
/// let body = StoredBody.cut(event)                       // written beside the columns
/// let again = try StoredEvent(id: id, pubkey: pubkey, createdAt: createdAt, kind: kind,
///                             body: bodyBytes, sig: sigBytes)  // read back: again.json == event.json
/// ```
public enum StoredBody {
    /// `{"tags":`, how every body opens.
    static let opening: StaticString = #"{"tags":"#
    /// `,"sig":"` + 128 digits + `"}`, how every canonical JSON closes.
    private static let signatureTail = 8 + 128 + 2

    /// The body of `event`: its canonical JSON from `"tags"` up to the signature, braced.
    public static func cut(_ event: Event) -> [UInt8] {
        if let body = cut(canonical: event.json) { return body }
        // An event read back from bytes laid out otherwise keeps them as its `json`.
        let json = EventSerializer.json(
            id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content, sig: event.sig)
        return cut(canonical: json)!
    }

    /// Nil unless `json` opens and closes as `EventSerializer.json` writes them.
    private static func cut(canonical json: [UInt8]) -> [UInt8]? {
        guard let start = tagsKey(inCanonical: json) else { return nil }
        var body = [UInt8]()
        body.reserveCapacity(json.count - start - signatureTail + 2)
        body.append(UInt8(ascii: "{"))
        body.append(contentsOf: json[start..<(json.count - signatureTail)])
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// Where `"tags":` starts in `json`; nil unless `json` opens and closes as
    /// `EventSerializer.json` writes them.
    static func tagsKey(inCanonical json: [UInt8]) -> Int? {
        // `{"id":"<64>","pubkey":"<64>","created_at":` is 162 bytes; then only digits and
        // `,"kind":` come before the first `,"tags":`, at most 16 + 8 + 5 bytes on.
        var start = 162
        let tagsKey = #","tags":"#.utf8
        let lastStart = min(start + 30, json.count - signatureTail - tagsKey.count)
        guard json.starts(with: #"{"id":""#.utf8), lastStart >= start,
            json[(json.count - signatureTail)...].starts(with: #","sig":""#.utf8)
        else { return nil }
        while !json[start...].starts(with: tagsKey) {
            guard start < lastStart else { return nil }
            start += 1
        }
        return start + 1
    }

    /// The canonical JSON of an event stored as `body` and its columns, and where its tags
    /// array starts in it. Nil when `body` is not a body (`{"tags":` … `}`).
    static func join(
        id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, body: UnsafeRawBufferPointer,
        sig: UnsafeRawBufferPointer
    ) -> (json: [UInt8], tagsOffset: Int)? {
        let openingCount = opening.utf8CodeUnitCount
        guard sig.count == 64, body.count > openingCount + 1, body[body.count - 1] == UInt8(ascii: "}"),
            UnsafeRawBufferPointer(start: opening.utf8Start, count: openingCount).elementsEqual(body.prefix(openingCount))
        else { return nil }
        var json = [UInt8]()
        json.reserveCapacity(body.count + 330)
        EventSerializer.appendOpening(id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, to: &json)
        let tagsOffset = json.count + openingCount - 1
        json.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[1..<(body.count - 1)]))
        let signature = Signature(
            r: Bytes32(UnsafeRawBufferPointer(rebasing: sig[0..<32])),
            s: Bytes32(UnsafeRawBufferPointer(rebasing: sig[32..<64])))
        EventSerializer.appendClosing(sig: signature, to: &json)
        return (json, tagsOffset)
    }
}

extension StoredEvent {
    /// An event a store kept as its body and columns (`StoredBody`). The rest is trusted
    /// to be the canonical event the relay stored, as `init(storedJSON:)` trusts its bytes.
    public init(
        id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, body: UnsafeRawBufferPointer,
        sig: UnsafeRawBufferPointer
    ) throws(WireError) {
        guard
            let (json, tagsOffset) = StoredBody.join(
                id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, body: body, sig: sig)
        else { throw WireError(.invalidValue, "stored body is not {\"tags\":…}, or the signature is not 64 bytes", at: 0) }
        self.init(id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, json: json, tagsOffset: tagsOffset)
    }

    /// An event the relay has just stored, as a store would give it back: its fields as
    /// already decoded, where `init(storedJSON:)` would decode the id's and the pubkey's
    /// hex again. JSON laid out otherwise is read as that initializer reads it.
    public init(stored event: Event) throws(WireError) {
        if let key = StoredBody.tagsKey(inCanonical: event.json) {
            self.init(
                id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, json: event.json,
                tagsOffset: key + #""tags":"#.utf8.count)
        } else {
            try self.init(storedJSON: event.json)
        }
    }
}
