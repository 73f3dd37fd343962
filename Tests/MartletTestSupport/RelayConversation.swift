public import NostrCore

/// One client's conversation with a relay, whatever carries it: a WebSocket
/// (`NostrTestClient`) or a `RelaySession` called directly (`SessionClient`). The two
/// requirements move text; everything a test says and waits for is built on them here.
///
/// ```swift
/// let (accepted, message) = try await client.publishAndWait(event)
/// let stored = try await client.query("s", #"{"kinds":[1]}"#)
/// ```
public protocol RelayConversation: Sendable {
    /// Sends one client message.
    func send(_ text: String) async throws
    /// The next message from the relay; throws after `timeout` or when the connection ends.
    func next(timeout: Duration) async throws -> ReceivedMessage
}

extension RelayConversation {
    public func next() async throws -> ReceivedMessage {
        try await next(timeout: .seconds(20))
    }

    public func publish(_ event: Event) async throws {
        try await send(#"["EVENT","# + event.jsonString + "]")
    }

    public func request(_ subscription: String, _ filters: String...) async throws {
        try await send(#"["REQ",""# + subscription + #"","# + filters.joined(separator: ",") + "]")
    }

    /// Waits for the `OK` answering `id`, skipping other messages.
    public func ok(for id: EventID, timeout: Duration = .seconds(30)) async throws -> (accepted: Bool, message: String) {
        while true {
            let message = try await next(timeout: timeout)
            if message.type == "OK", message.string(1) == id.hex {
                return (message.bool(2) ?? false, message.string(3) ?? "")
            }
        }
    }

    /// Publishes and waits for the answer.
    public func publishAndWait(_ event: Event) async throws -> (accepted: Bool, message: String) {
        try await publish(event)
        return try await ok(for: event.id)
    }

    /// The reason the relay gave for refusing `event` (`OK false`), or nil if it accepted it.
    public func refusal(of event: Event) async throws -> String? {
        try await refusal(ofJSON: event.jsonString, id: event.id)
    }

    /// The reason the relay gave for refusing the event spelled `json`, answered under `id`
    /// (a tampered event still names the id it claims), or nil if it accepted it.
    public func refusal(ofJSON json: String, id: EventID) async throws -> String? {
        try await send(#"["EVENT","# + json + "]")
        let answer = try await ok(for: id)
        return answer.accepted ? nil : answer.message
    }

    /// The reason of the `CLOSED` that must come next, for `subscription`.
    public func closedReason(_ subscription: String) async throws -> String {
        let message = try await next()
        guard message.type == "CLOSED", message.string(1) == subscription, let reason = message.string(2) else {
            throw TestFailure("expected CLOSED for \(subscription), got \(message)")
        }
        return reason
    }

    /// The id of the event in the `EVENT` that must come next.
    public func nextEventID() async throws -> String {
        let message = try await next()
        guard message.type == "EVENT", let id = message.object(2)?["id"] as? String else {
            throw TestFailure("expected an EVENT, got \(message)")
        }
        return id
    }

    /// The id of the one `EVENT` that comes next, when nothing follows it for a moment; nil
    /// when something does.
    public func soleEventID() async throws -> String? {
        let id = try await nextEventID()
        return try await silence() == nil ? id : nil
    }

    /// Sends a REQ and collects the stored events up to its EOSE (as event objects).
    public func query(_ subscription: String, _ filters: String...) async throws -> [[String: Any]] {
        try await send(#"["REQ",""# + subscription + #"","# + filters.joined(separator: ",") + "]")
        return try await eventsUntilEOSE(subscription)
    }

    public func eventsUntilEOSE(_ subscription: String) async throws -> [[String: Any]] {
        var events: [[String: Any]] = []
        while true {
            let message = try await next()
            guard message.string(1) == subscription else { continue }
            switch message.type {
            case "EVENT": events.append(message.object(2) ?? [:])
            case "EOSE": return events
            case "CLOSED": throw TestFailure("subscription closed: \(message)")
            default: continue
            }
        }
    }

    /// Asserts that nothing arrives for `duration`; returns what did arrive otherwise.
    public func silence(for duration: Duration = .milliseconds(300)) async throws -> ReceivedMessage? {
        do {
            return try await next(timeout: duration)
        } catch is TimedOut {
            return nil
        }
    }

    /// Waits for the relay's `["AUTH", <challenge>]`, skipping other messages.
    public func challenge() async throws -> String {
        while true {
            let message = try await next()
            if message.type == "AUTH", let challenge = message.string(1) { return challenge }
        }
    }

    /// Authenticates as `author` with `challenge`; returns the relay's answer.
    public func authenticate(as author: Author, challenge: String, relayURL: String) async throws
        -> (accepted: Bool, message: String)
    {
        let event = author.authEvent(challenge: challenge, relayURL: relayURL)
        try await send(#"["AUTH","# + event.jsonString + "]")
        return try await ok(for: event.id)
    }
}
