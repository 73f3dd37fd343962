import NIOCore

/// Closes a new connection that has not sent a complete HTTP request head (the WebSocket
/// upgrade request included) within `timeout`, then steps out of the pipeline.
///
/// First in the pipeline, it reads raw bytes and looks only for the blank line that ends
/// the head, so it does not depend on how the HTTP handlers behind it are arranged. Without
/// it, 1,100 sockets that sent half a request held all 1,024 descriptors for as long as
/// their clients liked. Keep-alive connections waiting for their next request are bounded
/// by Hummingbird's idle timeout instead.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: .seconds(10)), position: .first)
/// ```
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// How many bytes of "\r\n\r\n" the bytes read so far end with.
    private var matched = 0
    private var done = false

    init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            deadline = nil
            // As if the client had given up: the HTTP upgrade handler then ends quietly
            // instead of logging an error for every socket an attacker leaves hanging.
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done, headEnds(in: unwrapInboundIn(data)) {
            done = true
            deadline?.cancel()
            deadline = nil
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    /// Whether the head's closing blank line completes within `bytes`, carried across reads.
    private func headEnds(in bytes: ByteBuffer) -> Bool {
        let terminator: [UInt8] = [0x0d, 0x0a, 0x0d, 0x0a]
        for byte in bytes.readableBytesView {
            if byte == terminator[matched] {
                matched += 1
                if matched == terminator.count { return true }
            } else {
                matched = byte == terminator[0] ? 1 : 0
            }
        }
        return false
    }
}
