import NostrCore
import Synchronization

/// The events waiting to be sent to one peer over its current connection.
///
/// The relay's ingest path appends and never waits: while the peer is not connected, or
/// once more than `capacity` events wait, events are dropped instead, since the catch-up
/// that starts every connection sends whatever the peer lacks. Several senders take from
/// it at once; `close` (or cancelling a sender) wakes them with nil.
///
/// ```swift
/// let queue = PeerQueue(capacity: 50_000)
/// queue.open()                    // connected
/// queue.append(event)             // the relay accepted an event
/// while let event = await queue.next() { try await client.publish(event) }
/// ```
final class PeerQueue: Sendable {
    private struct State {
        var events: [Event] = []
        var head = 0
        var isOpen = false
        var overflowed = false
        var waiters: [UInt64: CheckedContinuation<Event?, Never>] = [:]
        var tickets: UInt64 = 0

        var count: Int { events.count - head }

        mutating func takeWaiters() -> [CheckedContinuation<Event?, Never>] {
            defer { waiters = [:] }
            return Array(waiters.values)
        }

        mutating func popFirst() -> Event? {
            guard head < events.count else { return nil }
            defer {
                head += 1
                // Give the consumed front back now and then rather than on every take.
                if head >= 1024, head * 2 >= events.count {
                    events.removeFirst(head)
                    head = 0
                }
            }
            return events[head]
        }
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Starts taking events, empty (a connection is up).
    func open() {
        state.withLock { state in
            state.events = []
            state.head = 0
            state.overflowed = false
            state.isOpen = true
        }
    }

    /// Stops taking events, drops the queued ones and wakes every waiting sender with nil.
    func close() {
        let waiters = state.withLock { state in
            state.isOpen = false
            state.events = []
            state.head = 0
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Whether more than `capacity` events came while open, which closed the queue.
    var overflowed: Bool { state.withLock { $0.overflowed } }

    func append(_ event: Event) {
        enum Outcome { case dropped, handed(CheckedContinuation<Event?, Never>), queued, overflowed([CheckedContinuation<Event?, Never>]) }
        let outcome = state.withLock { state -> Outcome in
            guard state.isOpen else { return .dropped }
            if let ticket = state.waiters.keys.first, let waiter = state.waiters.removeValue(forKey: ticket) {
                return .handed(waiter)
            }
            guard state.count < capacity else {
                state.isOpen = false
                state.overflowed = true
                state.events = []
                state.head = 0
                return .overflowed(state.takeWaiters())
            }
            state.events.append(event)
            return .queued
        }
        switch outcome {
        case .handed(let waiter): waiter.resume(returning: event)
        case .overflowed(let waiters): for waiter in waiters { waiter.resume(returning: nil) }
        case .dropped, .queued: break
        }
    }

    /// The next event, waiting for one; nil once the queue is closed or the task cancelled.
    func next() async -> Event? {
        let ticket = state.withLock { state in
            state.tickets += 1
            return state.tickets
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Event?? = state.withLock { state in
                    if let event = state.popFirst() { return .some(event) }
                    if !state.isOpen || Task.isCancelled { return .some(nil) }
                    state.waiters[ticket] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume(returning: nil)
        }
    }
}
