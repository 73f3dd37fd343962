import NIOCore
import NIOPosix
import NIOWebSocket

/// A WebSocket client that writes its own handshake, so a test can send the request headers
/// an attacker would (a `Host` of its choosing), and reads the relay's text frames.
///
/// ```swift
/// let client = try await HandshakeClient.connect(port: port, host: "evil.example.com")
/// try await client.sendText(#"["REQ","s",{}]"#)
/// let reply = try await client.nextText() // ["EOSE","s"]
/// ```
final class HandshakeClient: Sendable {
    private let channel: any Channel
    private let texts: MessageBox
    private let reading: Task<Void, Never>

    private init(channel: any Channel, texts: MessageBox, reading: Task<Void, Never>) {
        self.channel = channel
        self.texts = texts
        self.reading = reading
    }

    /// Connects to 127.0.0.1:`port`, upgrades with `Host: <host>` and waits for the 101.
    static func connect(port: Int, host: String) async throws -> HandshakeClient {
        let (chunks, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let texts = MessageBox()
        let reading = Task {
            var buffer = ByteBuffer()
            var upgraded = false
            for await chunk in chunks {
                buffer.writeImmutableBuffer(chunk)
                if !upgraded {
                    guard let head = takeHead(&buffer) else { continue }
                    upgraded = true
                    await texts.push(head)
                }
                while let (opcode, payload) = takeFrame(&buffer) {
                    if opcode == 0x1 { await texts.push(String(buffer: payload)) }
                }
            }
            await texts.close()
        }
        let handshake =
            "GET / HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: handshake)).get()
        let client = HandshakeClient(channel: channel, texts: texts, reading: reading)
        let head = try await client.nextText()
        guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("no upgrade: \(head)") }
        return client
    }

    /// Sends one masked text frame (clients must mask, RFC 6455).
    func sendText(_ text: String) async throws {
        let frame = RawConnection.maskedFrame(opcode: .text, fin: true, payload: Array(text.utf8))
        try await channel.writeAndFlush(ByteBuffer(bytes: frame)).get()
    }

    /// The next text frame from the relay; throws after `timeout` or when the connection ends.
    func nextText(timeout: Duration = .seconds(20)) async throws -> String {
        switch await texts.take(timeout: timeout) {
        case .message(let text): return text
        case .closed: throw ConnectionClosed()
        case .timedOut: throw TimedOut()
        }
    }

    func close() async {
        try? await channel.close().get()
        await reading.value
    }

    /// The HTTP response head, once all of it has arrived.
    private static func takeHead(_ buffer: inout ByteBuffer) -> String? {
        let text = String(buffer: buffer)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        return buffer.readString(length: text[..<end.upperBound].utf8.count)
    }

    /// One unmasked server frame's opcode and payload, once all of it has arrived.
    private static func takeFrame(_ buffer: inout ByteBuffer) -> (UInt8, ByteBuffer)? {
        var view = buffer
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else {
            return nil
        }
        var length = Int(second & 0x7f)
        if length == 126 {
            guard let long = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(long)
        } else if length == 127 {
            guard let long = view.readInteger(as: UInt64.self) else { return nil }
            length = Int(long)
        }
        guard let payload = view.readSlice(length: length) else { return nil }
        buffer = view
        return (first & 0x0f, payload)
    }
}

/// Hands every chunk the socket reads to an `AsyncStream`, in order.
private final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncStream<ByteBuffer>.Continuation

    init(continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
