public import NostrCore
import Synchronization

/// The bounded queue of frames waiting to be written to one connection.
///
/// Producers (the session's own replies and fan-out from other connections) never wait:
/// `send` appends or, past the byte limit, marks the consumer as too slow. The connection's
/// writer drains it in batches. A slow consumer is cut off rather than allowed to grow the
/// relay's memory without bound.
///
/// The consumer is woken by a callback rather than by resuming a task: at fan-out rates
/// (a thousand subscribers, hundreds of events a second) a task switch per delivery was the
/// larger part of its cost, while a callback lets the transport drain on its own event loop.
///
/// ```swift
/// let outbox = Outbox(byteLimit: 8 << 20)
/// outbox.onReady { loop.execute { drain() } }   // drain() calls take() until .idle or .ended
/// outbox.send(.eose(subscription))
/// ```
public final class Outbox: Sendable {
    /// Why the outbox stopped taking frames.
    public enum Ending: Sendable, Equatable {
        /// The connection is closing normally.
        case closed
        /// More than the byte limit was queued: the consumer fell behind.
        case overflow
    }

    /// What `take` hands the consumer.
    public enum Batch: Sendable, Equatable {
        /// Every frame queued, oldest first.
        case frames([OutboundFrame])
        /// Nothing queued: the consumer is idle until its `onReady` callback runs.
        case idle
        /// The outbox has ended and nothing is left to write.
        case ended(Ending)
    }

    private struct State {
        /// Only appended to, and taken whole: handed over as it is, not copied.
        var frames: [OutboundFrame] = []
        var queuedBytes = 0
        var ending: Ending?
        /// Whether the consumer has been told there is nothing and waits to be woken.
        var consumerIdle = true
        var wake: (@Sendable () -> Void)?
        var overflowHandler: (@Sendable () -> Void)?

        /// The consumer's wake-up, if it is idle and has one; it is then no longer idle.
        mutating func wakeConsumer() -> (@Sendable () -> Void)? {
            guard consumerIdle, let wake else { return nil }
            consumerIdle = false
            return wake
        }
    }

    public let byteLimit: Int
    private let state = Mutex(State())

    public init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    /// Queues one message; `false` when the outbox has ended (closed or overflowed).
    @discardableResult
    public func send(_ message: RelayMessage) -> Bool {
        send(frame: message.encoded())
    }

    /// Called once when the outbox overflows. The connection's writer may be stuck in a
    /// write to a socket that never drains, so the transport must close the connection
    /// itself rather than wait for the writer to notice.
    public func onOverflow(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.overflowHandler = handler }
    }

    /// Sets the consumer's wake-up, called (on the producer's thread, outside any lock)
    /// whenever frames arrive or the outbox ends while the consumer is idle; the consumer
    /// then calls `take` until it answers `.idle` or `.ended`. Called at once if there is
    /// something to take already. Set it once.
    public func onReady(_ wake: @escaping @Sendable () -> Void) {
        let wakeNow = state.withLock { state -> (@Sendable () -> Void)? in
            state.wake = wake
            return state.frames.isEmpty && state.ending == nil ? nil : state.wakeConsumer()
        }
        wakeNow?()
    }

    /// Queues one encoded message; `false` when the outbox has ended.
    @discardableResult
    public func send(frame: [UInt8]) -> Bool {
        send(OutboundFrame(message: frame))
    }

    /// Queues an EVENT message: a subscription's `prefix` (`RelayMessage.eventPrefix`),
    /// then the stored event's JSON, shared rather than copied. `false` when the outbox has
    /// ended.
    @discardableResult
    public func send(event json: [UInt8], after prefix: [UInt8]) -> Bool {
        send(OutboundFrame(eventPrefix: prefix, json: json))
    }

    /// Queues an EVENT message for each of `events` (stored JSON), then `message` if any,
    /// under one lock: a REQ's answer, often its limit of 100 or more, and its EOSE.
    /// `false` when the outbox has ended.
    @discardableResult
    public func send(events: some Sequence<[UInt8]>, after prefix: [UInt8], then message: RelayMessage? = nil) -> Bool {
        var frames = events.map { OutboundFrame(eventPrefix: prefix, json: $0) }
        if let message { frames.append(OutboundFrame(message: message.encoded())) }
        return send(frames)
    }

    /// Queues a binary message made of a subscription's `prefix` and an encoded event that
    /// other outboxes share (axon's MessagePack map), written back to back with nothing
    /// after. `false` when the outbox has ended.
    @discardableResult
    public func send(encodedEvent event: [UInt8], after prefix: [UInt8]) -> Bool {
        send(OutboundFrame(prefix: prefix, encodedEvent: event))
    }

    private func send(_ frame: OutboundFrame) -> Bool {
        send(CollectionOfOne(frame))
    }

    private func send(_ frames: some Collection<OutboundFrame>) -> Bool {
        guard !frames.isEmpty else { return state.withLock { $0.ending == nil } }
        let bytes = frames.reduce(0) { $0 + $1.byteCount }
        typealias Outcome = (Bool, (@Sendable () -> Void)?, (@Sendable () -> Void)?)
        let (accepted, wake, overflowHandler) = state.withLock { state -> Outcome in
            guard state.ending == nil else { return (false, nil, nil) }
            var overflowHandler: (@Sendable () -> Void)?
            if state.queuedBytes + bytes > byteLimit {
                state.ending = .overflow
                state.frames.removeAll()
                state.queuedBytes = 0
                overflowHandler = state.overflowHandler
            } else {
                state.frames.append(contentsOf: frames)
                state.queuedBytes += bytes
            }
            return (state.ending == nil, state.wakeConsumer(), overflowHandler)
        }
        wake?()
        overflowHandler?()
        return accepted
    }

    /// Ends the outbox; frames already queued are still handed out by `take`.
    public func close() {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.ending == nil else { return nil }
            state.ending = .closed
            return state.wakeConsumer()
        }
        wake?()
    }

    /// How the outbox ended, once it has.
    public var ending: Ending? { state.withLock { $0.ending } }

    /// Takes every frame queued. Only the consumer calls this, one call at a time.
    public func take() -> Batch {
        state.withLock { state in
            if !state.frames.isEmpty {
                let frames = state.frames
                state.frames = []
                state.queuedBytes = 0
                return .frames(frames)
            }
            if let ending = state.ending { return .ended(ending) }
            state.consumerIdle = true
            return .idle
        }
    }
}

/// One message waiting in an outbox, as the pieces it is written from: the whole message,
/// or a subscription's prefix and an event's bytes, which many outboxes share. A NIP-01
/// EVENT (`["EVENT","<id>",` and the stored JSON) ends with `]`; an axon event frame (its
/// array header and subscription, then the event's map) ends with the map.
public struct OutboundFrame: Sendable, Equatable {
    /// The message, or the prefix before `event`.
    public let head: [UInt8]
    /// An event's bytes, shared with other outboxes.
    public let event: [UInt8]?
    /// Whether `]` follows `event`: the NIP-01 array it sits in is still open.
    let closesArray: Bool

    init(message: [UInt8]) {
        head = message
        event = nil
        closesArray = false
    }

    init(eventPrefix: [UInt8], json: [UInt8]) {
        head = eventPrefix
        event = json
        closesArray = true
    }

    init(prefix: [UInt8], encodedEvent: [UInt8]) {
        head = prefix
        event = encodedEvent
        closesArray = false
    }

    /// The message's length in bytes.
    public var byteCount: Int { head.count + (event?.count ?? 0) + (closesArray ? 1 : 0) }

    /// The message's bytes, piece by piece in order: the one place that knows how a frame
    /// is laid out, for every writer.
    public func forEachPiece(_ body: ([UInt8]) -> Void) {
        body(head)
        if let event { body(event) }
        if closesArray { body(Self.closingBracket) }
    }

    private static let closingBracket: [UInt8] = [UInt8(ascii: "]")]
}
