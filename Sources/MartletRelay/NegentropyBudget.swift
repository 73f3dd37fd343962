import Synchronization

/// The items all NIP-77 sessions of a relay hold at once, against a relay-wide budget.
///
/// A session holds its whole item set (45 to 90 bytes an item measured, with the store's
/// copy it is built from), so without a budget 4 connections × 8 sessions over 60,000
/// events took 165 MiB and the per-session caps alone allowed gigabytes. A `NEG-OPEN` first
/// reserves the items its filter counts; one that does not fit is refused `blocked:`, and
/// every way a session ends gives its items back.
///
/// ```swift
/// let budget = NegentropyBudget(limit: 1_000_000)
/// if budget.reserve(60_000) { /* build the session */ }
/// budget.release(60_000)
/// ```
public final class NegentropyBudget: Sendable {
    /// The most items held at once; 0 or less means no relay-wide limit.
    public let limit: Int
    private let held = Mutex(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Items held by open sessions (and sessions being built) now.
    public var heldItems: Int { held.withLock { $0 } }

    /// Takes `count` items from the budget; `false`, taking none, when they do not fit.
    public func reserve(_ count: Int) -> Bool {
        held.withLock { held in
            if limit > 0 && held + count > limit { return false }
            held += count
            return true
        }
    }

    /// Gives back `count` items taken by `reserve`.
    public func release(_ count: Int) {
        guard count > 0 else { return }
        held.withLock { $0 = max(0, $0 - count) }
    }
}
