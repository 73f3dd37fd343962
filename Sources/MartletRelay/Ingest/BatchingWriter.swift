public import MartletStore
public import NostrCore
import Synchronization

/// The one writer of a store: gathers events from every connection and commits them in
/// batches, one transaction per batch (group commit).
///
/// A caller's `write` returns only after its event's transaction committed, which is what
/// lets the relay answer `OK` truthfully. While one batch commits the next one gathers, so
/// under load each transaction carries many events and the per-event cost of a commit
/// shrinks.
///
/// ```swift
/// let writer = BatchingWriter(store: store, batchSize: 512)
/// async let loop: Void = writer.run()
/// let result = try await writer.write(event)
/// ```
public final class BatchingWriter: Sendable {
    private struct Pending {
        var event: Event
        var continuation: CheckedContinuation<SaveResult, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopping = false
    }

    private let store: any EventStore
    private let batchSize: Int
    private let state = Mutex(State())

    public init(store: any EventStore, batchSize: Int) {
        self.store = store
        self.batchSize = batchSize
    }

    /// Queues `event` and waits until it is committed. Throws once the writer is stopping.
    public func write(_ event: Event) async throws -> SaveResult {
        try await withCheckedThrowingContinuation { continuation in
            let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.stopping else { return (false, nil) }
                state.pending.append(Pending(event: event, continuation: continuation))
                let waiter = state.waiter
                state.waiter = nil
                return (true, waiter)
            }
            if accepted {
                waiter?.resume()
            } else {
                continuation.resume(throwing: StoreError("the relay is shutting down"))
            }
        }
    }

    /// Commits batches until `stop()` is called, then commits everything still queued and
    /// returns.
    ///
    /// The next batch goes to the store as soon as this one has committed, while the store
    /// may still be making it durable (`EventStore.save(_:whenCommitted:)`): each batch's
    /// writers are answered when theirs is durable, and the store's writer is not left idle
    /// during an fsync.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while let batch = await nextBatch() {
                // Resumed once the batch has committed (or failed); its writers are
                // answered by the child task, once it is durable.
                await withCheckedContinuation { committed in
                    let resume = Once { committed.resume() }
                    group.addTask { [store] in
                        do {
                            let results = try await store.save(batch.map(\.event), whenCommitted: resume.run)
                            for (pending, result) in zip(batch, results) { pending.continuation.resume(returning: result) }
                        } catch {
                            for pending in batch { pending.continuation.resume(throwing: error) }
                        }
                        resume.run()
                    }
                }
            }
        }
    }

    /// The next batch, waiting while none is queued; nil once stopping with nothing left.
    private func nextBatch() async -> [Pending]? {
        while true {
            let (batch, finished) = state.withLock { state -> ([Pending], Bool) in
                let count = min(state.pending.count, batchSize)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return (batch, batch.isEmpty && state.stopping)
            }
            if finished { return nil }
            if !batch.isEmpty { return batch }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if !state.pending.isEmpty || state.stopping { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Refuses new writes; `run()` returns once everything already queued is committed.
    public func stop() {
        let waiter = state.withLock { state in
            state.stopping = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}

/// An action run the first time `run` is called and never again.
private final class Once: Sendable {
    private let action: Mutex<(@Sendable () -> Void)?>

    init(_ action: @escaping @Sendable () -> Void) {
        self.action = Mutex(action)
    }

    func run() {
        let action = self.action.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }
}
