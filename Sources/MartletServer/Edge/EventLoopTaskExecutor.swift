import NIOCore

/// Runs a task's jobs on one NIO event loop: the connection's reading loop and the tasks
/// its messages run in prefer the event loop that owns the connection's socket.
///
/// Why: left to the cooperative pool, every message crossed threads twice. The event loop
/// read the frame and resumed the reading task on a pool thread, and the answer queued
/// there went back to the event loop to be written. For a REQ that matches nothing those
/// two switches and their wake-ups were most of its cost (BENCHMARKS.md, "A connection's
/// tasks on its event loop"). On the event loop, a job enqueued while the loop is running
/// runs later in the same pass, with no thread switch and no wake-up; a hop to an actor
/// (the store's writer) still leaves the loop and comes back.
///
/// Bounded work only: what runs here holds up the other connections of the loop, as on the
/// pool it held up a pool thread. Store reads run inline only within `InlineReads`' bound;
/// longer ones go to the store's readers, and awaiting them suspends, never blocks.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
