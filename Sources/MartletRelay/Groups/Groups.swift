import Logging
public import MartletStore
public import NostrCore
import Synchronization

/// NIP-29 relay-based groups: owns the rules (who may moderate, who may post and read),
/// keeps this node's copy of the groups in step with the store, and publishes the
/// relay-signed state events (39000 metadata, 39001 admins, 39002 members, 39003 roles)
/// after every change.
///
/// It plugs into the one ingest pipeline, not beside it: `moderation` is an `IngestHook`
/// that checks and applies group events, `readPolicy` hides private groups from
/// non-members, and what the relay signs goes in through `Relay.ingest(_:origin: .relay)`.
/// The state lives in the store (`GroupStore`), so every node on a shared PostgreSQL
/// database enforces the same groups; each node follows the others' changes through
/// `GroupFeed`.
///
/// ```swift
/// configuration.groups.enabled = true
/// let relay = Relay(configuration: configuration, store: store)   // relay.groups is set
/// let pizza = relay.groups?.directory.group("pizza")
/// ```
public final class Groups: Sendable {
    public let store: any GroupStore
    /// The key that signs every event the relay generates (NIP-11 `self`).
    public let identity: RelayIdentity
    /// This node's copy of every group, for reads.
    public let directory = GroupDirectory()
    let settings: RelayConfiguration.GroupSettings
    let logger: Logger
    private let relay = Mutex(RelayReference())

    init(store: any GroupStore, identity: RelayIdentity, settings: RelayConfiguration.GroupSettings, logger: Logger) {
        self.store = store
        self.identity = identity
        self.settings = settings
        self.logger = logger
    }

    /// The hook the ingest pipeline asks about every event.
    var moderation: GroupModeration { GroupModeration(groups: self) }
    /// What the ingest pipeline asks about every event: NIP-29's and NIP-43's rules.
    var hooks: [any IngestHook] { [moderation, membership] }
    /// The rule that keeps private groups' events and hidden groups' metadata to members.
    var readPolicy: GroupReadPolicy { GroupReadPolicy(directory: directory) }

    /// The relay the state events are published through; weak, as the relay owns this.
    func attach(_ relay: Relay) {
        self.relay.withLock { $0.relay = relay }
    }

    /// The relay, while it exists.
    var attachedRelay: Relay? { relay.withLock { $0.relay } }

    /// Loads every group, then follows the changes other nodes on the store make, until
    /// cancelled.
    func run() async {
        await reloadAll()
        guard let feed = store as? any GroupFeed else { return }
        for await change in feed.groupChanges() {
            switch change {
            case .group(let id): await reload(id)
            case .everything: await reloadAll()
            }
        }
    }

    func reloadAll() async {
        do {
            directory.replaceAll(try await store.allGroups())
        } catch {
            logger.warning("could not load the groups: \(error)")
        }
    }

    func reload(_ id: String) async {
        do {
            directory.update(id, to: try await store.group(id))
        } catch {
            logger.warning("could not reload group \(id): \(error)")
        }
    }

    // MARK: Operator's changes (CLI, NIP-86)

    /// Creates a group owned by `owner` (an admin), as a kind 9007 would, and publishes its
    /// state; false when the id is taken or not a group id.
    public func create(id: String, owner: PublicKey, metadata: GroupMetadata = GroupMetadata()) async throws -> Bool {
        guard GroupNames.isValidID(id) else { return false }
        let now = attachedRelay?.clock() ?? Int64(Duration.secondsSinceEpoch)
        let record = GroupRecord(id: id, metadata: metadata, createdAt: now)
        guard try await store.createGroup(record, creator: owner, roles: [GroupRole.admin.rawValue]) else { return false }
        await changed(id)
        return true
    }

    /// Deletes a group, its members and invites, the relay's events describing it and the
    /// events posted to it: a group created later under the same id must not inherit a
    /// private history.
    public func delete(id: String) async throws -> Bool {
        guard try await store.deleteGroup(id) else { return false }
        await reload(id)
        await removeStateEvents(of: id)
        try await removeEvents(inGroup: id)
        return true
    }

    /// Every stored event naming group `id` in `h`, a bounded batch at a time.
    private func removeEvents(inGroup id: String) async throws {
        guard let relay = attachedRelay else { return }
        let batch = Filter(tags: [UInt8(ascii: "h"): [id]], limit: 500)
        while true {
            let events = try await relay.store.query([batch], maxLimit: 500, now: relay.clock())
            guard !events.isEmpty, try await relay.removeEvents(events.map(\.id)) > 0 else { return }
        }
    }

    // MARK: The relay's own events

    /// After a change to group `id`: this node's copy, then the four state events.
    func changed(_ id: String) async {
        await reload(id)
        await publishState(of: id)
    }

    /// Regenerates and publishes 39000-39003 from the stored group, each signed by the relay.
    func publishState(of id: String) async {
        guard let group = directory.group(id) else { return }
        let createdAt = await nextCreatedAt(for: id)
        for event in GroupStateEvents.all(of: group).map({ sign($0, createdAt: createdAt) }) {
            await publish(event)
        }
    }

    /// A relay-signed event about group `id` (a 9000 or 9001 answering a join or a leave).
    func publishModeration(kind: Kind, group id: String, member: PublicKey, reason: String) async {
        let now = attachedRelay?.clock() ?? Int64(Duration.secondsSinceEpoch)
        await publish(sign(.init(kind: kind, tags: [["h", id], ["p", member.hex]], content: reason), createdAt: now))
    }

    private func sign(_ draft: GroupStateEvents.Draft, createdAt: Int64) -> Event {
        Event.signed(by: identity.secretKey, kind: draft.kind, createdAt: createdAt, tags: draft.tags, content: draft.content)
    }

    func publish(_ event: Event) async {
        guard let relay = attachedRelay else { return }
        let outcome = await relay.ingest(event, origin: .relay)
        if case .refused(let reason) = outcome {
            logger.warning("the relay's group event was not stored: \(reason)", metadata: ["kind": "\(event.kind.rawValue)"])
        }
    }

    /// A `created_at` later than every stored state event of the group: an addressable
    /// event replaces another only when newer (or, at the same second, with a lower id), and
    /// several changes may come within one second, on this node or another with the same key.
    private func nextCreatedAt(for id: String) async -> Int64 {
        guard let relay = attachedRelay else { return Int64(Duration.secondsSinceEpoch) }
        let now = relay.clock()
        let filter = Filter(
            authors: [identity.publicKey], kinds: GroupStateEvents.kinds, tags: [UInt8(ascii: "d"): [id]], limit: 8)
        let stored = (try? await relay.store.query([filter], maxLimit: 8, now: now)) ?? []
        return max(now, (stored.map(\.createdAt).max() ?? 0) + 1)
    }

    private func removeStateEvents(of id: String) async {
        guard let relay = attachedRelay else { return }
        let filter = Filter(
            authors: [identity.publicKey], kinds: GroupStateEvents.kinds, tags: [UInt8(ascii: "d"): [id]], limit: 8)
        do {
            let stored = try await relay.store.query([filter], maxLimit: 8, now: relay.clock())
            _ = try await relay.removeEvents(stored.map(\.id))
        } catch {
            logger.warning("could not remove the state events of group \(id): \(error)")
        }
    }

    /// Removes the events named by a delete-event that belong to group `id`; those of
    /// other groups, or of none, are left alone.
    func removeEvents(_ ids: [EventID], inGroup id: String) async throws {
        guard let relay = attachedRelay, !ids.isEmpty else { return }
        let stored = try await relay.store.query([Filter(ids: Set(ids))], maxLimit: ids.count, now: relay.clock())
        let inGroup = stored.filter { $0.tags.values(named: "h").contains(id) }.map(\.id)
        if !inGroup.isEmpty { _ = try await relay.removeEvents(inGroup) }
    }

    /// The ids (first 8 hex characters) of the newest events of group `id`, for NIP-29's
    /// `previous` check.
    func recentIDPrefixes(inGroup id: String, count: Int) async throws -> Set<Substring> {
        guard let relay = attachedRelay else { return [] }
        let filter = Filter(tags: [UInt8(ascii: "h"): [id]], limit: count)
        return Set(try await relay.store.query([filter], maxLimit: count, now: relay.clock()).map { $0.id.hex.prefix(8) })
    }
}

/// A weak reference to the relay, in a `Mutex`.
private struct RelayReference {
    weak var relay: Relay?
}
