/// Hex for the wire: `NEG-OPEN` and `NEG-MSG` carry negentropy messages as hex strings.
///
/// Writes lowercase; reads either case, since the NIP does not pin the case of these
/// strings and refusing a peer's uppercase would only stall a sync.
///
/// ```swift
/// let reply = try responder.reconcile(NegentropyHex.decode(receivedHex))
/// let replyHex = NegentropyHex.encode(reply) // lowercase, for NEG-MSG
/// ```
public enum NegentropyHex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The lowercase hex spelling of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes spelled by `text`, which must be an even number of hex digits.
    public static func decode(_ text: some StringProtocol) throws(NegentropyError) -> [UInt8] {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { throw .invalidHex }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var iterator = utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { throw .invalidHex }
            out.append(h << 4 | l)
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}
