/// A bencoded value (BEP 3): integer, byte string, list or dictionary.
///
/// Dictionaries keep their keys as bytes and always encode them sorted, so an
/// encoded value is canonical and can be signed (BEP 44 signs the bencoded `v`).
///
///     let packet = Bencode.dictionary(["y": .string("q"), "q": .string("ping")])
///     let bytes = packet.encoded()          // "d1:q4:ping1:y1:qe"
///     let back = try BencodeDecoder().decode(bytes)
public enum Bencode: Sendable, Hashable {
    case integer(Int64)
    case bytes([UInt8])
    case list([Bencode])
    case dictionary([[UInt8]: Bencode])

    /// A byte string from UTF-8 text.
    public static func string(_ text: String) -> Bencode { .bytes(Array(text.utf8)) }

    /// A dictionary whose keys are given as text.
    public static func dictionary(_ entries: [String: Bencode]) -> Bencode {
        var result: [[UInt8]: Bencode] = [:]
        for (key, value) in entries { result[Array(key.utf8)] = value }
        return .dictionary(result)
    }

    /// The canonical encoding: shortest integers, keys sorted as raw bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .integer(let value):
            out.append(UInt8(ascii: "i"))
            out.append(contentsOf: String(value).utf8)
            out.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            Bencode.appendString(bytes, to: &out)
        case .list(let items):
            out.append(UInt8(ascii: "l"))
            for item in items { item.encode(into: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "d"))
            for key in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                Bencode.appendString(key, to: &out)
                entries[key]!.encode(into: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count).utf8)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
    }

    // MARK: Accessors used by the KRPC decoder.

    public subscript(key: String) -> Bencode? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }

    public var byteValue: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var listValue: [Bencode]? {
        if case .list(let items) = self { return items }
        return nil
    }
}

/// Why a bencoded input was refused. Every refusal is one of these; the decoder never traps.
public enum BencodeError: Error, Sendable, Equatable {
    case truncated
    case trailingBytes
    case unexpectedByte(UInt8, at: Int)
    case nonCanonicalInteger
    case integerOverflow
    case stringTooLong
    case unsortedOrDuplicateKey
    case tooDeep
    case tooLarge
}

/// A strict bencode decoder: one value filling the whole input, canonical integers and
/// lengths, dictionary keys strictly ascending, nesting and size bounded.
///
///     let value = try BencodeDecoder(maxDepth: 8).decode(Array("li1ei2ee".utf8))
public struct BencodeDecoder: Sendable {
    /// Deepest nesting of lists and dictionaries accepted (KRPC needs 4).
    public var maxDepth: Int
    /// Largest input accepted; a UDP datagram is at most 65,507 bytes.
    public var maxLength: Int

    public init(maxDepth: Int = 16, maxLength: Int = 65_536) {
        self.maxDepth = maxDepth
        self.maxLength = maxLength
    }

    public func decode(_ input: [UInt8]) throws(BencodeError) -> Bencode {
        guard input.count <= maxLength else { throw .tooLarge }
        var reader = Reader(bytes: input, maxDepth: maxDepth)
        let value = try reader.value(depth: 0)
        guard reader.position == input.count else { throw .trailingBytes }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        let maxDepth: Int
        var position = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func peek() throws(BencodeError) -> UInt8 {
            guard position < bytes.count else { throw .truncated }
            return bytes[position]
        }

        mutating func value(depth: Int) throws(BencodeError) -> Bencode {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "i"):
                position += 1
                return .integer(try integer(until: UInt8(ascii: "e"), allowNegative: true))
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .bytes(try string())
            case UInt8(ascii: "l"):
                guard depth < maxDepth else { throw .tooDeep }
                position += 1
                var items: [Bencode] = []
                while try peek() != UInt8(ascii: "e") {
                    items.append(try value(depth: depth + 1))
                }
                position += 1
                return .list(items)
            case UInt8(ascii: "d"):
                guard depth < maxDepth else { throw .tooDeep }
                position += 1
                var entries: [[UInt8]: Bencode] = [:]
                var previous: [UInt8]?
                while try peek() != UInt8(ascii: "e") {
                    guard try peek() >= UInt8(ascii: "0"), try peek() <= UInt8(ascii: "9") else {
                        throw .unexpectedByte(bytes[position], at: position)
                    }
                    let key = try string()
                    // BEP 3: "Keys must be strings and appear in sorted order".
                    if let previous, !previous.lexicographicallyPrecedes(key) { throw .unsortedOrDuplicateKey }
                    entries[key] = try value(depth: depth + 1)
                    previous = key
                }
                position += 1
                return .dictionary(entries)
            default:
                throw .unexpectedByte(byte, at: position)
            }
        }

        mutating func string() throws(BencodeError) -> [UInt8] {
            let length = try integer(until: UInt8(ascii: ":"), allowNegative: false)
            guard length <= Int64(bytes.count - position) else { throw .stringTooLong }
            let end = position + Int(length)
            defer { position = end }
            return Array(bytes[position..<end])
        }

        /// Digits up to `terminator`: no leading zeros, no "-0", no empty number.
        mutating func integer(until terminator: UInt8, allowNegative: Bool) throws(BencodeError) -> Int64 {
            var negative = false
            if allowNegative, try peek() == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            let start = position
            var magnitude: Int64 = 0
            while true {
                let byte = try peek()
                if byte == terminator { break }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    throw .unexpectedByte(byte, at: position)
                }
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw .integerOverflow }
                magnitude = sum
                position += 1
            }
            let digits = position - start
            guard digits > 0 else { throw .nonCanonicalInteger }
            if digits > 1, bytes[start] == UInt8(ascii: "0") { throw .nonCanonicalInteger }
            if negative, magnitude == 0 { throw .nonCanonicalInteger }
            position += 1
            return negative ? -magnitude : magnitude
        }
    }
}
