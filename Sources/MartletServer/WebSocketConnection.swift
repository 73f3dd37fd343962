import HummingbirdWebSocket
import Logging
import MartletRelay
import NostrCore
import NIOCore
import NIOWebSocket

/// Carries one WebSocket between the network and a session (`RelaySession`, or an
/// `AxonSession` for the `axon` subprotocol): the connection's task reads messages into the
/// session, and an `OutboxPump` writes the session's outbox to the socket from the event loop.
///
/// Text frames are assembled into byte arrays without going through `String`: the relay's
/// decoder checks UTF-8 itself and answers invalid input with a reason.
struct WebSocketConnection<Session: WebSocketSession> {
    let session: Session
    /// The upgraded channel, written to directly so that a batch of frames costs one
    /// event-loop hop and one flush (see `OutboxPump`).
    let channel: any Channel
    /// The advertised `max_message_length`.
    let maxMessageLength: Int
    /// Whether the client was offered permessage-deflate and asked for it: then frames go
    /// through the WebSocket handler, whose extension compresses them.
    let compressing: Bool
    /// Counts messages by verb and bytes both ways.
    let wire: WireMetrics
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        // One line when a connection opens and one when it closes, with why; nothing per message.
        let remote = session.remoteAddress ?? "unknown"
        logOpened(remote: remote)
        let drained = startWriting(outbound)
        let executor = EventLoopTaskExecutor(channel.eventLoop)
        // The reading loop, its event-loop preference and the frames it waits in
        // (Hummingbird's and NIO's), in one slab.
        await TaskStackReservation.reserveForReadingLoop()
        let closedBy = await readMessages(from: inbound, outbound: outbound, on: executor)
        session.close()
        let reason = await finishWriting(drained, outbound: outbound) ?? closedBy
        logClosed(remote: remote, reason: reason)
    }

    // The synchronous steps of `run` are functions of their own, not inlined: an async
    // function's frame is allocated from its task's stack and holds the temporaries of
    // everything inlined into it (a log line's metadata, a writer's setup) for as long as
    // it runs, which is the connection's whole life. Inlined, `run`'s frame was 1,040 bytes.

    @inline(never)
    private func logOpened(remote: String) {
        logger.info("connection opened", metadata: ["session": "\(session.id)", "remote": "\(remote)"])
    }

    @inline(never)
    private func logClosed(remote: String, reason: String) {
        logger.info(
            "connection closed", metadata: ["session": "\(session.id)", "remote": "\(remote)", "reason": "\(reason)"])
    }

    /// Starts writing the session's outbox to the socket; the future succeeds with how the
    /// outbox ended once it is written out.
    ///
    /// No task of its own for writing: the pump runs on the event loop, and a consumer too
    /// slow for its outbox has its channel closed by the outbox's overflow handler, which
    /// ends the reading. One task per connection is memory that 5,000 idle connections feel.
    @inline(never)
    private func startWriting(_ outbound: WebSocketOutboundWriter) -> EventLoopFuture<Outbox.Ending> {
        compressing
            ? CompressingOutboxWriter(
                outbox: session.outbox, outbound: outbound, eventLoop: channel.eventLoop, wire: wire,
                opcode: Session.outboundOpcode
            ).start()
            : OutboxPump(outbox: session.outbox, channel: channel, wire: wire, opcode: Session.outboundOpcode).start()
    }

    /// Feeds every message to the session on the connection's event loop (see
    /// `EventLoopTaskExecutor`); returns why reading stopped.
    @inline(never)
    private func readMessages(
        from inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, on executor: EventLoopTaskExecutor
    ) async -> String {
        await withTaskExecutorPreference(executor) {
            await readLoop(from: inbound, outbound: outbound, handingOffTo: executor)
        }
    }

    /// Frames become messages in `MessageAssembly`; this loop only waits for them, so that
    /// its frame, which lives as long as the connection, holds little more than the iterator.
    @inline(never)
    private func readLoop(
        from inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        handingOffTo executor: EventLoopTaskExecutor
    ) async -> String {
        var frames = inbound.makeAsyncIterator()
        var assembly = MessageAssembly(readLimit: maxMessageLength * 2)
        do {
            while let frame = try await frames.next() {
                switch assembly.add(frame) {
                case .partial:
                    continue
                case .broken(let reason):
                    return await closeForProtocolError(reason, outbound)
                case .oversized:
                    session.refuseOversized(limit: maxMessageLength)
                case .complete(let message):
                    wire.recordClientMessage(message)
                    if session.staysShallow(message) {
                        await session.receive(message)
                    } else {
                        await receiveInTaskOfItsOwn(message, on: executor)
                    }
                }
                if session.outbox.ending != nil { return "outbox ended" }
            }
            return "client closed"
        } catch {
            return Self.readError(error)
        }
    }

    @inline(never)
    private static func readError(_ error: any Error) -> String {
        "read error: \(error)"
    }

    /// Hands one message (all but those the session says stay shallow, such as an EVENT)
    /// to the session in a task of its own and waits for it to finish, so
    /// the order of messages and the back-pressure (nothing more is read meanwhile) stay as
    /// they were, and cancelling this task cancels the message's.
    ///
    /// Why not in this task: a task keeps the stack slabs of the deepest call chain it ever
    /// ran for as long as it lives, and this one lives as long as the connection. Run here,
    /// a REQ's store query stayed allocated for all of an idle subscriber's hours (heaptrack:
    /// task stacks were two thirds of an idle subscribed connection's memory); run in its own
    /// task, its slabs are freed when the message is done.
    ///
    /// `Task.immediate`: the task starts on this thread and runs until it first suspends,
    /// instead of being queued for another thread while this one waits. A REQ answered
    /// inline (`InlineReads`) then often ends without a thread switch: 1.5 switches a REQ
    /// and its CLOSE instead of 2.2 (BENCHMARKS.md, "One thread hop fewer per message").
    /// It prefers the connection's event loop, as the reading loop does; with both there, an
    /// empty REQ and its CLOSE cost no thread switch at all (BENCHMARKS.md, "A connection's
    /// tasks on its event loop").
    @inline(never)
    private func receiveInTaskOfItsOwn(_ message: [UInt8], on executor: EventLoopTaskExecutor) async {
        let session = session
        let work = Task.immediate(executorPreference: executor) { await session.receive(message) }
        await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
    }

    /// Closes with 1002 (protocol error), as RFC 6455 §5.4 requires for broken fragmentation.
    @inline(never)
    private func closeForProtocolError(_ reason: String, _ outbound: WebSocketOutboundWriter) async -> String {
        try? await outbound.close(.protocolError, reason: reason)
        return "protocol error: \(reason)"
    }

    /// Waits until the outbox has been written out and has ended; returns a reason when the
    /// connection must be closed from this side.
    @inline(never)
    private func finishWriting(_ drained: EventLoopFuture<Outbox.Ending>, outbound: WebSocketOutboundWriter) async -> String? {
        let ending: Outbox.Ending
        do {
            ending = try await drained.get()
        } catch {
            session.close()
            return "write error: \(error)"
        }
        guard ending == .overflow else { return nil }
        let last = WebSocketFrame(fin: true, opcode: Session.outboundOpcode, data: ByteBuffer(bytes: Session.slowConsumerMessage))
        try? await outbound.write(.custom(last))
        try? await outbound.close(.policyViolation, reason: "slow consumer")
        return "slow consumer"
    }
}

/// Turns a connection's data frames into whole messages, per RFC 6455 §5.4: a continuation
/// belongs to the text or binary frame that started its message, and a message is handed
/// over once, at its final frame. Up to `readLimit` bytes (twice the advertised
/// `max_message_length`) are kept, so that the relay can salvage an oversized EVENT's id
/// and answer `OK false`; beyond that the message is only reported as oversized.
///
/// ```swift
/// var assembly = MessageAssembly(readLimit: 2 * 131_072)
/// if case .complete(let bytes) = assembly.add(frame) { await session.receive(bytes) }
/// ```
struct MessageAssembly {
    enum Step: Equatable {
        /// The message goes on in a later frame.
        case partial
        case complete([UInt8])
        /// Ended, and larger than the read limit: its bytes were dropped.
        case oversized
        /// Broken fragmentation: the connection must close with 1002 (protocol error).
        case broken(String)
    }

    let readLimit: Int
    /// Empty between messages: the bytes leave with `.complete`, and an idle connection
    /// keeps no buffer.
    private var bytes: [UInt8] = []
    private var inMessage = false
    private var oversized = false

    init(readLimit: Int) {
        self.readLimit = readLimit
    }

    mutating func add(_ frame: WebSocketDataFrame) -> Step {
        add(continuing: frame.opcode == .continuation, payload: frame.data, fin: frame.fin)
    }

    /// One data frame: a continuation, or the first frame of a text or binary message.
    /// Not inlined into the reading loop: an async function's frame would hold its
    /// temporaries for the connection's whole life.
    @inline(never)
    mutating func add(continuing: Bool, payload: ByteBuffer, fin: Bool) -> Step {
        switch (continuing, inMessage) {
        case (true, false):
            return .broken("continuation frame without a message to continue")
        case (true, true):
            break
        case (false, true):
            return .broken("new message before the previous one ended")
        case (false, false):
            inMessage = true
        }
        if !oversized {
            if bytes.count + payload.readableBytes > readLimit {
                oversized = true
                bytes = []
            } else {
                bytes.append(contentsOf: payload.readableBytesView)
            }
        }
        guard fin else { return .partial }
        defer {
            bytes = []
            inMessage = false
            oversized = false
        }
        return oversized ? .oversized : .complete(bytes)
    }
}

/// Writes a session's outbox through the WebSocket handler, for a connection that agreed
/// to permessage-deflate: the handler's extension compresses each frame, which the
/// `OutboxPump`'s direct channel writes would skip. One task and an await per frame, paid
/// only by connections that chose to trade CPU for bytes.
struct CompressingOutboxWriter: Sendable {
    let outbox: Outbox
    let outbound: WebSocketOutboundWriter
    let eventLoop: any EventLoop
    let wire: WireMetrics
    let opcode: WebSocketOpcode

    func start() -> EventLoopFuture<Outbox.Ending> {
        let drained = eventLoop.makePromise(of: Outbox.Ending.self)
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        outbox.onReady { wake.yield() }
        Task {
            do {
                drained.succeed(try await write(on: wakeups))
            } catch {
                drained.fail(error)
            }
        }
        return drained.futureResult
    }

    private func write(on wakeups: AsyncStream<Void>) async throws -> Outbox.Ending {
        for await _ in wakeups {
            while true {
                switch outbox.take() {
                case .idle:
                    break
                case .ended(let ending):
                    return ending
                case .frames(let frames):
                    for frame in frames {
                        var data = ByteBuffer()
                        data.reserveCapacity(frame.byteCount)
                        frame.forEachPiece { data.writeBytes($0) }
                        wire.recordRelayMessage(head: frame.head, bytes: frame.byteCount)
                        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: data)))
                    }
                    continue
                }
                break
            }
        }
        return .closed
    }
}

/// Writes a session's outbox to its channel, on the channel's event loop.
///
/// Woken by the outbox when frames arrive, it writes every queued frame with one flush and
/// takes the next batch only once the last write has completed: NIO holds at most one batch
/// and the rest waits in the bounded outbox, which is the back-pressure. Measured on the
/// fan-out bench, a writer task per connection paid two task switches and an event-loop
/// hop per delivery; this pays one hop per batch.
///
/// A batch is encoded here into one buffer of whole WebSocket frames and handed to the
/// pipeline below the frame encoder, so that it costs one write and one `writev` of one
/// piece however many messages it holds. Written as separate `WebSocketFrame`s, each
/// message went through every handler and the encoder's separate header buffer: a REQ
/// answering 100 events was 100 pipeline writes and 200 iovecs, 22% of the relay's CPU
/// in the query benchmark.
struct OutboxPump: Sendable {
    let outbox: Outbox
    let channel: any Channel
    let wire: WireMetrics
    /// Text for NIP-01's JSON, binary for axon's MessagePack.
    let opcode: WebSocketOpcode
    /// The frame encoder's place in the pipeline, looked up at the first batch: writes from
    /// it go on towards the socket (through TLS, if any) without being encoded again. Once
    /// the channel closes and the encoder is removed, a write from it fails.
    private let encoder: NIOLoopBoundBox<ChannelHandlerContext?>

    init(outbox: Outbox, channel: any Channel, wire: WireMetrics, opcode: WebSocketOpcode) {
        self.outbox = outbox
        self.channel = channel
        self.wire = wire
        self.opcode = opcode
        encoder = .makeEmptyBox(valueType: ChannelHandlerContext.self, eventLoop: channel.eventLoop)
    }

    /// Starts pumping; the future succeeds with how the outbox ended once it is written
    /// out, and fails with the first write error.
    func start() -> EventLoopFuture<Outbox.Ending> {
        let drained = channel.eventLoop.makePromise(of: Outbox.Ending.self)
        outbox.onReady { [self] in
            channel.eventLoop.execute { pump(into: drained) }
        }
        return drained.futureResult
    }

    private func pump(into drained: EventLoopPromise<Outbox.Ending>) {
        switch outbox.take() {
        case .idle:
            return
        case .ended(let ending):
            drained.succeed(ending)
        case .frames(let frames):
            if encoder.value == nil {
                encoder.value = try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
            }
            guard let encoder = encoder.value else { return drained.fail(ChannelError.ioOnClosedChannel) }
            var data = channel.allocator.buffer(capacity: frames.reduce(0) { $0 + $1.byteCount + Self.maxHeaderSize })
            for frame in frames {
                data.writeServerFrameHeader(opcode: opcode, payloadLength: frame.byteCount)
                frame.forEachPiece { data.writeBytes($0) }
            }
            wire.recordRelayMessages(frames)
            let written = channel.eventLoop.makePromise(of: Void.self)
            encoder.writeAndFlush(NIOAny(data), promise: written)
            written.futureResult.whenComplete { result in
                switch result {
                // Queued rather than called: a write that completes at once would otherwise
                // recurse here for as long as producers keep the outbox busy.
                case .success: channel.eventLoop.execute { pump(into: drained) }
                // Nothing more is taken: the outbox stays busy, so it never wakes this again.
                case .failure(let error): drained.fail(error)
                }
            }
        }
    }

    /// The longest header of an unmasked frame: two bytes and an 8-byte length.
    static let maxHeaderSize = 10
}

extension ByteBuffer {
    /// Writes the header of one final, unmasked frame (RFC 6455 §5.2: a server never masks),
    /// its payload length in the shortest of the three forms.
    mutating func writeServerFrameHeader(opcode: WebSocketOpcode, payloadLength: Int) {
        writeInteger(0x80 | UInt8(webSocketOpcode: opcode))
        switch payloadLength {
        case ..<126:
            writeInteger(UInt8(payloadLength))
        case ..<65_536:
            writeInteger(UInt8(126))
            writeInteger(UInt16(payloadLength))
        default:
            writeInteger(UInt8(127))
            writeInteger(UInt64(payloadLength))
        }
    }
}
