/// Decodes one MessagePack value from untrusted bytes, within limits.
///
/// Every length read from the input is checked against the bytes that remain before
/// anything is allocated, so a 5-byte frame claiming a four-billion-element array fails at
/// once instead of reserving memory; nesting is bounded by `maxDepth`, so no input can
/// exhaust the stack. The input must hold exactly one value: trailing bytes are malformed.
///
/// ```swift
/// let value = try MessagePackReader.decode(frame, maxDepth: 16)
/// ```
public struct MessagePackReader {
    /// Containers nested deeper than this are refused. An axon frame needs six levels (frame,
    /// payload, filters, filter, tag list, values); the default leaves room and little more.
    public static let defaultMaxDepth = 16

    private let bytes: [UInt8]
    private var position = 0
    private let maxDepth: Int

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The one value `bytes` holds.
    public static func decode(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(MessagePackError) -> MessagePackValue {
        var reader = MessagePackReader(bytes: bytes, maxDepth: maxDepth)
        let value = try reader.readValue(depth: 0)
        guard reader.position == bytes.count else {
            throw MessagePackError("\(bytes.count - reader.position) bytes after the value")
        }
        return value
    }

    private var remaining: Int { bytes.count - position }

    private mutating func readValue(depth: Int) throws(MessagePackError) -> MessagePackValue {
        let marker = try readByte()
        switch marker {
        case 0x00...0x7f: return .int(Int64(marker))
        case 0x80...0x8f: return try readMap(count: Int(marker & 0x0f), depth: depth)
        case 0x90...0x9f: return try readArray(count: Int(marker & 0x0f), depth: depth)
        case 0xa0...0xbf: return try readString(length: Int(marker & 0x1f))
        case 0xc0: return .null
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return .binary(try readBytes(Int(try readUnsigned(1))))
        case 0xc5: return .binary(try readBytes(Int(try readUnsigned(2))))
        case 0xc6: return .binary(try readBytes(Int(try readUnsigned(4))))
        case 0xca: return .float(Double(Float(bitPattern: UInt32(try readUnsigned(4)))))
        case 0xcb: return .float(Double(bitPattern: try readUnsigned(8)))
        case 0xcc: return .int(Int64(try readUnsigned(1)))
        case 0xcd: return .int(Int64(try readUnsigned(2)))
        case 0xce: return .int(Int64(try readUnsigned(4)))
        case 0xcf:
            let value = try readUnsigned(8)
            return value <= UInt64(Int64.max) ? .int(Int64(value)) : .uint(value)
        case 0xd0: return .int(Int64(Int8(truncatingIfNeeded: try readUnsigned(1))))
        case 0xd1: return .int(Int64(Int16(truncatingIfNeeded: try readUnsigned(2))))
        case 0xd2: return .int(Int64(Int32(truncatingIfNeeded: try readUnsigned(4))))
        case 0xd3: return .int(Int64(bitPattern: try readUnsigned(8)))
        case 0xd9: return try readString(length: Int(try readUnsigned(1)))
        case 0xda: return try readString(length: Int(try readUnsigned(2)))
        case 0xdb: return try readString(length: Int(try readUnsigned(4)))
        case 0xdc: return try readArray(count: Int(try readUnsigned(2)), depth: depth)
        case 0xdd: return try readArray(count: Int(try readUnsigned(4)), depth: depth)
        case 0xde: return try readMap(count: Int(try readUnsigned(2)), depth: depth)
        case 0xdf: return try readMap(count: Int(try readUnsigned(4)), depth: depth)
        case 0xe0...0xff: return .int(Int64(Int8(bitPattern: marker)))
        case 0xc7, 0xc8, 0xc9, 0xd4...0xd8: throw MessagePackError("extension types are not used by axon")
        default: throw MessagePackError("0xc1 is never used in MessagePack")
        }
    }

    private mutating func readByte() throws(MessagePackError) -> UInt8 {
        guard position < bytes.count else { throw MessagePackError("the value ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    /// A big-endian unsigned integer of `width` bytes.
    private mutating func readUnsigned(_ width: Int) throws(MessagePackError) -> UInt64 {
        guard remaining >= width else { throw MessagePackError("the value ends early") }
        var value: UInt64 = 0
        for offset in 0..<width { value = value << 8 | UInt64(bytes[position + offset]) }
        position += width
        return value
    }

    private mutating func readBytes(_ count: Int) throws(MessagePackError) -> [UInt8] {
        guard count <= remaining else { throw MessagePackError("a length of \(count) runs past the end") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    private mutating func readString(length: Int) throws(MessagePackError) -> MessagePackValue {
        guard length <= remaining else { throw MessagePackError("a length of \(length) runs past the end") }
        defer { position += length }
        guard let text = String(validating: bytes[position..<position + length], as: UTF8.self) else {
            throw MessagePackError("a string is not valid UTF-8")
        }
        return .string(text)
    }

    private mutating func readArray(count: Int, depth: Int) throws(MessagePackError) -> MessagePackValue {
        try enter(count: count, bytesEach: 1, depth: depth)
        var elements: [MessagePackValue] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try readValue(depth: depth + 1)) }
        return .array(elements)
    }

    private mutating func readMap(count: Int, depth: Int) throws(MessagePackError) -> MessagePackValue {
        try enter(count: count, bytesEach: 2, depth: depth)
        var fields: [String: MessagePackValue] = [:]
        fields.reserveCapacity(count)
        for _ in 0..<count {
            guard case .string(let key) = try readValue(depth: depth + 1) else {
                throw MessagePackError("map keys must be strings")
            }
            let value = try readValue(depth: depth + 1)
            guard fields.updateValue(value, forKey: key) == nil else {
                throw MessagePackError("the key \"\(key.prefix(32))\" appears twice in a map")
            }
        }
        return .map(fields)
    }

    /// Checks a container before anything is reserved for it: each element takes at least
    /// one byte (two for a map entry), so a count the remaining bytes cannot hold is a lie.
    private func enter(count: Int, bytesEach: Int, depth: Int) throws(MessagePackError) {
        guard depth < maxDepth else { throw MessagePackError("values are nested deeper than \(maxDepth) levels") }
        guard count <= remaining / bytesEach else {
            throw MessagePackError("a container of \(count) elements runs past the end")
        }
    }
}
