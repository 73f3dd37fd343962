import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import MartletTestSupport
import NIOWebSocket

/// One WebSocket client connection for end-to-end tests: send raw text or typed messages,
/// read the relay's messages parsed as JSON arrays, with a timeout on every wait.
///
/// ```swift
/// let client = try await relay.connect()
/// try await client.publish(event)
/// let (accepted, message) = try await client.ok(for: event.id)
/// ```
final class NostrTestClient: RelayConversation {
    private let outbound: WebSocketOutboundWriter
    private let messages: MessageBox
    private let finished: AsyncStream<Void>.Continuation
    private let connection: Task<Void, any Error>

    private init(
        outbound: WebSocketOutboundWriter, messages: MessageBox, finished: AsyncStream<Void>.Continuation,
        connection: Task<Void, any Error>
    ) {
        self.outbound = outbound
        self.messages = messages
        self.finished = finished
        self.connection = connection
    }

    deinit {
        finished.finish()
    }

    static func connect(url: String) async throws -> NostrTestClient {
        let incoming = MessageBox()
        let (done, doneContinuation) = AsyncStream.makeStream(of: Void.self)
        let (writers, writerContinuation) = AsyncStream.makeStream(of: WebSocketOutboundWriter.self)
        var logger = Logger(label: "martlet.test.client")
        logger.logLevel = .critical
        let connection = Task {
            defer { writerContinuation.finish() }
            do {
                try await WebSocketClient.connect(
                    url: url, configuration: .init(maxFrameSize: 1 << 24), logger: logger
                ) { inbound, outbound, _ in
                    writerContinuation.yield(outbound)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            do {
                                for try await message in inbound.messages(maxSize: 1 << 26) {
                                    if case .text(let text) = message { await incoming.push(text) }
                                }
                            } catch {
                                await incoming.close()
                                throw error
                            }
                            await incoming.close()
                        }
                        group.addTask {
                            for await _ in done {}
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                await incoming.close()
                throw error
            }
            await incoming.close()
        }
        var writerIterator = writers.makeAsyncIterator()
        guard let outbound = await writerIterator.next() else {
            _ = try await connection.value
            throw TestFailure("could not connect to \(url)")
        }
        return NostrTestClient(outbound: outbound, messages: incoming, finished: doneContinuation, connection: connection)
    }

    /// Closes the connection and waits until it is closed.
    func close() async {
        finished.finish()
        _ = try? await connection.value
    }

    // MARK: Sending

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes))))
    }

    // MARK: Receiving

    /// The next message from the relay; throws after `timeout` or when the connection ends.
    func next(timeout: Duration) async throws -> ReceivedMessage {
        try await messages.next(timeout: timeout)
    }
}
