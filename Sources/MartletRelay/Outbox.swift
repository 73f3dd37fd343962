import DequeModule
public import NostrCore
import Synchronization

/// The bounded queue of frames waiting to be written to one connection.
///
/// Producers (the session's own replies and fan-out from other connections) never wait:
/// `send` appends or, past the byte limit, marks the consumer as too slow. The connection's
/// writer drains it in batches. A slow consumer is cut off rather than allowed to grow the
/// relay's memory without bound.
///
/// ```swift
/// let outbox = Outbox(byteLimit: 8 << 20)
/// outbox.send(.eose(subscription))
/// while let frames = await outbox.nextBatch() { for frame in frames { try await write(frame) } }
/// ```
public final class Outbox: Sendable {
    /// Why the outbox stopped taking frames.
    public enum Ending: Sendable, Equatable {
        /// The connection is closing normally.
        case closed
        /// More than the byte limit was queued: the consumer fell behind.
        case overflow
    }

    private struct State {
        var frames = Deque<[UInt8]>()
        var queuedBytes = 0
        var ending: Ending?
        var waiter: CheckedContinuation<Void, Never>?
        var overflowHandler: (@Sendable () -> Void)?
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

    /// Queues one encoded frame; `false` when the outbox has ended.
    @discardableResult
    public func send(frame: [UInt8]) -> Bool {
        typealias Outcome = (Bool, CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?)
        let (accepted, waiter, overflowHandler) = state.withLock { state -> Outcome in
            guard state.ending == nil else { return (false, nil, nil) }
            var overflowHandler: (@Sendable () -> Void)?
            if state.queuedBytes + frame.count > byteLimit {
                state.ending = .overflow
                state.frames.removeAll()
                state.queuedBytes = 0
                overflowHandler = state.overflowHandler
            } else {
                state.frames.append(frame)
                state.queuedBytes += frame.count
            }
            let waiter = state.waiter
            state.waiter = nil
            return (state.ending == nil, waiter, overflowHandler)
        }
        waiter?.resume()
        overflowHandler?()
        return accepted
    }

    /// Ends the outbox; frames already queued are still handed out by `nextBatch`.
    public func close() {
        let waiter = state.withLock { state in
            if state.ending == nil { state.ending = .closed }
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// How the outbox ended, once it has.
    public var ending: Ending? { state.withLock { $0.ending } }

    /// Waits for frames and takes all that are queued; `nil` once the outbox has ended and
    /// nothing is left. Only one consumer may call this.
    public func nextBatch() async -> [[UInt8]]? {
        while true {
            enum Step { case frames([[UInt8]]), finished, wait }
            let step: Step = state.withLock { state in
                if !state.frames.isEmpty {
                    let frames = Array(state.frames)
                    state.frames.removeAll(keepingCapacity: true)
                    state.queuedBytes = 0
                    return .frames(frames)
                }
                return state.ending == nil ? .wait : .finished
            }
            switch step {
            case .frames(let frames): return frames
            case .finished: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state in
                        if !state.frames.isEmpty || state.ending != nil { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }
}
