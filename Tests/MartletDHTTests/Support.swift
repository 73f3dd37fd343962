import MartletDHT
import MartletTestSupport
import NIOCore
import NIOPosix

/// A bare UDP socket on 127.0.0.1, to send a node what no well-behaved node would.
final class RawUDPSocket: Sendable {
    let channel: any Channel
    let replies: AsyncStream<[UInt8]>

    private init(channel: any Channel, replies: AsyncStream<[UInt8]>) {
        self.channel = channel
        self.replies = replies
    }

    static func open() async throws -> RawUDPSocket {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(1024))
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RawUDPSocket(channel: channel, replies: stream)
    }

    func send(_ bytes: [UInt8], to endpoint: IPv4Endpoint) async throws {
        let address = try endpoint.socketAddress()
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes)))
    }

    /// The next reply, or nil after `timeout`.
    func nextReply(timeout: Duration = .seconds(5)) async -> [UInt8]? {
        let replies = self.replies
        return try? await withTimeout(timeout) {
            for await reply in replies { return reply }
            throw ConnectionClosed()
        }
    }

    func close() async throws { try await channel.close() }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let continuation: AsyncStream<[UInt8]>.Continuation
        init(continuation: AsyncStream<[UInt8]>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(Array(unwrapInboundIn(data).data.readableBytesView))
        }
    }
}

