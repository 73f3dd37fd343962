import MartletDHT
import Testing

@Suite("bencode (BEP 3), strictly")
struct BencodeTests {
    let decoder = BencodeDecoder(maxDepth: 4, maxLength: 1024)

    func decode(_ text: String) throws(BencodeError) -> Bencode { try decoder.decode(Array(text.utf8)) }

    @Test("integers, strings, lists and dictionaries survive a round trip")
    func roundTrip() throws {
        for text in ["i0e", "i-42e", "i9223372036854775807e", "0:", "4:spam", "le", "l4:spami42ee",
                     "de", "d3:bar4:spam3:fooi42ee", "d1:ad1:bl1:ceee"] {
            #expect(try decode(text).encoded() == Array(text.utf8), "\(text)")
        }
    }

    @Test("dictionaries encode their keys sorted as raw strings")
    func sortedKeys() {
        let value = Bencode.dictionary(["zz": .integer(1), "a": .integer(2), "ab": .string("x")])
        #expect(String(decoding: value.encoded(), as: UTF8.self) == "d1:ai2e2:ab1:x2:zzi1ee")
    }

    @Test("non-canonical integers are refused: i03e, i-0e, ie")
    func nonCanonicalIntegers() {
        for text in ["i03e", "i-0e", "ie", "i-e", "03:abc"] {
            #expect(throws: BencodeError.nonCanonicalInteger, "\(text)") { try decode(text) }
        }
    }

    @Test("keys out of order or repeated are refused")
    func unsortedKeys() {
        #expect(throws: BencodeError.unsortedOrDuplicateKey) { try decode("d1:bi1e1:ai2ee") }
        #expect(throws: BencodeError.unsortedOrDuplicateKey) { try decode("d1:ai1e1:ai2ee") }
    }

    @Test("truncated, trailing, overlong, too deep, too large and overflowing inputs are refused")
    func bounds() {
        #expect(throws: BencodeError.truncated) { try decode("l4:spam") }
        #expect(throws: BencodeError.trailingBytes) { try decode("i1ei2e") }
        #expect(throws: BencodeError.stringTooLong) { try decode("10:abc") }
        #expect(throws: BencodeError.tooDeep) { try decode("lllllee" + "eee") }
        #expect(throws: BencodeError.integerOverflow) { try decode("i99999999999999999999e") }
        #expect(throws: BencodeError.tooLarge) { try decoder.decode([UInt8](repeating: 0x30, count: 1025)) }
        #expect(throws: BencodeError.unexpectedByte(UInt8(ascii: "x"), at: 0)) { try decode("x") }
        #expect(throws: BencodeError.unexpectedByte(UInt8(ascii: "i"), at: 1)) { try decode("di1ei2ee") }
    }
}
