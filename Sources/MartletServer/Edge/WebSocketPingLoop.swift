import NIOCore
import NIOWebSocket

/// The relay's own WebSocket ping loop: a ping every `interval` from the channel's event
/// loop, and the connection closed once two pings in a row go unanswered (`Liveness`).
///
/// It sits in the pipeline right after the frame decoder, so it sees every frame the client
/// sends, pongs included, however busy the connection's task is. Hummingbird's own auto-ping
/// only notes a pong when the application reads the next frame, and closes on the first
/// miss: a client whose pong arrived while its REQ was being answered was dropped. No task
/// per connection: one scheduled timer on the event loop.
///
/// ```swift
/// try await WebSocketPingLoop.install(on: channel, interval: .seconds(30))
/// ```
final class WebSocketPingLoop: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let interval: TimeAmount
    private var liveness = Liveness()
    private var nextTick: Scheduled<Void>?

    init(interval: Duration) {
        self.interval = TimeAmount(interval)
    }

    /// Adds a ping loop behind the WebSocket frame decoder of an upgraded `channel`.
    static func install(on channel: any Channel, interval: Duration) async throws {
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
            try pipeline.addHandler(WebSocketPingLoop(interval: interval), position: .after(decoder))
        }.get()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleTick(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        liveness.heard()
        context.fireChannelRead(data)
    }

    private func scheduleTick(context: ChannelHandlerContext) {
        nextTick = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        nextTick = nil
        switch liveness.tick() {
        case .ping:
            let ping = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))
            context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
            scheduleTick(context: context)
        case .close:
            var reason = context.channel.allocator.buffer(capacity: 16)
            reason.write(webSocketErrorCode: .goingAway)
            reason.writeString("ping timeout")
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)), promise: nil)
            context.close(promise: nil)
        }
    }

    private func stop() {
        nextTick?.cancel()
        nextTick = nil
    }
}
