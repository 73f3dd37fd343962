import NostrCore
import Synchronization

/// Stored events by rowid, as they were stored or as REQs read them, within a byte budget.
///
/// A REQ's events are found in a driving index alone (their rowids, `NewestEvents`) and
/// taken from here; only the rowids missing are read from the table. Read from the table,
/// each event cost a seek in it, SQLite's copy of its columns and the join of its JSON
/// again: half of the relay's CPU per REQ in the query benchmark.
///
/// An entry never needs to be invalidated. A row of `events` is never changed once written,
/// and its rowid is never given to another event (`RowidMark`): what a rowid named once,
/// it names for as long as the row exists. A deleted event's rowid is no longer in any
/// index a later read sees, so its entry is never asked for again and ages out.
///
/// Eviction is CLOCK: entries sit in a ring in the order they came; a lookup marks one,
/// and the hand, sweeping the ring for room, spares a marked entry once (clearing its mark)
/// and evicts the first unmarked one. A hot event stays; one read once makes room first.
///
/// ```swift
/// let cache = EventCache(byteLimit: 64 << 20)
/// var found = cache.events(rowids)          // nil where the table must be read
/// cache.insert([(rowid, event)])
/// ```
final class EventCache: Sendable {
    /// What an entry costs besides its JSON, estimated: the dictionary's slot at its load
    /// factor, the ring's, the array's header, the event's fields and malloc's own words.
    static let entryOverhead = 224

    private struct Entry {
        var event: StoredEvent
        var referenced: Bool
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        /// Every key of `entries` once, swept by `hand`.
        var ring: [Int64] = []
        var hand = 0
        var bytes = 0
    }

    let byteLimit: Int
    private let state = Mutex(State())

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    /// Bytes the entries take, as `byteLimit` counts them.
    var bytes: Int { state.withLock { $0.bytes } }

    /// The number of events held.
    var count: Int { state.withLock { $0.entries.count } }

    /// The event of each rowid, or nil where it is not held; marks each one found.
    func events(_ rowids: [Int64]) -> [StoredEvent?] {
        state.withLock { state in
            rowids.map { rowid in
                guard let index = state.entries.index(forKey: rowid) else { return nil }
                state.entries.values[index].referenced = true
                return state.entries.values[index].event
            }
        }
    }

    /// Holds `events`, evicting others for room. An event larger than the whole budget is
    /// not held.
    func insert(_ events: some Sequence<(rowid: Int64, event: StoredEvent)>) {
        state.withLock { state in
            for (rowid, event) in events {
                let size = Self.size(of: event)
                guard size <= byteLimit, state.entries[rowid] == nil else { continue }
                evict(toFit: size, &state)
                state.entries[rowid] = Entry(event: event, referenced: false)
                state.ring.append(rowid)
                state.bytes += size
            }
        }
    }

    private func evict(toFit size: Int, _ state: inout State) {
        while state.bytes + size > byteLimit, !state.ring.isEmpty {
            if state.hand >= state.ring.count { state.hand = 0 }
            let rowid = state.ring[state.hand]
            let index = state.entries.index(forKey: rowid)!
            if state.entries.values[index].referenced {
                state.entries.values[index].referenced = false
                state.hand += 1
                continue
            }
            state.bytes -= Self.size(of: state.entries.values[index].event)
            state.entries.remove(at: index)
            // The last key takes the evicted one's place: the ring's order is only roughly
            // the order of arrival, which is all CLOCK needs.
            state.ring.swapAt(state.hand, state.ring.count - 1)
            state.ring.removeLast()
        }
    }

    private static func size(of event: StoredEvent) -> Int {
        event.json.count + entryOverhead
    }
}
