public import NostrCore

/// A store that can remove old events a whole time partition at a time (PostgreSQL): the
/// retention rules and the NIP-90 purge ask it first, then remove what is left row by row.
///
/// ```swift
/// if let partitioned = store as? any PartitionedEventStore {
///     removed += try await partitioned.removeWholePartitions(createdBefore: cutoff, kinds: kinds)
/// }
/// ```
public protocol PartitionedEventStore: EventStore {
    /// Drops each partition whose events were all created before `cutoff` and are all of
    /// `kinds` (nil: of any kind); returns how many events went. Partitions that also hold
    /// events to keep are left alone.
    func removeWholePartitions(createdBefore cutoff: Int64, kinds: Set<Kind>?) async throws -> Int
}
