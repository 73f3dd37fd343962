import HummingbirdWSClient
public import Logging
import NIOCore
import NIOWebSocket

/// One outbound WebSocket connection carrying whole text messages: the transport under
/// `RelayClient`, and under the test suite's raw client, so that there is one WebSocket
/// client in the project.
///
/// Frames are joined into messages; a message longer than `maxMessageLength` is dropped
/// whole rather than held. Every message is handed to `receive` in order, from one task;
/// `ended` is called once when the connection is gone, whichever side ended it.
///
/// ```swift
/// let link = try await WebSocketLink.connect(
///     to: "ws://127.0.0.1:7777/", timeout: .seconds(10), receive: { print($0.count) }, ended: {})
/// try await link.send(frame: Array(#"["REQ","s",{}]"#.utf8))
/// await link.close()
/// ```
public final class WebSocketLink: Sendable {
    private let outbound: WebSocketOutboundWriter
    private let finish: AsyncStream<Void>.Continuation
    private let connection: Task<Void, any Error>

    private init(outbound: WebSocketOutboundWriter, finish: AsyncStream<Void>.Continuation, connection: Task<Void, any Error>) {
        self.outbound = outbound
        self.finish = finish
        self.connection = connection
    }

    /// How long `close()` waits for the peer to answer the close frame before the
    /// connection is dropped.
    static let closeTimeout: Duration = .seconds(2)

    /// A link dropped without `close()` still ends its connection.
    deinit {
        finish.finish()
    }

    /// Opens a WebSocket to `url` (`ws://` or `wss://`).
    /// - Parameters:
    ///   - timeout: how long the TCP connection and the upgrade may take; a peer that
    ///     accepts the connection and never answers must not hold the caller for ever.
    ///   - pingInterval: how often to ping, so that a connection that silently died (a
    ///     partition) ends instead of waiting for ever; nil sends no pings.
    ///   - receive: each whole text message, in order.
    ///   - ended: called once the connection is gone.
    /// - Throws: `RelayClientError.timedOut` past `timeout`, `.cancelled` when the caller is
    ///   cancelled, `.connectionClosed` or the transport's error when the relay cannot be reached.
    public static func connect(
        to url: String, timeout: Duration, pingInterval: Duration? = nil, maxMessageLength: Int = 32 << 20,
        logger: Logger = Logger(label: "martlet.websocket"),
        receive: @escaping @Sendable ([UInt8]) async -> Void, ended: @escaping @Sendable () -> Void
    ) async throws -> WebSocketLink {
        let (done, doneContinuation) = AsyncStream.makeStream(of: Void.self)
        let (writers, writerContinuation) = AsyncStream.makeStream(of: WebSocketOutboundWriter.self)
        let connection = Task {
            defer {
                writerContinuation.finish()
                ended()
            }
            // A link is closed when its work is over, or when the process stops: the peer's
            // answering close frame is a courtesy, never worth the 15 s the library would
            // wait for it, which held relays' shutdowns on a loaded machine.
            let configuration = WebSocketClientConfiguration(
                maxFrameSize: 1 << 24, closeTimeout: WebSocketLink.closeTimeout,
                autoPing: pingInterval.map { .enabled(timePeriod: $0) } ?? .disabled)
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                writerContinuation.yield(outbound)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await readMessages(inbound, maxMessageLength: maxMessageLength, receive) }
                    group.addTask {
                        for await _ in done {}
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
        let gaveUp = Flag()
        let giveUp: @Sendable () -> Void = {
            gaveUp.set()
            connection.cancel()
            writerContinuation.finish()
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            giveUp()
        }
        var iterator = writers.makeAsyncIterator()
        let opened = await withTaskCancellationHandler { await iterator.next() } onCancel: { giveUp() }
        timer.cancel()
        guard let outbound = opened, !gaveUp.isSet else {
            if gaveUp.isSet {
                throw Task.isCancelled ? RelayClientError.cancelled : RelayClientError.timedOut("the connection to \(url)")
            }
            try await connection.value
            throw RelayClientError.connectionClosed
        }
        return WebSocketLink(outbound: outbound, finish: doneContinuation, connection: connection)
    }

    /// Frames joined into text messages; binary messages and oversized ones are skipped.
    private static func readMessages(
        _ inbound: WebSocketInboundStream, maxMessageLength: Int, _ receive: @Sendable ([UInt8]) async -> Void
    ) async throws {
        var message = [UInt8]()
        var isText = false
        var oversized = false
        for try await frame in inbound {
            if frame.opcode != .continuation {
                message.removeAll(keepingCapacity: message.capacity <= 1 << 20)
                isText = frame.opcode == .text
                oversized = false
            }
            if message.count + frame.data.readableBytes <= maxMessageLength {
                message.append(contentsOf: frame.data.readableBytesView)
            } else {
                oversized = true
            }
            guard frame.fin, isText, !oversized else { continue }
            await receive(message)
        }
    }

    /// Sends one text frame holding `frame` as it is (a test may send bytes that are not
    /// UTF-8, to see the relay refuse them).
    public func send(frame: [UInt8]) async throws {
        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: frame))))
    }

    /// Closes the connection and waits until it is closed.
    public func close() async {
        finish.finish()
        _ = try? await connection.value
    }
}
