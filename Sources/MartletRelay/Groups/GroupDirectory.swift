public import MartletStore
import NostrCore
import Synchronization

/// This node's copy of every group, for the read rules, which must answer without waiting
/// (`ReadPolicy.canSee` is called for every event sent). Writes decide from the store,
/// which every node shares; only the bound on the number of groups counts here.
///
/// Until the first load it knows nothing, and says so (`isLoaded`): the read rules then
/// hide every group event rather than show a private one.
///
/// ```swift
/// directory.replaceAll(try await store.allGroups())
/// directory.group("pizza")?.members[alice]
/// ```
public final class GroupDirectory: Sendable {
    private struct State {
        var loaded = false
        var groups: [String: StoredGroup] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var isLoaded: Bool { state.withLock(\.loaded) }

    public func group(_ id: String) -> StoredGroup? {
        state.withLock { $0.groups[id] }
    }

    /// How many groups there are.
    public var count: Int { state.withLock { $0.groups.count } }

    func replaceAll(_ groups: [StoredGroup]) {
        state.withLock { state in
            state.groups = Dictionary(groups.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            state.loaded = true
        }
    }

    /// Puts the stored state of one group in place (nil: the group is gone).
    func update(_ id: String, to group: StoredGroup?) {
        state.withLock { $0.groups[id] = group }
    }

    /// The ids of the groups whose events (`private`) or metadata (`hidden`) none of
    /// `readers` may see.
    func closedTo(_ readers: Set<PublicKey>, where flag: (GroupMetadata) -> Bool) -> Set<String> {
        state.withLock { state in
            var closed = Set<String>()
            for group in state.groups.values
            where flag(group.metadata) && !readers.contains(where: { group.members[$0] != nil }) {
                closed.insert(group.id)
            }
            return closed
        }
    }
}
