import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's child channel (`base`) behind the checks every TCP connection passes
/// before any HTTP is read: the per-address cap (`ConnectionsPerIP`) and the deadline for
/// the request head (`HandshakeDeadline`).
///
/// A connection over the cap is answered `429 Too Many Requests` and closed; it never
/// reaches HTTP parsing, so it costs a descriptor for a moment and no task beyond that.
///
/// ```swift
/// let child = GuardedChildChannel(base: upgradeChannel, connections: ConnectionsPerIP(limit: 256),
///                                 handshakeTimeout: .seconds(10))
/// ```
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// The base's value, or nil for a refused connection.
        let admitted: Base.Value?
    }

    let base: Base
    let connections: ConnectionsPerIP
    let handshakeTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        switch connections.admit(channel.remoteAddress) {
        case .refused:
            return channel.eventLoop.makeSucceededFuture(Value(channel: channel, admitted: nil))
        case .counted(let key):
            let connections = connections
            channel.closeFuture.whenComplete { _ in connections.release(key) }
        case .uncounted:
            break
        }
        do {
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.readBuffers)
            try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: handshakeTimeout), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).map { Value(channel: channel, admitted: $0) }
    }

    /// Read buffers sized by what arrives, starting small: most connections are idle
    /// subscribers whose reads are a handshake, a short REQ or a pong. Against NIO's
    /// default first buffer of 2 KiB, 512 bytes saved 1.5 kB of every idle subscribed
    /// connection (32.7 to 31.2 kB, the `connections` bench) and 256 another 0.3 kB (25.3 to
    /// 25.0); a larger message takes a read or two more, and busy connections grow theirs
    /// as before.
    static var readBuffers: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)
    }

    func handle(value: Value, logger: Logger) async {
        guard let admitted = value.admitted else { return await Self.refuse(value.channel, logger: logger) }
        await base.handle(value: admitted, logger: logger)
    }

    /// Answers `429` and closes. Not inlined into `handle`: an async function's frame holds
    /// the temporaries of everything inlined into it, and `handle`'s frame lives, in every
    /// admitted connection's task, for as long as the connection (912 bytes with this inlined).
    @inline(never)
    private static func refuse(_ channel: any Channel, logger: Logger) async {
        logger.debug("connection refused: too many from one address", metadata: ["remote": "\(channel.remoteAddress?.ipAddress ?? "?")"])
        try? await channel.writeAndFlush(ByteBuffer(string: tooManyConnections)).get()
        try? await channel.close().get()
    }
}

private let tooManyConnections =
    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 42\r\nConnection: close\r\n\r\n"
    + "too many open connections from one address"
