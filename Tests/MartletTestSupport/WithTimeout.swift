/// Runs `body`, throwing `TimedOut` if it takes longer than `timeout` (and cancelling it).
///
/// ```swift
/// let port = try await withTimeout(.seconds(60)) { try await readPort() }
/// ```
public func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut() }
        return value
    }
}
