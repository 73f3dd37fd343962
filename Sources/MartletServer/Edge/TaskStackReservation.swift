/// Gives the current task's stack one slab big enough for the call chain about to start,
/// so that the chain packs into it instead of into several partly empty ones.
///
/// Swift's task allocator (the runtime's `StackAllocator`) hands out async frames from
/// slabs of about 1 KiB and keeps every slab for the task's lifetime. A frame that does not
/// fit the current slab opens the next one (the rest of the current is left unused), and a
/// frame larger than a slab gets a slab of its own. A connection's reading loop waits
/// inside Hummingbird's `WebSocketInboundStream.AsyncIterator.next()`, whose frame is 2,240
/// bytes, and NIO's frames below it: four slabs (5.3 kB) per idle connection, a third of
/// them empty. When the allocator needs a slab while an emptied one follows, it frees the
/// emptied ones and makes one slab as large as asked for or as they were together; so one
/// allocation of the whole chain's size, freed at once, leaves a single slab into which the
/// chain then fits (4 kB).
///
/// If a runtime allocates differently, this costs one allocation and one free per
/// connection and saves nothing; if the chain outgrows `bytes`, the rest spills into new
/// slabs as before.
///
/// ```swift
/// await TaskStackReservation.reserveForReadingLoop()   // then, in this task, the deep chain
/// ```
enum TaskStackReservation {
    /// Bytes for a connection's reading loop while it waits: the preference for its event
    /// loop (`withTaskExecutorPreference`'s frame, 144 bytes, its closure's and its record),
    /// the loop's own frame (336), Hummingbird's `next()` (2,240) and NIO's frames below it,
    /// with the allocator's headers. Measured, not derived: 3,700 spills into a slab of its
    /// own (26.1 kB per idle connection), 3,850 fits (25.3, against 25.4 at 4,000).
    static let readingLoopBytes = 3_850

    /// Call, awaited, from the async function whose next call is the deep chain. The
    /// temporary allocation of a constant size is part of this function's async frame,
    /// which the caller allocates from the task's allocator and frees on return; it never
    /// suspends.
    @inline(never)
    static func reserveForReadingLoop() async {
        withUnsafeTemporaryAllocation(byteCount: readingLoopBytes, alignment: 16) { room in
            touch(room.baseAddress)
        }
    }

    /// Keeps the optimizer from dropping the allocation as unused.
    @inline(never)
    private static func touch(_ room: UnsafeMutableRawPointer?) {
        room?.storeBytes(of: 0, as: UInt8.self)
    }
}
