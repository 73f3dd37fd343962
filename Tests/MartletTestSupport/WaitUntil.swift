/// Polls `condition` until it holds or `timeout` passes, and says whether it held: a loaded
/// 2-core machine is slow, not wrong, so tests wait for a state rather than for a duration.
///
/// ```swift
/// #expect(await waitUntil { relay.connectionCount == 0 })
/// ```
@discardableResult
public func waitUntil(
    timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
