/// One MessagePack value as the axon protocol uses it.
///
/// Maps are keyed by strings only: every axon map is a record with named fields, and a
/// decoder that accepted any key would have to decide what `{1: x}` or a key given twice
/// means. Both are malformed input (`MessagePackError`). Extension types are not used.
///
/// ```swift
/// let value = try MessagePackReader.decode(bytes)
/// if case .map(let fields) = value { print(fields["kind"]?.integer ?? 0) }
/// ```
public enum MessagePackValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Every integer that fits in an `Int64`, whatever width it was sent with.
    case int(Int64)
    /// Integers above `Int64.max`.
    case uint(UInt64)
    case float(Double)
    case string(String)
    case binary([UInt8])
    case array([MessagePackValue])
    case map([String: MessagePackValue])

    /// The value as an `Int64`, if it is an integer that fits.
    public var integer: Int64? {
        if case .int(let value) = self { value } else { nil }
    }

    public var string: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var binary: [UInt8]? {
        if case .binary(let value) = self { value } else { nil }
    }

    public var array: [MessagePackValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    public var map: [String: MessagePackValue]? {
        if case .map(let value) = self { value } else { nil }
    }

    /// The MessagePack type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int, .uint: "integer"
        case .float: "float"
        case .string: "string"
        case .binary: "binary"
        case .array: "array"
        case .map: "map"
        }
    }
}

/// Why bytes are not a MessagePack value the axon decoder accepts.
public struct MessagePackError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String

    public init(_ detail: String) { self.detail = detail }

    public var description: String { detail }
}
