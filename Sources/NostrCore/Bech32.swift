/// Bech32 (BIP-173), the encoding of NIP-19's `npub` and `nsec` keys.
///
/// Only what keys need: a human-readable part and 32 bytes of data, checked by the
/// checksum, lower or upper case but never mixed.
///
/// ```swift
/// let (prefix, bytes) = try Bech32.decode("npub1...")   // ("npub", 32 bytes)
/// let text = Bech32.encode(prefix: "npub", bytes: pubkey.raw.bytes)
/// ```
public enum Bech32 {
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// The human-readable part and the data bytes of `text`.
    public static func decode(_ text: String) throws(DecodingError) -> (prefix: String, bytes: [UInt8]) {
        let (prefix, groups) = try decodeGroups(text)
        guard let bytes = regroup(groups, from: 5, to: 8, pad: false) else { throw DecodingError(reason: "bad padding") }
        return (prefix, bytes)
    }

    /// The human-readable part and the 5-bit groups of the data, checksum checked and removed.
    public static func decodeGroups(_ text: String) throws(DecodingError) -> (prefix: String, groups: [UInt8]) {
        let utf8 = Array(text.utf8)
        guard utf8.count <= 90 else { throw DecodingError(reason: "longer than 90 characters") }
        guard utf8.allSatisfy({ (33...126).contains($0) }) else {
            throw DecodingError(reason: "characters outside US-ASCII 33-126")
        }
        let hasLower = utf8.contains { (97...122).contains($0) }
        let hasUpper = utf8.contains { (65...90).contains($0) }
        guard !(hasLower && hasUpper) else { throw DecodingError(reason: "mixed case") }
        let lowered = utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let separator = lowered.lastIndex(of: UInt8(ascii: "1")), separator >= 1,
            lowered.count - separator - 1 >= 6
        else { throw DecodingError(reason: "no separator, or too short a checksum") }
        let prefix = Array(lowered[..<separator])
        var data: [UInt8] = []
        for character in lowered[(separator + 1)...] {
            let value = values[Int(character)]
            guard value >= 0 else { throw DecodingError(reason: "a character outside the bech32 alphabet") }
            data.append(UInt8(value))
        }
        guard polymod(expand(prefix) + data) == 1 else { throw DecodingError(reason: "bad checksum") }
        return (String(decoding: prefix, as: UTF8.self), Array(data.dropLast(6)))
    }

    /// `prefix`, `1`, the data and the checksum, lower case.
    public static func encode(prefix: String, bytes: [UInt8]) -> String {
        let human = Array(prefix.lowercased().utf8)
        let data = regroup(bytes, from: 8, to: 5, pad: true) ?? []
        let checksum = polymod(expand(human) + data + [0, 0, 0, 0, 0, 0]) ^ 1
        let check = (0..<6).map { UInt8((checksum >> (5 * (5 - $0))) & 31) }
        return String(decoding: human + [UInt8(ascii: "1")] + (data + check).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> bit) & 1 == 1 { checksum ^= generator[bit] }
        }
        return checksum
    }

    private static func expand(_ prefix: [UInt8]) -> [UInt8] {
        prefix.map { $0 >> 5 } + [0] + prefix.map { $0 & 31 }
    }

    /// Regroups bits: 8-bit bytes into 5-bit groups and back.
    private static func regroup(_ input: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var output: [UInt8] = []
        let mask = (1 << to) - 1
        for value in input {
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                output.append(UInt8((accumulator >> bits) & mask))
            }
        }
        if pad {
            if bits > 0 { output.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || (accumulator << (to - bits)) & mask != 0 {
            return nil
        }
        return output
    }
}

extension PublicKey {
    /// A key given as 64 hex characters or as NIP-19's `npub1...`.
    public init?(hexOrNpub text: String) {
        if let key = PublicKey(hex: text.lowercased()) {
            self = key
            return
        }
        guard let (prefix, bytes) = try? Bech32.decode(text), prefix == "npub", let raw = Bytes32(bytes: bytes)
        else { return nil }
        self.init(raw)
    }

    /// NIP-19's `npub1...` spelling.
    public var npub: String { Bech32.encode(prefix: "npub", bytes: Array(raw.bytes)) }
}

extension SecretKey {
    /// A secret given as 64 hex characters or as NIP-19's `nsec1...`.
    public init?(hexOrNsec text: String) {
        let trimmed = String(text.filter { !$0.isWhitespace })
        if let key = SecretKey(hex: trimmed.lowercased()) {
            self = key
            return
        }
        guard let (prefix, bytes) = try? Bech32.decode(trimmed), prefix == "nsec" else { return nil }
        self.init(bytes: bytes)
    }
}
