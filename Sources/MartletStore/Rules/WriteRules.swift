import NostrCore

/// What saving one event does, decided from what the store holds, the same for every store:
/// NIP-01 replacement, NIP-09 deletion, NIP-62 vanish. An adapter reads the facts
/// (`WriteFacts`) and translates the decision into its SQL; it decides nothing itself.
///
/// The checks run in one order, and the first that applies answers: already stored, then
/// vanished, then deleted, then superseded by the stored version of its address.
///
/// ```swift
/// switch try WriteRules.decide(event, facts: tables) {
/// case .refuse(let result): return result         // .duplicate, .vanished, .deleted, .superseded
/// case .save(let effects): insert(event, replacing: effects.replacing, then: effects.deletion)
/// }
/// ```
enum WriteRules {
    static func decide(_ event: Event, facts: some WriteFacts) throws -> WriteDecision {
        if try facts.isStored(event.id) { return .refuse(.duplicate) }
        if try isVanished(event, facts) { return .refuse(.vanished) }
        let address = StoredAddress(of: event)
        if try isDeleted(event, at: address, facts) { return .refuse(.deleted) }
        var replacing: StoredVersion?
        if let address, let current = try facts.currentVersion(at: address) {
            guard current.isReplaced(by: event) else { return .refuse(.superseded) }
            replacing = current
        }
        let deletion = event.kind == .deletion ? DeletionEffects(of: event) : nil
        return .save(SaveEffects(address: address, replacing: replacing, deletion: deletion))
    }

    /// The keys whose requests to vanish can refuse `event`: its author's and, for a gift
    /// wrap, its recipients' (NIP-62: "Gift Wraps that p-tagged the `.pubkey`").
    static func vanishKeys(of event: Event) -> [PublicKey] {
        event.kind == .giftWrap ? [event.pubkey] + event.referencedPubkeys : [event.pubkey]
    }

    /// Kinds no deletion request removes and no earlier one refuses: deletion requests
    /// (NIP-09: "publishing a deletion request event against a deletion request has no
    /// effect") and requests to vanish (NIP-62).
    static let undeletableKinds: [Kind] = [.deletion, .requestToVanish]

    /// `undeletableKinds` as a SQL list, "5, 62".
    static let undeletableKindsSQL = undeletableKinds.map { String($0.rawValue) }.joined(separator: ", ")

    /// NIP-62: events by a key that asked to vanish, and gift wraps addressed to it, up to
    /// the request's time. The request itself stays, as the NIP allows, so that it can be
    /// served and replicated whichever of `save` and `vanish` a relay calls first.
    private static func isVanished(_ event: Event, _ facts: some WriteFacts) throws -> Bool {
        guard event.kind != .requestToVanish else { return false }
        for key in vanishKeys(of: event) {
            if let until = try facts.vanishedUntil(key), event.createdAt <= until { return true }
        }
        return false
    }

    /// NIP-09: deleted before, by its own author, by id or (up to the request's time) by
    /// address.
    private static func isDeleted(_ event: Event, at address: StoredAddress?, _ facts: some WriteFacts) throws -> Bool {
        guard !undeletableKinds.contains(event.kind) else { return false }
        if try facts.isDeleted(event.id, author: event.pubkey) { return true }
        guard let address, let until = try facts.deletedUntil(address) else { return false }
        return event.createdAt <= until
    }
}

/// What a store holds that decides one write, as `WriteRules` asks it: SQLite answers from
/// its tables at each question, PostgreSQL from what it read for the whole batch.
protocol WriteFacts {
    /// An event with this id is stored (or saved earlier in the batch).
    func isStored(_ id: EventID) throws -> Bool
    /// The time up to which `pubkey` asked to vanish (NIP-62), if it did.
    func vanishedUntil(_ pubkey: PublicKey) throws -> Int64?
    /// `author` deleted `id` by an `e` tag (NIP-09).
    func isDeleted(_ id: EventID, author: PublicKey) throws -> Bool
    /// The time up to which `address` was deleted by an `a` tag (NIP-09), if it was.
    func deletedUntil(_ address: StoredAddress) throws -> Int64?
    /// The version stored at `address`, if any.
    func currentVersion(at address: StoredAddress) throws -> StoredVersion?
}

/// What `WriteRules` decided for one event.
enum WriteDecision: Equatable {
    /// Not stored, for this reason: `.duplicate`, `.vanished`, `.deleted` or `.superseded`.
    case refuse(SaveResult)
    /// Stored, with these effects.
    case save(SaveEffects)
}

/// What storing one event does besides inserting it.
struct SaveEffects: Equatable {
    /// The replaceable or addressable address the event takes, nil for other kinds.
    var address: StoredAddress?
    /// The older version at that address, to remove.
    var replacing: StoredVersion?
    /// The NIP-09 request this event is, to apply after inserting it.
    var deletion: DeletionEffects?
}

/// A NIP-09 deletion request's effects: every id and address it names is recorded, so that
/// the events stay deleted, and the author's own stored events among them are removed.
/// An `e` tag removes only an event by the request's author and not of `undeletableKinds`;
/// an `a` tag counts only under the author's own key and removes the versions at that
/// address up to `until`.
struct DeletionEffects: Equatable {
    var author: PublicKey
    /// The ids of `e` tags, once each, in order.
    var ids: [EventID]
    /// The author's addresses of `a` tags, once each, in order.
    var addresses: [StoredAddress]
    /// The request's `created_at`.
    var until: Int64

    init(of deletion: Event) {
        author = deletion.pubkey
        var seen = Set<EventID>()
        ids = deletion.referencedEventIDs.filter { seen.insert($0).inserted }
        addresses = Self.ownAddresses(of: deletion)
        until = deletion.createdAt
    }

    /// The replaceable and addressable addresses `deletion` names under its own key, once
    /// each (an `a` tag naming someone else's key deletes nothing).
    private static func ownAddresses(of deletion: Event) -> [StoredAddress] {
        var seen = Set<StoredAddress>()
        var addresses: [StoredAddress] = []
        for named in deletion.referencedAddresses where named.pubkey == deletion.pubkey {
            let dTag: String
            switch named.kind.category {
            case .replaceable: dTag = ""
            case .addressable: dTag = named.identifier
            case .regular, .ephemeral: continue
            }
            let address = StoredAddress(pubkey: named.pubkey, kind: named.kind, dTag: dTag)
            if seen.insert(address).inserted { addresses.append(address) }
        }
        return addresses
    }

    /// Whether this request removes a stored event it names by id.
    func removes(eventBy pubkey: PublicKey, kind: Kind) -> Bool {
        pubkey == author && !WriteRules.undeletableKinds.contains(kind)
    }
}

/// One replaceable or addressable slot, as both stores key it: NIP-01's (pubkey, kind) for
/// replaceable kinds, with "" as its `d_tag`, and (pubkey, kind, d tag) for addressable ones.
struct StoredAddress: Hashable, Sendable {
    var pubkey: PublicKey
    var kind: Kind
    var dTag: String

    init(pubkey: PublicKey, kind: Kind, dTag: String) {
        self.pubkey = pubkey
        self.kind = kind
        self.dTag = dTag
    }

    /// The address `event` takes; nil for regular and ephemeral kinds.
    init?(of event: Event) {
        guard let dTag = event.storedDTag else { return nil }
        self.init(pubkey: event.pubkey, kind: event.kind, dTag: dTag)
    }
}

/// The version of an address a store holds: `row` is the store's key for its row (SQLite's
/// rowid, PostgreSQL's seq), nil for a version saved earlier in the same batch and not yet
/// written.
struct StoredVersion: Equatable, Sendable {
    var row: Int64?
    var createdAt: Int64
    var id: EventID

    /// NIP-01: "only the latest event MUST be stored"; "in case of replaceable events with
    /// the same timestamp, the event with the lowest id (first in lexical order) should be
    /// retained, and the other discarded".
    func isReplaced(by event: Event) -> Bool {
        createdAt != event.createdAt ? event.createdAt > createdAt : event.id < id
    }
}

extension Event {
    /// The `d_tag` column: "" for replaceable kinds, the `d` value for addressable ones,
    /// nil for the rest, which have no address.
    var storedDTag: String? {
        switch kind.category {
        case .replaceable: ""
        case .addressable: dTag
        case .regular, .ephemeral: nil
        }
    }
}
