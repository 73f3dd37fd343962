import Foundation

/// A message from the relay, parsed as the JSON array NIP-01 makes every relay message.
///
/// ```swift
/// let message = try ReceivedMessage(#"["OK","ab…",true,""]"#)
/// message.type       // "OK"
/// message.bool(2)    // true
/// ```
public struct ReceivedMessage: CustomStringConvertible {
    public let raw: String
    public let array: [Any]

    public init(_ text: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        guard let array = parsed as? [Any] else { throw TestFailure("relay sent a non-array: \(text)") }
        self.raw = text
        self.array = array
    }

    public var type: String { array.first as? String ?? "" }
    public var description: String { raw }
    public func string(_ index: Int) -> String? { index < array.count ? array[index] as? String : nil }
    public func bool(_ index: Int) -> Bool? { index < array.count ? array[index] as? Bool : nil }
    public func object(_ index: Int) -> [String: Any]? { index < array.count ? array[index] as? [String: Any] : nil }
}

extension [[String: Any]] {
    /// The `id` of each event object, in order.
    public var ids: [String] { map { $0["id"] as? String ?? "" } }
}

/// A test's failure with a sentence saying what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// No message from the relay within the time a test waits.
public struct TimedOut: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "timed out waiting for the relay" }
}

/// The relay ended the connection while a test waited for a message.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the relay closed the connection" }
}
