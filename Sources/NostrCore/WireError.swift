/// Why a message from the wire was refused, with a reason fit to send back.
///
/// `reason` is human readable and names the field; `code` is for code and tests.
/// `offset` is the byte position at which the reader gave up.
///
/// ```swift
/// do { _ = try ClientMessage.decode(bytes) }
/// catch { print(error.reason) } // "invalid: \"kind\" must be an integer between 0 and 65535"
/// ```
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case notJSON = "not-json"
        case truncated
        case trailingData = "trailing-data"
        case wrongArity = "wrong-arity"
        case wrongType = "wrong-type"
        case unknownMessage = "unknown-message"
        case missingField = "missing-field"
        case duplicateField = "duplicate-field"
        case badHex = "bad-hex"
        case notInteger = "not-integer"
        case outOfRange = "out-of-range"
        case tooDeep = "too-deep"
        case invalidUTF8 = "invalid-utf8"
        case loneSurrogate = "lone-surrogate"
        case tooLarge = "too-large"
        case invalidValue = "invalid-value"
    }

    public let code: Code
    public let reason: String
    public let offset: Int

    public init(_ code: Code, _ reason: String, at offset: Int) {
        self.code = code
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason) (\(code.rawValue) at byte \(offset))" }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for bodies that throw only `WireError`; the standard library's
    /// version rethrows `any Error`, which would erase the typed error.
    @inlinable
    func withWireBytes<R>(_ body: (UnsafeRawBufferPointer) throws(WireError) -> R) throws(WireError) -> R {
        let result: Result<R, WireError> = withUnsafeBytes { raw in
            do throws(WireError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    @inlinable
    mutating func withMutableWireBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws(WireError) -> R
    ) throws(WireError) -> R {
        let result: Result<R, WireError> = withUnsafeMutableBytes { raw in
            do throws(WireError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
