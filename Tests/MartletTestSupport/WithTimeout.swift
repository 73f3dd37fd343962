/// Runs `body`, throwing `TimedOut` if it takes longer than `timeout` (and cancelling it).
///
/// `body` runs in a task of its own rather than a task group's child: a group waits for
/// every child to end, so a body that ignores cancellation would hang the caller at the
/// very moment the deadline should have freed it. A body that overruns is cancelled and
/// left to end in the background.
///
/// ```swift
/// let port = try await withTimeout(.seconds(60)) { try await readPort() }
/// ```
public func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await body() }
    // The first of two outcomes: the body's result, or nil when the deadline passes.
    let (outcomes, outcome) = AsyncStream.makeStream(of: Result<T, any Error>?.self)
    Task { outcome.yield(await work.result) }
    let deadline = Task {
        try? await Task.sleep(for: timeout)
        outcome.yield(nil)
    }
    var first = outcomes.makeAsyncIterator()
    let result = await first.next() ?? nil
    deadline.cancel()
    guard let result else {
        work.cancel()
        throw TimedOut()
    }
    return try result.get()
}
