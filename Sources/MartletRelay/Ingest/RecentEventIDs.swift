public import NostrCore
import Synchronization

/// The ids of the events most recently stored or seen as duplicates, so a duplicate is
/// answered from memory: no store round trip, no cryptography.
///
/// A fixed ring: the oldest id is forgotten when a new one arrives, so memory stays at
/// `capacity` ids. Forgetting only costs a store lookup later, never a wrong answer, and
/// the relay clears it when a deletion could make a remembered id stale.
///
/// ```swift
/// let recent = RecentEventIDs(capacity: 100_000)
/// recent.insert(event.id)
/// recent.contains(event.id) // true
/// ```
public final class RecentEventIDs: Sendable {
    private struct State {
        var members: Set<EventID> = []
        /// Filled as ids arrive (a relay that is seldom written to, such as one of many
        /// hosted relays, never pays for the whole ring), then overwritten in a circle.
        var ring: [EventID] = []
        var next = 0
    }

    private let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int) {
        precondition(capacity > 0, "a cache of recent ids needs room for one")
        self.capacity = capacity
        state = Mutex(State())
    }

    public func contains(_ id: EventID) -> Bool {
        state.withLock { $0.members.contains(id) }
    }

    /// Remembers `id`; false when it was remembered already (one lock: two copies racing
    /// in cannot both be first).
    @discardableResult
    public func insert(_ id: EventID) -> Bool {
        state.withLock { state in
            guard state.members.insert(id).inserted else { return false }
            if state.ring.count < capacity {
                state.ring.append(id)
            } else {
                state.members.remove(state.ring[state.next])
                state.ring[state.next] = id
                state.next = (state.next + 1) % capacity
            }
            return true
        }
    }

    public func removeAll() {
        state.withLock { state in
            state.members.removeAll(keepingCapacity: true)
            state.ring.removeAll(keepingCapacity: true)
            state.next = 0
        }
    }
}
