import Synchronization

/// The events of one connection being verified and written at once, on either wire.
///
/// Up to `limit` run in tasks of their own, so a connection's reader goes on to its next
/// message while a write waits for its group commit. Past the bound the reader runs the
/// event itself and waits for it: a client that floods EVENTs is slowed to the relay's
/// pace instead of growing a queue of tasks.
///
/// ```swift
/// await inFlight.run { await self.finishEvent(event) }
/// ```
final class EventsInFlight: Sendable {
    /// Events from one connection in progress at once, at most.
    static let limit = 256

    private let count = Atomic<Int>(0)

    func run(_ work: @escaping @Sendable () async -> Void) async {
        let inFlight = count.wrappingAdd(1, ordering: .relaxed).newValue
        if inFlight > Self.limit {
            await finish(work)
        } else {
            Task { await self.finish(work) }
        }
    }

    private func finish(_ work: @Sendable () async -> Void) async {
        await work()
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}
