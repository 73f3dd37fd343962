public import NostrCore
import Synchronization

/// The node keys that replicate one hosted relay (issue 18): its writers, the keys that
/// asked to become one and wait for a writer's approval, and the keys removed, whose
/// replication is refused from then on.
///
/// A node replicating a hosted relay authenticates with NIP-42 as its node key; a
/// connection authenticated as a removed writer may neither write nor read there
/// (`RemovedWritersPolicy`). The roster is changed at run time (NIP-86 `addwriter`,
/// `removewriter`, `joinrelay`), so it is shared and behind a lock.
///
/// ```swift
/// let roster = WriterRoster(admission: .approval, writers: [creatorNode])
/// roster.requestToJoin(nodeB)   // .pending
/// roster.add(nodeB)             // now a writer
/// roster.remove(nodeB)          // refused from now on
/// ```
public final class WriterRoster: Sendable {
    /// Whether a node that asks to join becomes a writer at once.
    public enum Admission: String, Sendable, Codable, CaseIterable {
        /// Every node that asks is a writer (`writers: open`).
        case open
        /// A writer approves each one (`writers: approval`).
        case approval
    }

    /// What a request to join comes to.
    public enum JoinAnswer: String, Sendable, Equatable {
        case writer, pending, refused
    }

    /// The roster's content, as saved and listed.
    public struct Snapshot: Sendable, Equatable {
        public var admission: Admission
        public var writers: [PublicKey]
        public var pending: [PublicKey]
        public var removed: [PublicKey]

        public init(admission: Admission, writers: [PublicKey], pending: [PublicKey] = [], removed: [PublicKey] = []) {
            self.admission = admission
            self.writers = writers
            self.pending = pending
            self.removed = removed
        }
    }

    /// Requests waiting for approval are kept up to this many: anyone may ask, so the list
    /// is bounded, and past it the oldest request is dropped (it may ask again).
    public static let maxPending = 256
    /// Removed writers are remembered up to this many (only writers can remove, so this
    /// grows only as fast as the writers choose; the bound is a backstop).
    public static let maxRemoved = 4096
    /// Writers admitted by `writers: open` alone, at most; past it a request waits for a
    /// writer's approval like any other. Under `open` anyone who asks is admitted, and every
    /// admission rewrites the manifest, so the list a stranger can grow is bounded.
    public static let maxOpenWriters = 4096

    private let state: Mutex<Snapshot>

    public init(_ snapshot: Snapshot) {
        state = Mutex(snapshot)
    }

    public convenience init(admission: Admission, writers: [PublicKey]) {
        self.init(Snapshot(admission: admission, writers: writers))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func isWriter(_ node: PublicKey) -> Bool { state.withLock { $0.writers.contains(node) } }

    public func isRemoved(_ node: PublicKey) -> Bool { state.withLock { $0.removed.contains(node) } }

    /// Whether any of `nodes` was removed.
    public func anyRemoved(_ nodes: Set<PublicKey>) -> Bool {
        guard !nodes.isEmpty else { return false }
        return state.withLock { state in state.removed.contains(where: nodes.contains) }
    }

    /// A node asks to become a writer. A removed writer is refused (only a writer's
    /// `addwriter` brings it back); under `.open` it is a writer at once, up to
    /// `maxOpenWriters`.
    @discardableResult
    public func requestToJoin(_ node: PublicKey) -> JoinAnswer {
        state.withLock { state in
            if state.writers.contains(node) { return .writer }
            if state.removed.contains(node) { return .refused }
            if state.admission == .open, state.writers.count < Self.maxOpenWriters {
                state.writers.append(node)
                return .writer
            }
            if !state.pending.contains(node) {
                if state.pending.count >= Self.maxPending { state.pending.removeFirst() }
                state.pending.append(node)
            }
            return .pending
        }
    }

    /// Makes `node` a writer (an approval, or a removal undone).
    public func add(_ node: PublicKey) {
        state.withLock { state in
            state.pending.removeAll { $0 == node }
            state.removed.removeAll { $0 == node }
            if !state.writers.contains(node) { state.writers.append(node) }
        }
    }

    /// Removes `node` as a writer, or refuses its pending request; true when it was either.
    @discardableResult
    public func remove(_ node: PublicKey) -> Bool {
        state.withLock { state in
            let known = state.writers.contains(node) || state.pending.contains(node)
            state.writers.removeAll { $0 == node }
            state.pending.removeAll { $0 == node }
            if !state.removed.contains(node) {
                if state.removed.count >= Self.maxRemoved { state.removed.removeFirst() }
                state.removed.append(node)
            }
            return known
        }
    }
}

/// A hosted relay's refusal of removed writers: a connection authenticated (NIP-42) as a
/// node key a writer removed may not write, subscribe, count or reconcile there, so its
/// replication stops both ways from the removal on, open connections included.
public struct RemovedWritersPolicy: WritePolicy, ReadPolicy {
    public let roster: WriterRoster

    public init(roster: WriterRoster) {
        self.roster = roster
    }

    private static let reason = RejectReason.restricted("this node was removed as a writer of this relay")

    public func check(_ event: Event, context: WriteContext) async -> RejectReason? {
        roster.anyRemoved(context.authenticated) ? Self.reason : nil
    }

    public func check(_ filters: [Filter], context: ReadContext) -> RejectReason? {
        roster.anyRemoved(context.authenticated) ? Self.reason : nil
    }

    public func canSee(_ event: some EventFields, context: ReadContext) -> Bool {
        !roster.anyRemoved(context.authenticated)
    }
}
