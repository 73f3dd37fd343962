public import NostrCore

/// A write rule about the connection an event arrives on (its rate, its NIP-42
/// authentication) rather than about the event. An operator's bulk import has no
/// connection, so `Relay.importRefusal` skips these.
///
/// ```swift
/// extension MyPerConnectionQuota: ConnectionPolicy {}
/// ```
public protocol ConnectionPolicy: WritePolicy {}

extension EventRateLimitPolicy: ConnectionPolicy {}
extension ProtectedEventPolicy: ConnectionPolicy {}

extension Relay {
    /// Why `event` may not be stored by `martlet import`, or nil when it may: its id and
    /// signature, then every write policy the relay applies to a published event (bans,
    /// kinds, limits, PoW, expiration, …) except those about a connection. Ephemeral events
    /// and requests to vanish are refused: the one is never stored and the other is an
    /// action to send to the relay, not a record to restore.
    public func importRefusal(_ event: Event, now: Int64? = nil) async -> RejectReason? {
        do {
            try event.validate()
        } catch {
            return .invalid(String(error.message.dropFirst("invalid: ".count)))
        }
        if event.kind.isEphemeral { return .invalid("ephemeral events are not stored") }
        if event.kind == .requestToVanish { return .invalid("requests to vanish are not imported; publish them to the relay") }
        let context = WriteContext(now: now ?? clock(), remoteAddress: nil)
        for policy in policies where !(policy is any ConnectionPolicy) {
            if let refusal = await policy.check(event, context: context) { return refusal }
        }
        return nil
    }
}
