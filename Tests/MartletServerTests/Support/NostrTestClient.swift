import Foundation
import Logging
import MartletReplication
import NostrCore

/// One WebSocket client connection for end-to-end tests: send raw text or typed messages,
/// read the relay's messages parsed as JSON arrays, with a timeout on every wait.
///
/// ```swift
/// let client = try await relay.connect()
/// try await client.publish(event)
/// let (accepted, message) = try await client.ok(for: event.id)
/// ```
final class NostrTestClient: Sendable {
    /// A message from the relay, as parsed JSON.
    struct Message: CustomStringConvertible {
        let raw: String
        let array: [Any]

        var type: String { array.first as? String ?? "" }
        var description: String { raw }
        func string(_ index: Int) -> String? { index < array.count ? array[index] as? String : nil }
        func bool(_ index: Int) -> Bool? { index < array.count ? array[index] as? Bool : nil }
        func object(_ index: Int) -> [String: Any]? { index < array.count ? array[index] as? [String: Any] : nil }
    }

    private let link: WebSocketLink
    private let messages: MessageBox

    private init(link: WebSocketLink, messages: MessageBox) {
        self.link = link
        self.messages = messages
    }

    /// Connects over the relay's own outbound transport (`WebSocketLink`), which keeps
    /// the relay's text exactly as sent.
    static func connect(url: String) async throws -> NostrTestClient {
        let incoming = MessageBox()
        var logger = Logger(label: "martlet.test.client")
        logger.logLevel = .critical
        let link = try await WebSocketLink.connect(
            to: url, timeout: .seconds(30), maxMessageLength: 1 << 26, logger: logger,
            receive: { message in await incoming.push(String(decoding: message, as: UTF8.self)) },
            ended: { Task { await incoming.close() } })
        return NostrTestClient(link: link, messages: incoming)
    }

    /// Closes the connection and waits until it is closed.
    func close() async {
        await link.close()
    }

    // MARK: Sending

    func send(_ text: String) async throws {
        try await link.send(frame: Array(text.utf8))
    }

    func send(bytes: [UInt8]) async throws {
        try await link.send(frame: bytes)
    }

    func publish(_ event: Event) async throws {
        try await send(#"["EVENT","# + event.jsonString + "]")
    }

    func request(_ subscription: String, _ filters: String...) async throws {
        try await send(#"["REQ",""# + subscription + #"","# + filters.joined(separator: ",") + "]")
    }

    // MARK: Receiving

    /// The next message from the relay; throws after `timeout` or when the connection ends.
    func next(timeout: Duration = .seconds(20)) async throws -> Message {
        let text: String
        switch await messages.take(timeout: timeout) {
        case .message(let value): text = value
        case .closed: throw ConnectionClosed()
        case .timedOut: throw TimedOut()
        }
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        guard let array = parsed as? [Any] else { throw TestFailure("relay sent a non-array: \(text)") }
        return Message(raw: text, array: array)
    }

    /// Waits for the `OK` answering `id`, skipping other messages.
    func ok(for id: EventID, timeout: Duration = .seconds(30)) async throws -> (accepted: Bool, message: String) {
        while true {
            let message = try await next(timeout: timeout)
            if message.type == "OK", message.string(1) == id.hex {
                return (message.bool(2) ?? false, message.string(3) ?? "")
            }
        }
    }

    /// Publishes and waits for the answer.
    func publishAndWait(_ event: Event) async throws -> (accepted: Bool, message: String) {
        try await publish(event)
        return try await ok(for: event.id)
    }

    /// Sends a REQ and collects the stored events up to its EOSE (as event objects).
    func query(_ subscription: String, _ filters: String...) async throws -> [[String: Any]] {
        try await send(#"["REQ",""# + subscription + #"","# + filters.joined(separator: ",") + "]")
        return try await eventsUntilEOSE(subscription)
    }

    func eventsUntilEOSE(_ subscription: String) async throws -> [[String: Any]] {
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
    func silence(for duration: Duration = .milliseconds(300)) async throws -> Message? {
        do {
            return try await next(timeout: duration)
        } catch is TimedOut {
            return nil
        }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String { "timed out waiting for the relay" }
}

struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the relay closed the connection" }
}

/// Messages received on one connection, waiting to be read by the test.
actor MessageBox {
    enum Outcome: Sendable {
        case message(String)
        case closed
        case timedOut
    }

    private var buffer: [String] = []
    private var start = 0
    private var closed = false
    private var waiter: (ticket: Int, continuation: CheckedContinuation<Outcome, Never>)?
    private var tickets = 0

    func push(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .message(text))
        } else {
            buffer.append(text)
        }
    }

    func close() {
        closed = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .closed)
        }
    }

    func take(timeout: Duration) async -> Outcome {
        if start < buffer.count {
            defer { start += 1 }
            return .message(buffer[start])
        }
        if closed { return .closed }
        tickets += 1
        let ticket = tickets
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(ticket)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            waiter = (ticket, continuation)
        }
    }

    private func expire(_ ticket: Int) {
        guard let waiter, waiter.ticket == ticket else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: .timedOut)
    }
}
