import Foundation
import Synchronization

/// Makes committed transactions durable by syncing the WAL file on a thread of its own, so
/// that the one writer commits the next batch while the disk takes the last one.
///
/// SQLite's `synchronous=FULL` syncs inside the commit: the writer then waits out every
/// fsync (2–3 ms each here; it sat idle a fifth of the ingest benchmark's time). The writer
/// commits with `NORMAL` instead, which writes a transaction's frames and its commit frame
/// to the WAL without syncing; `untilSynced()` then returns once an `fdatasync` of the WAL
/// that began after the call has completed, and that covers every frame written before
/// it. Callers that arrive while a sync runs share the next one, so a sync covers every
/// batch committed meanwhile.
///
/// Why a sync of the WAL suffices: SQLite recovers a WAL up to its last valid commit
/// frame, and it syncs the WAL's header itself whenever it starts the file over. Frames
/// that a checkpoint has copied back are synced into the database file by the checkpoint
/// before the WAL can be started over and overwritten.
///
/// ```swift
/// let syncer = WALSyncer(walPath: path + "-wal")
/// let results = try await commit(batch)     // synchronous=NORMAL: no fsync here
/// try await syncer.untilSynced()             // now `OK true` may be sent
/// ```
final class WALSyncer: Sendable {
    private struct Waiter {
        var ticket: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// The ticket of the latest call; a sync that reads it covers every call up to it.
        var lastTicket: UInt64 = 0
        var waiters: [Waiter] = []
        var syncing = false
        var syncsCompleted = 0
    }

    private let sync: @Sendable () throws -> Void
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "martlet.store.wal-sync")

    /// Syncs the file at `walPath`, opened afresh for each sync so that it is always the
    /// file SQLite writes. A WAL that does not exist holds nothing to sync: SQLite removes
    /// it only after checkpointing it into the synced database file.
    convenience init(walPath: String) {
        self.init {
            let descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT { return }
                throw StoreError("cannot open \(walPath) to sync it: \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            guard fdatasync(descriptor) == 0 else {
                throw StoreError("cannot sync \(walPath): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A syncer that runs `sync` for each sync, on its own queue.
    init(sync: @escaping @Sendable () throws -> Void) {
        self.sync = sync
    }

    /// How many syncs have completed since the syncer was made.
    var syncsCompleted: Int { state.withLock { $0.syncsCompleted } }

    /// How many callers wait for a sync.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns once a sync that began after this call has completed; throws that sync's
    /// error.
    func untilSynced() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startSyncing = state.withLock { state in
                state.lastTicket += 1
                state.waiters.append(Waiter(ticket: state.lastTicket, continuation: continuation))
                guard !state.syncing else { return false }
                state.syncing = true
                return true
            }
            if startSyncing { queue.async { self.syncWhileWaited() } }
        }
    }

    /// Syncs until no caller waits, resuming after each sync the callers it covers.
    private func syncWhileWaited() {
        while true {
            let covered = state.withLock { $0.lastTicket }
            let result = Result { try sync() }
            let (finished, more) = state.withLock { state -> ([Waiter], Bool) in
                state.syncsCompleted += 1
                let finished = state.waiters.filter { $0.ticket <= covered }
                state.waiters.removeAll { $0.ticket <= covered }
                state.syncing = !state.waiters.isEmpty
                return (finished, state.syncing)
            }
            for waiter in finished { waiter.continuation.resume(with: result) }
            if !more { return }
        }
    }
}
