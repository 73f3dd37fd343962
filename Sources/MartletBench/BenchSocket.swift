internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOWebSocket
import MartletAxon

/// What one benchmark connection does with the relay.
///
/// Every method is called on the connection's event loop, so a driver keeps its state in
/// plain stored properties with no lock and no task hop per message: the load generator
/// shares the machine's two cores with the relay, and each microsecond it spends per frame
/// is taken from the relay it measures.
protocol SocketDriver: AnyObject, SendableMetatype {
    associatedtype Outcome: Sendable
    /// The WebSocket is open and writable; send the first messages.
    func opened(_ link: SocketLink)
    /// One text message from the relay and the monotonic time it was read, in nanoseconds.
    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink)
    /// The socket has no more to read for now: the moment to flush what `received` wrote,
    /// one syscall per batch of replies rather than one per reply.
    func readComplete(_ link: SocketLink)
    /// What the connection measured, taken once when it finishes (done, closed or out of time).
    func outcome() -> Outcome
}

extension SocketDriver {
    func readComplete(_ link: SocketLink) {}
}

/// The monotonic clock every measurement uses, in nanoseconds.
@inline(__always)
func monotonicNanos() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// A driver's handle on its connection; valid on the connection's event loop only.
final class SocketLink {
    private let context: ChannelHandlerContext
    private var masks: SplitMix64
    fileprivate let onReady: () -> Void
    fileprivate let onFinish: () -> Void
    /// The protocol spoken: text frames of JSON or binary frames of axon.
    let wire: BenchWire

    fileprivate init(
        context: ChannelHandlerContext, wire: BenchWire, onReady: @escaping () -> Void, onFinish: @escaping () -> Void
    ) {
        self.context = context
        self.wire = wire
        self.masks = SplitMix64(seed: UInt64(UInt(bitPattern: ObjectIdentifier(context).hashValue)))
        self.onReady = onReady
        self.onFinish = onFinish
    }

    /// Queues one text message, masked as RFC 6455 requires of a client. Masking keys come
    /// from a cheap generator: on Linux the system one is a syscall per frame.
    func write(_ text: ByteBuffer) {
        let opcode: WebSocketOpcode = wire.isAxon ? .binary : .text
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(using: &masks), data: text)
        context.write(NIOAny(frame), promise: nil)
    }

    func write(_ bytes: [UInt8]) { write(context.channel.allocator.buffer(bytes: bytes)) }

    func flush() { context.flush() }

    /// A relay message read in this connection's protocol.
    func reply(_ message: UnsafeRawBufferPointer) -> RelayReply {
        wire.isAxon ? RelayReply(axon: message) : RelayReply(message)
    }

    /// Marks the connection ready (subscribed, say): the scenario may go on.
    func markReady() { onReady() }

    /// Ends the connection now; its outcome is taken and the socket closed.
    func finish() { onFinish() }

    /// Runs `body` on this connection's event loop after `delay` (a publisher's pacing).
    func schedule(after delay: TimeAmount, _ body: @escaping () -> Void) {
        context.eventLoop.assumeIsolated().scheduleTask(in: delay, body)
    }
}

/// A connection opened by `BenchSocket.open`, usable from any task.
struct BenchConnection<Outcome: Sendable>: Sendable {
    let channel: any Channel
    /// Succeeds when the driver calls `markReady()`; fails if the connection ends first.
    let ready: EventLoopFuture<Void>
    /// The driver's outcome, once the connection has finished.
    let outcome: EventLoopFuture<Outcome>

    /// Asks the connection to finish now (idempotent; a no-op once finished).
    func finish() {
        channel.pipeline.fireUserInboundEventTriggered(FinishRequest())
    }
}

private struct FinishRequest: Sendable {}

/// Sent once the upgrade handler is gone: until then it fails every write.
private struct StartRequest: Sendable {}

/// A lean WebSocket client on SwiftNIO, built for load rather than convenience.
///
/// Each connection is a NIO pipeline ending in a `SocketDriver`; frames are parsed where
/// they arrive, with no `AsyncSequence` between the socket and the measurement.
///
/// ```swift
/// let connection = try await BenchSocket.open(url, on: group, deadline: .now() + .seconds(30)) {
///     IngestDriver(frames: frames)
/// }
/// let outcome = try await connection.outcome.get()
/// ```
enum BenchSocket {
    /// Opens one WebSocket to `url`; the driver is made on the connection's event loop.
    /// The connection finishes by itself at `deadline`, so no scenario can run unbounded.
    private static func connect<Driver: SocketDriver>(
        _ url: LoopbackRelayURL, on group: any EventLoopGroup, deadline: NIODeadline, wire: BenchWire,
        driver makeDriver: @escaping @Sendable () -> Driver
    ) async throws -> BenchConnection<Driver.Outcome> {
        let upgraded: EventLoopFuture<BenchConnection<Driver.Outcome>> = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<BenchConnection<Driver.Outcome>>(
                        maxFrameSize: 1 << 24
                    ) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let handler = DriverHandler(
                                driver: makeDriver(), eventLoop: channel.eventLoop, deadline: deadline, wire: wire,
                                relayURL: url.description)
                            // Relays may split a message into fragments; drivers see whole messages.
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                    maxAccumulatedFrameSize: 1 << 24))
                            try channel.pipeline.syncOperations.addHandler(handler)
                            return BenchConnection(
                                channel: channel, ready: handler.ready.futureResult, outcome: handler.done.futureResult)
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: url.hostHeader)
                    if let subprotocol = wire.subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path, headers: headers)
                    let upgrade = NIOTypedHTTPClientUpgradeConfiguration(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.close(promise: nil)
                            return channel.eventLoop.makeFailedFuture(
                                BenchError("\(url) refused the WebSocket upgrade"))
                        })
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
                    // A relay may speak first (a NIP-42 challenge); those bytes must reach the driver.
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: configuration)
                }
            }
        let connection = try await upgraded.get()
        connection.channel.pipeline.fireUserInboundEventTriggered(StartRequest())
        return connection
    }

    /// `open`, with NIO's connect errors put in words that name the relay.
    static func open<Driver: SocketDriver>(
        _ url: LoopbackRelayURL, on group: any EventLoopGroup, deadline: NIODeadline, wire: BenchWire = .json,
        driver: @escaping @Sendable () -> Driver
    ) async throws(BenchError) -> BenchConnection<Driver.Outcome> {
        do {
            return try await connect(url, on: group, deadline: deadline, wire: wire, driver: driver)
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError("could not open a WebSocket to \(url): \(error)")
        }
    }
}

/// The end of a benchmark pipeline: hands text to the driver, answers pings, and turns
/// every way a connection can end into exactly one outcome.
private final class DriverHandler<Driver: SocketDriver>: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let driver: Driver
    let ready: EventLoopPromise<Void>
    let done: EventLoopPromise<Driver.Outcome>
    private let deadline: NIODeadline
    private let wire: BenchWire
    private let relayURL: String
    private var link: SocketLink?
    private var isReady = false
    private var isFinished = false
    /// axon: the handshake is not done yet; the driver opens once the relay says `Ok`.
    private var awaitingAxonAuth: Bool

    init(driver: Driver, eventLoop: any EventLoop, deadline: NIODeadline, wire: BenchWire, relayURL: String) {
        self.driver = driver
        self.ready = eventLoop.makePromise()
        self.done = eventLoop.makePromise()
        self.deadline = deadline
        self.wire = wire
        self.relayURL = relayURL
        self.awaitingAxonAuth = wire.isAxon
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let link = SocketLink(
            context: context, wire: wire,
            onReady: { [unowned self] in self.markReady() },
            onFinish: { [unowned self] in self.finish(context: loopBoundContext.value) })
        self.link = link
        context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.finish(context: loopBoundContext.value)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard !isFinished, let link else { return }
            if awaitingAxonAuth { return authenticate(frame, link: link, context: context) }
            let now = monotonicNanos()
            frame.unmaskedData.withUnsafeReadableBytes { driver.received($0, at: now, link) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            finish(context: context)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !isFinished, let link { driver.readComplete(link) }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is StartRequest:
            // An axon relay speaks first (its challenge): the driver opens after the handshake.
            if !isFinished, !awaitingAxonAuth, let link { driver.opened(link) }
        case is FinishRequest:
            finish(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context: context)
    }

    /// The seed's handshake: the challenge's nonce signed with the relay's URL, then `Ok`.
    private func authenticate(_ frame: WebSocketFrame, link: SocketLink, context: ChannelHandlerContext) {
        guard case .axon(let secret) = wire else { return }
        switch try? AxonRelayMessage.decode(Array(buffer: frame.unmaskedData)) {
        case .challenge(let nonce):
            guard let signature = try? AxonAuthentication.sign(nonce: nonce, relayURL: relayURL, privateKey: secret),
                let key = try? AxonAuthentication.publicKey(of: secret)
            else { return finish(context: context) }
            link.write(AxonClientMessage.auth(key, signature: signature).encoded())
            link.flush()
        case .ok(nil):
            awaitingAxonAuth = false
            driver.opened(link)
        default:
            finish(context: context)
        }
    }

    private func markReady() {
        guard !isReady else { return }
        isReady = true
        ready.succeed(())
    }

    private func finish(context: ChannelHandlerContext) {
        guard !isFinished else { return }
        isFinished = true
        if !isReady {
            isReady = true
            ready.fail(BenchError("connection ended before it was ready"))
        }
        done.succeed(driver.outcome())
        context.close(promise: nil)
    }
}
