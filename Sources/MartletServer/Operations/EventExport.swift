public import MartletRelay
public import MartletStore
public import NostrCore

/// Streams stored events as JSONL: the stored canonical bytes of each event matching a
/// filter, one a line, newest first, read a page at a time so that memory stays flat
/// whatever the size of the store. `martlet export` is this behind a command line.
///
/// ```swift
/// let count = try await EventExport.run(store: store, filter: Filter(kinds: [1])) { line in
///     FileHandle.standardOutput.write(Data(line))
/// }
/// ```
public enum EventExport {
    /// Calls `write` with each event's JSON followed by a newline; returns how many were
    /// written. A `limit` in `filter` caps the total (its newest events).
    public static func run(
        store: any EventStore, filter: Filter, now: Int64 = Duration.secondsSinceEpoch, pageSize: Int = 1000,
        write: ([UInt8]) throws -> Void
    ) async throws -> Int {
        var written = 0
        var page = max(1, pageSize)
        var until = filter.until
        // Ids already written at the `until` second: the next page starts at that second
        // again, since more events may share it.
        var atBoundary = Set<EventID>()
        while filter.limit.map({ written < $0 }) ?? true {
            var query = filter
            query.until = until
            query.limit = page
            let events = try await store.query([query], maxLimit: page, now: now)
            for event in events where !atBoundary.contains(event.id) {
                if let limit = filter.limit, written >= limit { break }
                try write(event.json + [0x0a])
                written += 1
            }
            guard events.count == page, let oldest = events.last?.createdAt else { break }
            if oldest == until {
                // A whole page within one second: read a larger page from the same second.
                atBoundary.formUnion(events.map(\.id))
                page *= 2
            } else {
                atBoundary = Set(events.lazy.filter { $0.createdAt == oldest }.map(\.id))
                until = oldest
            }
        }
        return written
    }
}
