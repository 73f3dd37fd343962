import Synchronization

/// Waits for an operation at most a given time.
///
/// A database that is down or stalled must cost a client an `error:` answer within seconds,
/// not a hung request. Cancelling a task is not enough for that: postgres-nio stops waiting
/// for a pooled connection when cancelled, but not for the answer to a query already sent,
/// and a structured timeout (a task group) would still wait for the operation to return.
/// So the operation runs in a task of its own and the caller is resumed by whichever comes
/// first, the result or the deadline; a late operation is cancelled and finishes unobserved.
///
/// ```swift
/// let rows = try await Deadline.run(.seconds(5), "query") { try await client.query(sql) }
/// ```
enum Deadline {
    static func run<T: Sendable>(
        _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do {
                        race.finish(.success(try await operation()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                let timer = Task {
                    guard (try? await Task.sleep(for: limit)) != nil else { return }
                    race.finish(.failure(StoreError.timedOut("PostgreSQL did not answer the \(what) within \(limit)")))
                }
                race.attach([work, timer])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// Resumes the caller once, with the first outcome, and then cancels both tasks.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            /// The outcome when it came before the caller was suspended.
            var outcome: Result<T, any Error>?
            var tasks: [Task<Void, Never>] = []
            var done = false
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            let outcome = state.withLock { state -> Result<T, any Error>? in
                if state.done { return state.outcome }
                state.continuation = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }

        func attach(_ tasks: [Task<Void, Never>]) {
            let done = state.withLock { state in
                if !state.done { state.tasks = tasks }
                return state.done
            }
            if done { for task in tasks { task.cancel() } }
        }

        func finish(_ outcome: Result<T, any Error>) {
            let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
                guard !state.done else { return (nil, []) }
                state.done = true
                defer { state.continuation = nil; state.tasks = [] }
                if state.continuation == nil { state.outcome = outcome }
                return (state.continuation, state.tasks)
            }
            continuation?.resume(with: outcome)
            for task in tasks { task.cancel() }
        }
    }
}
