import NostrCore
import Synchronization

/// The messages a relay sent for one conversation of a `RelayClient` (a subscription,
/// a negentropy session, the `OK` of one event), waiting for the one task that reads them.
///
/// The connection's reader pushes without ever waiting; the consumer takes everything
/// queued at once, or waits for the next message up to a timeout. Once the connection
/// ends, the consumer gets what was queued and then the failure.
///
/// ```swift
/// let mailbox = Mailbox()
/// mailbox.push(.eose(subscription))                      // the connection's reader
/// let messages = try await mailbox.next(timeout: .seconds(30))
/// ```
final class Mailbox: Sendable {
    private struct Waiter {
        var ticket: UInt64
        var continuation: CheckedContinuation<[RelayMessage], any Error>
        var timer: Task<Void, Never>?
    }

    private struct State {
        var messages: [RelayMessage] = []
        var failure: RelayClientError?
        var waiter: Waiter?
        var tickets: UInt64 = 0
    }

    private let state = Mutex(State())

    func push(_ message: RelayMessage) {
        let woken = state.withLock { state -> Waiter? in
            guard state.failure == nil else { return nil }
            guard let waiter = state.waiter else {
                state.messages.append(message)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        woken?.timer?.cancel()
        woken?.continuation.resume(returning: [message])
    }

    /// Ends the mailbox: the waiting consumer, and every later `next`, fail with `error`
    /// once the queued messages are taken.
    func fail(_ error: RelayClientError) {
        let woken = state.withLock { state -> Waiter? in
            if state.failure == nil { state.failure = error }
            defer { state.waiter = nil }
            return state.waiter
        }
        woken?.timer?.cancel()
        woken?.continuation.resume(throwing: error)
    }

    /// Every queued message (at least one), waiting up to `timeout` for the first;
    /// `waitingFor` names what was awaited in the timeout error.
    func next(timeout: Duration, waitingFor: @autoclosure () -> String = "a reply") async throws -> [RelayMessage] {
        let what = waitingFor()
        let ticket = state.withLock { state in
            state.tickets += 1
            return state.tickets
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<[RelayMessage], any Error>? in
                    if !state.messages.isEmpty {
                        defer { state.messages.removeAll(keepingCapacity: true) }
                        return .success(state.messages)
                    }
                    if let failure = state.failure { return .failure(failure) }
                    // Cancelled before this wait began: the cancellation handler has run
                    // already and found no waiter, so nothing else would end this one.
                    if Task.isCancelled { return .failure(RelayClientError.cancelled) }
                    state.waiter = Waiter(ticket: ticket, continuation: continuation)
                    return nil
                }
                if let ready {
                    continuation.resume(with: ready)
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    if Task.isCancelled { return }
                    self?.expire(ticket, with: .timedOut(what))
                }
                let stillWaiting = state.withLock { state in
                    guard state.waiter?.ticket == ticket else { return false }
                    state.waiter?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            expire(ticket, with: .cancelled)
        }
    }

    private func expire(_ ticket: UInt64, with error: RelayClientError) {
        let woken = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter, waiter.ticket == ticket else { return nil }
            state.waiter = nil
            return waiter
        }
        woken?.timer?.cancel()
        woken?.continuation.resume(throwing: error)
    }
}
