/// Why the relay refused something, with NIP-01's machine-readable prefix built in, so the
/// words on the wire cannot drift from the cause.
///
/// ```swift
/// RejectReason.invalid("event has expired").message // "invalid: event has expired"
/// ```
public struct RejectReason: Error, Sendable, Equatable, CustomStringConvertible {
    /// NIP-01's standard prefixes (plus NIP-42's `auth-required`).
    public enum Prefix: String, Sendable {
        case duplicate, pow, blocked, invalid, restricted, mute, error, unsupported
        case rateLimited = "rate-limited"
        case authRequired = "auth-required"
    }

    public var prefix: Prefix
    public var detail: String
    /// A refusal the writer is not told of: the event is neither stored nor sent on, and
    /// the client still hears `OK true` (strfry's `shadowReject`, for spam that should not
    /// learn what gives it away).
    public var isSilent = false

    public init(_ prefix: Prefix, _ detail: String) {
        self.prefix = prefix
        self.detail = detail
    }

    /// A refusal the client is not told of (`isSilent`).
    public static func silent(_ detail: String) -> RejectReason {
        var reason = RejectReason(.blocked, detail)
        reason.isSilent = true
        return reason
    }

    /// `"<prefix>: <detail>"`, the text of an `OK false` or `CLOSED`.
    public var message: String { "\(prefix.rawValue): \(detail)" }
    public var description: String { message }

    public static func invalid(_ detail: String) -> RejectReason { .init(.invalid, detail) }
    public static func blocked(_ detail: String) -> RejectReason { .init(.blocked, detail) }
    public static func restricted(_ detail: String) -> RejectReason { .init(.restricted, detail) }
    public static func error(_ detail: String) -> RejectReason { .init(.error, detail) }
    public static func rateLimited(_ detail: String) -> RejectReason { .init(.rateLimited, detail) }
    public static func authRequired(_ detail: String) -> RejectReason { .init(.authRequired, detail) }
}
