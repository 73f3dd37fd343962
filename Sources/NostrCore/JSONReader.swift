/// A pull reader over the bytes of one JSON text, for the hot path.
///
/// Callers walk the document in the shape they expect (`beginArray`, `nextElement`,
/// `readString`, `readHex32`, …); anything else is refused with a `WireError` that names the
/// field. No tree is built, nothing goes through Foundation, and only strings the caller
/// asks for are materialised. The bytes must outlive the reader (it is used inside
/// `withUnsafeBytes`).
public struct JSONReader {
    /// How deeply arrays and objects may nest. Nostr messages need four levels
    /// (message, event, tags, tag); the margin is for unknown fields that are skipped.
    public static let maxDepth = 12

    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position = 0
    @usableFromInline var depth = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var offset: Int { position }

    // MARK: Structure

    @inlinable
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0a, 0x0d: position += 1
            default: return
            }
        }
    }

    /// The next significant byte, without consuming it.
    @inlinable
    public mutating func peek() throws(WireError) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw WireError(.truncated, "invalid: message ends too early", at: position) }
        return bytes[position]
    }

    /// Refuses anything but whitespace after the document.
    public mutating func expectEnd() throws(WireError) {
        skipWhitespace()
        guard position == bytes.count else {
            throw WireError(.trailingData, "invalid: unexpected data after the message", at: position)
        }
    }

    /// Consumes `[`, counting depth.
    public mutating func beginArray(_ what: @autoclosure () -> String) throws(WireError) {
        guard try peek() == UInt8(ascii: "[") else { throw typeError(what(), "an array") }
        try enter()
    }

    /// Consumes `{`, counting depth.
    public mutating func beginObject(_ what: @autoclosure () -> String) throws(WireError) {
        guard try peek() == UInt8(ascii: "{") else { throw typeError(what(), "an object") }
        try enter()
    }

    @inlinable
    mutating func enter() throws(WireError) {
        depth += 1
        guard depth <= JSONReader.maxDepth else {
            throw WireError(.tooDeep, "invalid: JSON nested deeper than \(JSONReader.maxDepth) levels", at: position)
        }
        position += 1
    }

    /// Moves to the next array element: `true` when there is one, `false` after consuming `]`.
    /// `index` counts the elements seen so far and is advanced here.
    public mutating func nextElement(_ index: inout Int) throws(WireError) -> Bool {
        let byte = try peek()
        if byte == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return false
        }
        if index > 0 {
            guard byte == UInt8(ascii: ",") else { throw syntaxError("expected ',' or ']' in an array") }
            position += 1
            if try peek() == UInt8(ascii: "]") { throw syntaxError("trailing comma in an array") }
        }
        index += 1
        return true
    }

    /// Moves to the next member of an object and reads its key; `nil` after consuming `}`.
    public mutating func nextKey(_ index: inout Int) throws(WireError) -> String? {
        var byte = try peek()
        if byte == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return nil
        }
        if index > 0 {
            guard byte == UInt8(ascii: ",") else { throw syntaxError("expected ',' or '}' in an object") }
            position += 1
            byte = try peek()
        }
        guard byte == UInt8(ascii: "\"") else { throw syntaxError("expected a quoted key in an object") }
        let key = try readString("key")
        guard try peek() == UInt8(ascii: ":") else { throw syntaxError("expected ':' after a key") }
        position += 1
        index += 1
        return key
    }

    // MARK: Scalars

    /// Reads a JSON string, decoding escapes; refuses raw control characters, invalid
    /// UTF-8 and `\u` escapes that leave a surrogate unpaired.
    public mutating func readString(_ what: @autoclosure () -> String) throws(WireError) -> String {
        guard try peek() == UInt8(ascii: "\"") else { throw typeError(what(), "a string") }
        position += 1
        let start = position
        // Fast path: no escapes, so the bytes between the quotes are the string. The scan keeps
        // its index in a local (the stored one is reloaded on every byte) and notes whether
        // every byte was ASCII, which then needs no UTF-8 validation.
        var index = position
        var union: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                position = index + 1
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                return try makeString(raw, at: start, isASCII: union < 0x80)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                position = index
                throw controlCharacter()
            }
            union |= byte
            index += 1
        }
        position = index
        guard position < bytes.count else { throw unterminatedString() }
        var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try decoded.withWireBytes { raw throws(WireError) in try makeString(raw, at: start) }
            case UInt8(ascii: "\\"):
                try readEscape(into: &decoded)
            case ..<0x20:
                throw controlCharacter()
            default:
                decoded.append(byte)
                position += 1
            }
        }
        throw unterminatedString()
    }

    mutating func readEscape(into decoded: inout [UInt8]) throws(WireError) {
        position += 1
        guard position < bytes.count else { throw unterminatedString() }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): decoded.append(0x22)
        case UInt8(ascii: "\\"): decoded.append(0x5c)
        case UInt8(ascii: "/"): decoded.append(0x2f)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0c)
        case UInt8(ascii: "n"): decoded.append(0x0a)
        case UInt8(ascii: "r"): decoded.append(0x0d)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if (0xdc00...0xdfff).contains(scalar) {
                throw WireError(.loneSurrogate, "invalid: \\u escape is a lone low surrogate", at: position - 6)
            }
            if (0xd800...0xdbff).contains(scalar) {
                // Input that stops before the pair's `\u` could be read is cut short, not unpaired.
                if position == bytes.count || (position + 1 == bytes.count && bytes[position] == UInt8(ascii: "\\")) {
                    throw unterminatedString()
                }
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw WireError(.loneSurrogate, "invalid: \\u escape is a lone high surrogate", at: position - 6)
                }
                position += 2
                let low = try readHex4()
                guard (0xdc00...0xdfff).contains(low) else {
                    throw WireError(.loneSurrogate, "invalid: high surrogate not followed by a low one", at: position - 6)
                }
                scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
            }
            appendUTF8(scalar, to: &decoded)
        default:
            throw WireError(.notJSON, "invalid: unknown escape in a string", at: position - 2)
        }
    }

    mutating func readHex4() throws(WireError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw unterminatedString() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw WireError(.notJSON, "invalid: bad \\u escape in a string", at: position)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xc0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3f))
        case ..<0x10000:
            out.append(UInt8(0xe0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3f))
            out.append(UInt8(0x80 | scalar & 0x3f))
        default:
            out.append(UInt8(0xf0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3f))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3f))
            out.append(UInt8(0x80 | scalar & 0x3f))
        }
    }

    func makeString(_ raw: UnsafeRawBufferPointer, at start: Int, isASCII: Bool = false) throws(WireError) -> String {
        let utf8 = raw.bindMemory(to: UInt8.self)
        // ASCII (keys, hex, most tags) is valid as it stands; `String(validating:)` is an
        // unspecialised generic call whose metadata lookups cost more than reading the bytes.
        if isASCII || utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: utf8, as: UTF8.self) }
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw WireError(.invalidUTF8, "invalid: string is not valid UTF-8", at: start)
        }
        return text
    }

    /// Reads `"<64 lowercase hex digits>"` into a `Bytes32` with no intermediate string.
    public mutating func readHex32(_ what: @autoclosure () -> String) throws(WireError) -> Bytes32 {
        guard try peek() == UInt8(ascii: "\"") else { throw typeError(what(), "a 64-character lowercase hex string") }
        let start = position + 1
        let end = start + 64
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else {
            // The slow path: a string of another length, one that runs off the end of the input,
            // or one spelled with escapes (to JSON, "\u0061" is the digit "a").
            let text = try readString(what())
            if let value = Bytes32(hex: text) { return value }
            let hasUpper = text.utf8.count == 64 && text.utf8.contains { (0x41...0x46).contains($0) }
            let why = hasUpper ? "must be lowercase hex" : "must be 64 lowercase hex characters"
            throw WireError(.badHex, "invalid: \"\(what())\" \(why)", at: start)
        }
        guard let value = Bytes32(hexBytes: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else {
            let hasUpper = bytes[start..<end].contains { (0x41...0x46).contains($0) }
            let why = hasUpper ? "must be lowercase hex" : "must be 64 lowercase hex characters"
            throw WireError(.badHex, "invalid: \"\(what())\" \(why)", at: start)
        }
        position = end + 1
        return value
    }

    /// Reads an integer in `range`; refuses fractions, exponents and anything out of range.
    public mutating func readInteger(_ what: @autoclosure () -> String, in range: ClosedRange<Int64>) throws(WireError) -> Int64 {
        let start = position
        let first = try peek()
        guard first == UInt8(ascii: "-") || (0x30...0x39).contains(first) else {
            throw typeError(what(), "an integer")
        }
        let negative = first == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        var magnitude: UInt64 = 0
        var overflow = false
        while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[position] - 0x30))
            overflow = overflow || o1 || o2
            magnitude = sum
            position += 1
        }
        let digitCount = position - digitsStart
        guard digitCount > 0 else { throw WireError(.notJSON, "invalid: malformed number for \"\(what())\"", at: start) }
        if digitCount > 1 && bytes[digitsStart] == 0x30 {
            throw WireError(.notJSON, "invalid: number with a leading zero for \"\(what())\"", at: start)
        }
        if position < bytes.count,
            bytes[position] == UInt8(ascii: ".") || bytes[position] | 0x20 == UInt8(ascii: "e")
        {
            throw WireError(.notInteger, "invalid: \"\(what())\" must be an integer", at: start)
        }
        func outOfRange() -> WireError {
            WireError(
                .outOfRange,
                "invalid: \"\(what())\" must be an integer between \(range.lowerBound) and \(range.upperBound)",
                at: start)
        }
        guard !overflow, magnitude <= UInt64(Int64.max) + (negative ? 1 : 0) else { throw outOfRange() }
        let value = negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
        guard range.contains(value) else { throw outOfRange() }
        return value
    }

    /// Skips one value of any type, checking its syntax and depth.
    public mutating func skipValue() throws(WireError) {
        switch try peek() {
        case UInt8(ascii: "{"):
            try enter()
            var index = 0
            while try nextKey(&index) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try enter()
            var index = 0
            while try nextElement(&index) { try skipValue() }
        case UInt8(ascii: "\""):
            _ = try readString("value")
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    mutating func literal(_ word: StaticString) throws(WireError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw WireError(.truncated, "invalid: message ends too early", at: position) }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
            throw syntaxError("not valid JSON")
        }
        position += count
    }

    mutating func skipNumber() throws(WireError) {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
        guard position > digitsStart else { throw syntaxError("not valid JSON") }
        if position - digitsStart > 1 && bytes[digitsStart] == 0x30 {
            throw WireError(.notJSON, "invalid: number with a leading zero", at: start)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
            guard position > fractionStart else { throw syntaxError("malformed number") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            let exponentStart = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
            guard position > exponentStart else { throw syntaxError("malformed number") }
        }
    }

    // MARK: Errors

    func typeError(_ what: String, _ expected: String) -> WireError {
        if position >= bytes.count { return WireError(.truncated, "invalid: message ends too early", at: position) }
        let byte = bytes[position]
        let looksLikeJSON = "[{\"-0123456789tfn".utf8.contains(byte)
        if !looksLikeJSON { return syntaxError("not valid JSON") }
        return WireError(.wrongType, "invalid: \"\(what)\" must be \(expected)", at: position)
    }

    func syntaxError(_ message: String) -> WireError {
        if position >= bytes.count { return WireError(.truncated, "invalid: message ends too early", at: position) }
        return WireError(.notJSON, "invalid: \(message)", at: position)
    }

    func controlCharacter() -> WireError {
        WireError(.notJSON, "invalid: unescaped control character in a string", at: position)
    }

    func unterminatedString() -> WireError {
        WireError(.truncated, "invalid: string is not terminated", at: position)
    }
}
