internal import Crypto

/// NIP-45's HyperLogLog: 256 one-byte registers over the pubkeys of counted events, at an
/// `offset` derived from the filter, so that counts from several relays can be merged.
///
/// ```swift
/// var hll = HyperLogLog(offset: HyperLogLog.offset(forTagValue: eventID.hex))
/// for pubkey in reactors { hll.add(pubkey) }
/// hll.hex // 512 hex characters, COUNT's "hll"
/// ```
public struct HyperLogLog: Sendable, Equatable {
    /// The byte of a pubkey that picks the register; 8 to 23.
    public let offset: Int
    public private(set) var registers = [UInt8](repeating: 0, count: 256)

    public init(offset: Int) {
        precondition((8...23).contains(offset), "NIP-45's offset is 8 to 23")
        self.offset = offset
    }

    /// NIP-45's `offset` for the first item of a filter's first tag attribute: 8 plus the
    /// hex digit at position 32 of that item taken as 32 bytes (an id or pubkey as given,
    /// an address's pubkey, anything else its SHA-256).
    public static func offset(forTagValue value: String) -> Int {
        let hex: String
        if isLowercaseHex64(value) {
            hex = value
        } else if let pubkey = addressPubkey(value) {
            hex = pubkey
        } else {
            hex = Hex.encode(Array(SHA256.hash(data: Array(value.utf8))))
        }
        let digit = Array(hex.utf8)[32]
        return 8 + Int(Hex.nibble(digit) ?? 0)
    }

    /// Counts one event's author: register `pubkey[offset]` keeps the largest count of
    /// leading zero bits from byte `offset + 1` on, plus one.
    public mutating func add(_ pubkey: PublicKey) {
        pubkey.raw.withUnsafeBytes { bytes in
            let register = Int(bytes[offset])
            var zeros = 0
            for index in (offset + 1)..<32 {
                let byte = bytes[index]
                if byte == 0 {
                    zeros += 8
                    continue
                }
                zeros += byte.leadingZeroBitCount
                break
            }
            raise(register: register, to: UInt8(zeros + 1))
        }
    }

    /// Keeps `value` in `register` if it is larger than what the register holds: how
    /// registers computed elsewhere (a database, another relay) join these.
    public mutating func raise(register: Int, to value: UInt8) {
        if value > registers[register] { registers[register] = value }
    }

    /// The 256 registers as 512 hex characters, COUNT's `hll`.
    public var hex: String { Hex.encode(registers) }

    private static func isLowercaseHex64(_ value: String) -> Bool {
        value.utf8.count == 64 && value.utf8.allSatisfy { Hex.nibble($0) != nil && !(0x41...0x46).contains($0) }
    }

    /// The pubkey of a NIP-01 address `<kind>:<pubkey>:<d-tag>`.
    private static func addressPubkey(_ value: String) -> String? {
        let parts = value.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        let pubkey = String(parts[1])
        return isLowercaseHex64(pubkey) ? pubkey : nil
    }
}
