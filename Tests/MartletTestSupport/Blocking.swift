import Foundation

/// Runs `work`, which blocks (a pipe read to its end, a child's exit), on a thread of its own
/// instead of one of the cooperative pool's.
///
/// The pool has one thread per core, two on the machines this suite runs on, and every
/// relay a test starts in this process runs on it. A test that blocked one of them (a
/// `Task.detached` reading a child's output is still on the pool) halved everyone's
/// progress, and two at once stalled every relay in the process: relays then missed
/// their 20 s to stop, a dozen tests at a time, on a loaded machine.
///
/// ```swift
/// let output = try await blocking { pipe.fileHandleForReading.readDataToEndOfFile() }
/// ```
public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// `blocking` for work that cannot fail.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}
