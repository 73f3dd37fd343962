import Foundation
import Synchronization

/// Decides whether a store's read may run on its caller's thread, and for how long.
///
/// Handing a read to one of GRDB's reader queues and back wakes two threads. On the REQ path
/// that was most of what a REQ that matches nothing cost, and about a tenth of a REQ with
/// a hundred events. The caller's thread is one of Swift's cooperative threads, one per core.
/// A read run there must therefore be short and must never wait. It runs inline only when:
/// - fewer inline reads than cores are running in the whole process, which may open many
///   stores (hosted relays, tests);
/// - one of this store's readers is free, so GRDB does not block the thread waiting for one.
///   Every read of the store is counted from before it asks for a reader until it is done;
/// - and only for `slice`. A read that outlasts it is stopped (`SQLiteQueryBudget`) and run
///   again on a reader's queue with its whole budget. The threads every other task needs are
///   then held for a few milliseconds at most, whatever a client asks for.
///
/// ```swift
/// if inline.enter() {
///     defer { inline.leave() }
///     // run it here, within inline.slice
/// }
/// ```
final class InlineReads: Sendable {
    /// Inline reads running in this process.
    private static let running = Atomic<Int>(0)
    /// At most one per thread of Swift's cooperative pool, which has one per core.
    static let processLimit = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// How long a read may run inline before it is handed to a reader.
    let slice: Duration
    /// The store's readers (`Options.readerCount`).
    private let readerCount: Int
    /// Reads of the store in progress, inline or on a reader's queue.
    private let reads = Atomic<Int>(0)
    /// Inline reads that outlasted `slice` and ran again on a reader.
    private let handedOnCount = Atomic<Int>(0)

    init(readerCount: Int, slice: Duration) {
        self.readerCount = max(1, readerCount)
        self.slice = slice
    }

    /// Inline reads that outlasted `slice` and ran again on a reader's queue.
    var handedOn: Int { handedOnCount.load(ordering: .relaxed) }

    /// Takes an inline slot: true when the read may run here; then call `leave()` after it.
    func enter() -> Bool {
        // Counted first, checked after: two callers racing for the last slot cannot both
        // see it free.
        let storeReads = reads.wrappingAdd(1, ordering: .acquiring).newValue
        let processReads = Self.running.wrappingAdd(1, ordering: .acquiring).newValue
        guard storeReads <= readerCount, processReads <= Self.processLimit else {
            leave()
            return false
        }
        return true
    }

    func leave() {
        Self.running.wrappingSubtract(1, ordering: .releasing)
        reads.wrappingSubtract(1, ordering: .releasing)
    }

    /// Notes a read that outlasted its slice.
    func noteHandedOn() {
        handedOnCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts `read`, which runs on a reader's queue, as in progress while it runs.
    func counting<T>(_ read: () async throws -> T) async rethrows -> T {
        reads.wrappingAdd(1, ordering: .acquiring)
        defer { reads.wrappingSubtract(1, ordering: .releasing) }
        return try await read()
    }

    /// Counts a synchronous `read` as in progress while it runs.
    func counting<T>(_ read: () throws -> T) rethrows -> T {
        reads.wrappingAdd(1, ordering: .acquiring)
        defer { reads.wrappingSubtract(1, ordering: .releasing) }
        return try read()
    }
}
