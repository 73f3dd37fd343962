import NIOCore
import NIOPosix
import NIOWebSocket

/// A WebSocket client that performs the handshake, sends a few frames and then never reads:
/// no pongs, no draining of the socket. It stands for a dead or hopelessly slow consumer.
final class SilentClient: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func connect(port: Int, receiveBuffer: Int = 4096) async throws -> SilentClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
            .connect(host: "127.0.0.1", port: port).get()
        let handshake =
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: handshake)).get()
        return SilentClient(channel: channel)
    }

    /// Sends one masked text frame (clients must mask, RFC 6455).
    func sendText(_ text: String) async throws {
        let frame = RawConnection.maskedFrame(opcode: .text, fin: true, payload: Array(text.utf8))
        try await channel.writeAndFlush(ByteBuffer(bytes: frame)).get()
    }

    func close() async {
        try? await channel.close().get()
    }
}
