/// Messages received on one connection, waiting to be read by the test, in arrival order.
///
/// ```swift
/// let box = MessageBox()
/// await box.push(#"["EOSE","s"]"#)
/// await box.take(timeout: .seconds(1))   // .message(#"["EOSE","s"]"#)
/// ```
public actor MessageBox {
    public enum Outcome: Sendable {
        case message(String)
        case closed
        case timedOut
    }

    private var buffer: [String] = []
    private var start = 0
    private var closed = false
    private var waiter: (ticket: Int, continuation: CheckedContinuation<Outcome, Never>)?
    private var tickets = 0

    public init() {}

    public func push(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .message(text))
        } else {
            buffer.append(text)
        }
    }

    public func close() {
        closed = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .closed)
        }
    }

    public func take(timeout: Duration) async -> Outcome {
        if start < buffer.count {
            defer { start += 1 }
            return .message(buffer[start])
        }
        if closed { return .closed }
        tickets += 1
        let ticket = tickets
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(ticket)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            waiter = (ticket, continuation)
        }
    }

    /// The next message parsed; throws `TimedOut` after `timeout`, `ConnectionClosed` at the end.
    public nonisolated func next(timeout: Duration) async throws -> ReceivedMessage {
        switch await take(timeout: timeout) {
        case .message(let text): return try ReceivedMessage(text)
        case .closed: throw ConnectionClosed()
        case .timedOut: throw TimedOut()
        }
    }

    private func expire(_ ticket: Int) {
        guard let waiter, waiter.ticket == ticket else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: .timedOut)
    }
}
