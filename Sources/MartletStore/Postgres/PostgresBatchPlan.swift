import NostrCore

/// What one `save` batch does, decided in memory from what the database holds for the
/// batch's ids, keys and addresses.
///
/// The rules are `EventWriter`'s, applied one event after the other so that events of one
/// batch see each other (a deletion after its target, two versions of one address). SQLite
/// asks its tables at every step because a lookup there costs a microsecond; a PostgreSQL
/// lookup is a network round trip, so the writer reads everything the batch can touch in a
/// few queries, plays the batch through here, and writes the outcome in a few statements:
/// about ten round trips per batch whatever its size.
///
/// ```swift
/// var plan = PostgresBatchPlan(stored: stored)
/// for event in events { plan.add(event) }
/// // plan.results, plan.inserts, plan.replacedSeqs, ...
/// ```
struct PostgresBatchPlan {
    /// One replaceable or addressable slot.
    struct Address: Hashable {
        var pubkey: PublicKey
        var kind: Kind
        var dTag: String
    }

    /// The stored or pending version at an address; `seq` is nil for one of this batch.
    struct Version {
        var seq: Int64?
        var createdAt: Int64
        var id: EventID
    }

    /// What the database holds that the batch may touch.
    struct Stored {
        /// Events with the batch's ids that are stored: author and kind.
        var events: [EventID: (pubkey: PublicKey, kind: Kind)] = [:]
        /// NIP-62 requests of the batch's authors and gift-wrap recipients.
        var vanishedUntil: [PublicKey: Int64] = [:]
        /// NIP-09 deletions by id of the batch's ids, with the deleting author.
        var deletedIDs: Set<DeletedID> = []
        /// NIP-09 deletions of the batch's addresses.
        var deletedUntil: [Address: Int64] = [:]
        /// The stored versions at the batch's addresses.
        var current: [Address: Version] = [:]
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
    /// Stored rows replaced by a newer version of their address.
    private(set) var replacedSeqs: [Int64] = []
    /// `(id, author)` pairs deletions name: recorded, and their stored events removed.
    private(set) var deletedIDs: [DeletedID] = []
    /// Addresses deletions name, with the latest time each covers.
    private(set) var deletedAddresses: [Address: Int64] = [:]

    init(stored: Stored) {
        self.stored = stored
    }

    /// The events to insert: those saved and not replaced or deleted later in the batch.
    var inserts: [Event] { pendingOrder.compactMap { pending[$0] } }

    mutating func add(_ event: Event) {
        results.append(outcome(of: event))
    }

    private mutating func outcome(of event: Event) -> SaveResult {
        if isPresent(event.id) { return .duplicate }
        if isVanished(event) { return .vanished }
        if isDeleted(event) { return .deleted }
        let address = event.storedDTag.map { Address(pubkey: event.pubkey, kind: event.kind, dTag: $0) }
        if let address, let current = stored.current[address] {
            let currentWins =
                current.createdAt != event.createdAt ? current.createdAt > event.createdAt : current.id < event.id
            if currentWins { return .superseded }
            remove(current)
        }
        pending[event.id] = event
        pendingOrder.append(event.id)
        if let address { stored.current[address] = Version(seq: nil, createdAt: event.createdAt, id: event.id) }
        if event.kind == .deletion { applyDeletion(event) }
        return .saved
    }

    private func isPresent(_ id: EventID) -> Bool {
        pending[id] != nil || stored.events[id] != nil
    }

    private func isVanished(_ event: Event) -> Bool {
        guard event.kind != .requestToVanish else { return false }
        var keys = [event.pubkey]
        if event.kind == .giftWrap { keys += event.referencedPubkeys }
        return keys.contains { key in stored.vanishedUntil[key].map { event.createdAt <= $0 } ?? false }
    }

    private func isDeleted(_ event: Event) -> Bool {
        guard event.kind != .deletion, event.kind != .requestToVanish else { return false }
        if stored.deletedIDs.contains(DeletedID(id: event.id, pubkey: event.pubkey)) { return true }
        guard let dTag = event.storedDTag else { return false }
        let until = stored.deletedUntil[Address(pubkey: event.pubkey, kind: event.kind, dTag: dTag)]
        return until.map { event.createdAt <= $0 } ?? false
    }

    /// Takes a version out of the batch's picture: a stored one is deleted, a pending one
    /// is not inserted.
    private mutating func remove(_ version: Version) {
        if let seq = version.seq {
            replacedSeqs.append(seq)
            stored.events[version.id] = nil
        } else {
            pending[version.id] = nil
        }
    }

    /// NIP-09, as `EventWriter.applyDeletion`.
    private mutating func applyDeletion(_ deletion: Event) {
        let author = deletion.pubkey
        for id in Set(deletion.referencedEventIDs) {
            let named = DeletedID(id: id, pubkey: author)
            if stored.deletedIDs.insert(named).inserted { deletedIDs.append(named) }
            let target: (pubkey: PublicKey, kind: Kind)? =
                pending[id].map { ($0.pubkey, $0.kind) } ?? stored.events[id]
            guard let target, target.pubkey == author, target.kind != .deletion, target.kind != .requestToVanish
            else { continue }
            pending[id] = nil
            stored.events[id] = nil
            // A removed current version leaves its address empty.
            if let address = stored.current.first(where: { $0.value.id == id })?.key {
                stored.current[address] = nil
            }
        }
        for (kind, dTag) in deletion.ownDeletedAddresses {
            let address = Address(pubkey: author, kind: kind, dTag: dTag)
            let until = max(stored.deletedUntil[address] ?? deletion.createdAt, deletion.createdAt)
            stored.deletedUntil[address] = until
            deletedAddresses[address] = until
            if let current = stored.current[address], current.createdAt <= until {
                stored.current[address] = nil
                if current.seq == nil { pending[current.id] = nil } else { stored.events[current.id] = nil }
            }
        }
    }
}
