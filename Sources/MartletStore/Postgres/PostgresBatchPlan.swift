import NostrCore

/// One `save` batch played through `WriteRules` in memory, against what the database holds
/// for the batch's ids, keys and addresses plus what the batch itself has saved so far.
///
/// Events are decided one after the other so that events of one batch see each other (a
/// deletion after its target, two versions of one address), as SQLite's `EventWriter` sees
/// them. SQLite asks its tables at every step because a lookup there costs a microsecond;
/// a PostgreSQL lookup is a network round trip, so the writer reads everything the batch
/// can touch in a few queries (`PostgresEventWriter.readStored`), plays the batch through
/// here, and writes the outcome in a few statements: about ten round trips per batch
/// whatever its size.
///
/// ```swift
/// var plan = PostgresBatchPlan(stored: stored)
/// for event in events { try plan.add(event) }
/// // plan.results, plan.inserts, plan.replacedSeqs, ...
/// ```
struct PostgresBatchPlan {
    /// What the database holds that the batch may touch.
    struct Stored {
        /// Events with the batch's ids that are stored: author and kind.
        var events: [EventID: (pubkey: PublicKey, kind: Kind)] = [:]
        /// NIP-62 requests of the batch's authors and gift-wrap recipients.
        var vanishedUntil: [PublicKey: Int64] = [:]
        /// NIP-09 deletions by id of the batch's ids, with the deleting author.
        var deletedIDs: Set<DeletedID> = []
        /// NIP-09 deletions of the batch's addresses.
        var deletedUntil: [StoredAddress: Int64] = [:]
        /// The stored versions at the batch's addresses (`row` is the `seq`).
        var current: [StoredAddress: StoredVersion] = [:]
    }

    struct DeletedID: Hashable {
        var id: EventID
        var pubkey: PublicKey
    }

    private var stored: Stored
    /// Events of this batch to insert, by id, in order of arrival.
    private var pending: [EventID: Event] = [:]
    private var pendingOrder: [EventID] = []

    private(set) var results: [SaveResult] = []
    /// Stored rows replaced by a newer version of their address, with their `created_at`
    /// (the partition key: the delete goes straight to the one partition).
    private(set) var replacedSeqs: [Int64] = []
    private(set) var replacedCreatedAts: [Int64] = []
    /// `(id, author)` pairs deletions name: recorded, and their stored events removed.
    private(set) var deletedIDs: [DeletedID] = []
    /// Addresses deletions name, with the latest time each covers.
    private(set) var deletedAddresses: [StoredAddress: Int64] = [:]

    init(stored: Stored) {
        self.stored = stored
    }

    /// The events to insert: those saved and not replaced or deleted later in the batch.
    var inserts: [Event] { pendingOrder.compactMap { pending[$0] } }

    mutating func add(_ event: Event) throws {
        // Decided in a statement of its own: the copy of `self` passed as the facts is gone
        // before the batch's dictionaries change, which would otherwise copy them all.
        let decision = try WriteRules.decide(event, facts: self)
        switch decision {
        case .refuse(let result):
            results.append(result)
        case .save(let effects):
            if let replaced = effects.replacing { remove(replaced) }
            pending[event.id] = event
            pendingOrder.append(event.id)
            if let address = effects.address {
                stored.current[address] = StoredVersion(row: nil, createdAt: event.createdAt, id: event.id)
            }
            if let deletion = effects.deletion { apply(deletion) }
            results.append(.saved)
        }
    }

    /// Takes a version out of the batch's picture: a stored one is deleted, a pending one
    /// is not inserted.
    private mutating func remove(_ version: StoredVersion) {
        if let seq = version.row {
            replacedSeqs.append(seq)
            replacedCreatedAts.append(version.createdAt)
            stored.events[version.id] = nil
        } else {
            pending[version.id] = nil
        }
    }

    /// NIP-09 in the batch's picture; `PostgresEventWriter` removes the stored rows.
    private mutating func apply(_ deletion: DeletionEffects) {
        for id in deletion.ids {
            let named = DeletedID(id: id, pubkey: deletion.author)
            if stored.deletedIDs.insert(named).inserted { deletedIDs.append(named) }
            let target: (pubkey: PublicKey, kind: Kind)? =
                pending[id].map { ($0.pubkey, $0.kind) } ?? stored.events[id]
            guard let target, deletion.removes(eventBy: target.pubkey, kind: target.kind) else { continue }
            pending[id] = nil
            stored.events[id] = nil
            // A removed current version leaves its address empty.
            if let address = stored.current.first(where: { $0.value.id == id })?.key {
                stored.current[address] = nil
            }
        }
        for address in deletion.addresses {
            let until = max(stored.deletedUntil[address] ?? deletion.until, deletion.until)
            stored.deletedUntil[address] = until
            deletedAddresses[address] = until
            if let current = stored.current[address], current.createdAt <= until {
                stored.current[address] = nil
                if current.row == nil { pending[current.id] = nil } else { stored.events[current.id] = nil }
            }
        }
    }
}

/// The batch's answers to `WriteRules`' questions: what was read, as changed by the events
/// of the batch decided so far.
extension PostgresBatchPlan: WriteFacts {
    func isStored(_ id: EventID) -> Bool { pending[id] != nil || stored.events[id] != nil }
    func vanishedUntil(_ pubkey: PublicKey) -> Int64? { stored.vanishedUntil[pubkey] }
    func isDeleted(_ id: EventID, author: PublicKey) -> Bool {
        stored.deletedIDs.contains(DeletedID(id: id, pubkey: author))
    }
    func deletedUntil(_ address: StoredAddress) -> Int64? { stored.deletedUntil[address] }
    func currentVersion(at address: StoredAddress) -> StoredVersion? { stored.current[address] }
}
