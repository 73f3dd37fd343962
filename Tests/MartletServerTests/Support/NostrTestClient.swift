import Foundation
import Logging
import MartletReplication
import MartletTestSupport

/// One WebSocket client connection for end-to-end tests, over the relay's own outbound
/// transport (`WebSocketLink`), which keeps the relay's text exactly as sent: send raw
/// text or typed messages, read the relay's messages parsed as JSON arrays, with a
/// timeout on every wait (`RelayConversation`).
///
/// ```swift
/// let client = try await relay.connect()
/// try await client.publish(event)
/// let (accepted, message) = try await client.ok(for: event.id)
/// ```
final class NostrTestClient: RelayConversation {
    private let link: WebSocketLink
    private let messages: MessageBox

    private init(link: WebSocketLink, messages: MessageBox) {
        self.link = link
        self.messages = messages
    }

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

    // MARK: Receiving

    /// The next message from the relay; throws after `timeout` or when the connection ends.
    func next(timeout: Duration) async throws -> ReceivedMessage {
        try await messages.next(timeout: timeout)
    }
}
