import Dispatch
import MartletStore
import Synchronization

/// A stand-in for the WAL's fsync that holds until the test lets it finish, so that a test
/// can see what the store does while a commit waits to be made durable. It counts the
/// syncs that began.
///
/// ```swift
/// let held = HeldSync()
/// let syncer = WALSyncer(sync: held.sync)
/// #expect(await waitUntil { held.begunCount == 1 })
/// held.finishOne()
/// ```
public final class HeldSync: Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let begun = Mutex(0)
    private let failures = Mutex(0)

    public init() {}

    public var begunCount: Int { begun.withLock { $0 } }

    /// The next `count` syncs throw instead of syncing.
    public func fail(next count: Int) { failures.withLock { $0 = count } }

    /// Lets one sync, held or still to begin, finish.
    public func finishOne() { release.signal() }

    @Sendable public func sync() throws {
        begun.withLock { $0 += 1 }
        release.wait()
        let fails = failures.withLock { failures in
            defer { failures = max(0, failures - 1) }
            return failures > 0
        }
        if fails { throw StoreError("the disk refused") }
    }
}
