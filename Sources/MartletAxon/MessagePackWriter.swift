/// Appends MessagePack to a byte buffer, always in the shortest form (as the MessagePack
/// spec asks of encoders), so one value has one encoding.
///
/// ```swift
/// var writer = MessagePackWriter()
/// writer.writeArrayHeader(2)
/// writer.write(unsigned: 3)
/// writer.write(.map(["id": .binary(idBytes)]))
/// let frame = writer.bytes
/// ```
public struct MessagePackWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: MessagePackValue) {
        switch value {
        case .null: bytes.append(0xc0)
        case .bool(let flag): bytes.append(flag ? 0xc3 : 0xc2)
        case .int(let number): write(signed: number)
        case .uint(let number): write(unsigned: number)
        case .float(let number):
            bytes.append(0xcb)
            append(number.bitPattern, width: 8)
        case .string(let text): write(string: text)
        case .binary(let data): write(binary: data)
        case .array(let elements):
            writeArrayHeader(elements.count)
            for element in elements { write(element) }
        case .map(let fields):
            writeMapHeader(fields.count)
            // Sorted keys: the same map always encodes to the same bytes.
            for key in fields.keys.sorted() {
                write(string: key)
                write(fields[key]!)
            }
        }
    }

    public mutating func write(unsigned number: UInt64) {
        switch number {
        case 0...0x7f: bytes.append(UInt8(number))
        case 0...0xff: bytes.append(0xcc); append(number, width: 1)
        case 0...0xffff: bytes.append(0xcd); append(number, width: 2)
        case 0...0xffff_ffff: bytes.append(0xce); append(number, width: 4)
        default: bytes.append(0xcf); append(number, width: 8)
        }
    }

    public mutating func write(signed number: Int64) {
        if number >= 0 { return write(unsigned: UInt64(number)) }
        let pattern = UInt64(bitPattern: number)
        switch number {
        case -32 ..< 0: bytes.append(UInt8(truncatingIfNeeded: number))
        case Int64(Int8.min) ..< 0: bytes.append(0xd0); append(pattern, width: 1)
        case Int64(Int16.min) ..< 0: bytes.append(0xd1); append(pattern, width: 2)
        case Int64(Int32.min) ..< 0: bytes.append(0xd2); append(pattern, width: 4)
        default: bytes.append(0xd3); append(pattern, width: 8)
        }
    }

    public mutating func write(string text: String) {
        let utf8 = text.utf8
        let count = utf8.count
        switch count {
        case 0...31: bytes.append(0xa0 | UInt8(count))
        case 0...0xff: bytes.append(0xd9); append(UInt64(count), width: 1)
        case 0...0xffff: bytes.append(0xda); append(UInt64(count), width: 2)
        default: bytes.append(0xdb); append(UInt64(count), width: 4)
        }
        bytes.append(contentsOf: utf8)
    }

    public mutating func write(binary data: some Collection<UInt8>) {
        let count = data.count
        switch count {
        case 0...0xff: bytes.append(0xc4); append(UInt64(count), width: 1)
        case 0...0xffff: bytes.append(0xc5); append(UInt64(count), width: 2)
        default: bytes.append(0xc6); append(UInt64(count), width: 4)
        }
        bytes.append(contentsOf: data)
    }

    public mutating func writeArrayHeader(_ count: Int) {
        switch count {
        case 0...15: bytes.append(0x90 | UInt8(count))
        case 0...0xffff: bytes.append(0xdc); append(UInt64(count), width: 2)
        default: bytes.append(0xdd); append(UInt64(count), width: 4)
        }
    }

    public mutating func writeMapHeader(_ count: Int) {
        switch count {
        case 0...15: bytes.append(0x80 | UInt8(count))
        case 0...0xffff: bytes.append(0xde); append(UInt64(count), width: 2)
        default: bytes.append(0xdf); append(UInt64(count), width: 4)
        }
    }

    /// Appends pre-encoded MessagePack (an event map encoded once and shared).
    public mutating func append(encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    private mutating func append(_ number: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: number >> UInt64(shift)))
        }
    }
}
