import NostrCore
import Testing

@Suite("lowercase hex of 32 bytes")
struct HexTests {
    /// Every byte value at every position, by a value whose bytes are i, i+1, ... (mod 256).
    @Test("64 digits decode to the bytes they spell, every byte value in every position", arguments: 0..<32)
    func decodes(_ start: Int) throws {
        for shift in stride(from: 0, to: 256, by: 32) {
            let bytes = (0..<32).map { UInt8((start + shift + $0 * 37) % 256) }
            let text = bytes.map { byte in
                let digits = Array("0123456789abcdef")
                return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            }.joined()
            let value = try #require(Bytes32(hex: text))
            #expect(value == Bytes32(bytes: bytes))
            #expect(value.hex == text)
        }
    }

    /// The bytes next to each range ("/" before "0", ":" after "9", "`" before "a", "g"
    /// after "f"), upper case, and bytes far out, in every position.
    @Test("anything but 0-9 and a-f, in any of the 64 positions, is refused")
    func refuses() {
        let valid = Array(String(repeating: "0123456789abcdef", count: 4).utf8)
        #expect(valid.withUnsafeBytes(Bytes32.init(hexBytes:)) != nil)
        for position in 0..<64 {
            for bad: UInt8 in [0x2F, 0x3A, 0x60, 0x67, 0x41, 0x46, 0x00, 0x20, 0x7F, 0x80, 0xFF] {
                var text = valid
                text[position] = bad
                #expect(text.withUnsafeBytes(Bytes32.init(hexBytes:)) == nil, "byte \(bad) at \(position)")
            }
        }
        #expect(Array(valid.dropLast()).withUnsafeBytes(Bytes32.init(hexBytes:)) == nil)
    }
}
