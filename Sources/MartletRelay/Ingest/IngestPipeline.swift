import Logging
import MartletStore
import NostrCore

/// The one way an event gets into the relay, whoever brings it: a client's connection, a
/// mesh peer, `martlet sync` or `martlet import` (`IngestOrigin`).
///
/// In order: the duplicate check (from memory; an index lookup only for an id the memory of
/// stored ids cannot rule out; no cryptography),
/// the id and signature, the write policies the origin calls for (first refusal wins),
/// then the event's action: an ephemeral event is fanned out, a request to vanish removes
/// its author's events, anything else is committed by the batching writer and only then
/// fanned out and told to the observers. It owns the memory of recent ids and every reason
/// to forget it, so no other type can leave it stale.
///
/// ```swift
/// let pipeline = IngestPipeline(parts, policies: Relay.builtInWritePolicies(configuration, access: access))
/// async let writing: Void = pipeline.writer.run()
/// let outcome = await pipeline.ingest(event, origin: .importFile)
/// ```
final class IngestPipeline: Sendable {
    /// What the pipeline works with, all owned by the relay.
    struct Parts: Sendable {
        var store: any EventStore
        var subscriptions: SubscriptionIndex
        var acceptedEvents: AcceptedEvents
        var addresses: RelayAddresses
        var metrics: RelayMetrics
        var writerBatchSize: Int
        var clock: @Sendable () -> Int64
        var logger: Logger
        /// Kinds fanned out and never stored besides NIP-01's 20000-29999 (axon's 3000-3999).
        var extraEphemeralKinds: ClosedRange<UInt16>? = nil
    }

    let writer: BatchingWriter
    private let parts: Parts
    /// The store's news of the other relay nodes on it, when it is shared (PostgreSQL).
    private let feed: (any EventFeed)?
    /// Every write policy, for an event that came over a connection.
    private let connectionPolicies: [any WritePolicy]
    /// The policies about the event alone, for the operator's tools.
    private let eventPolicies: [any WritePolicy]
    /// The changes of state events stand for (NIP-29 groups), made before they are stored.
    private let hooks: [any IngestHook]
    /// Ids answered as stored lately, so duplicates need neither the store nor a verify.
    private let recentIDs = RecentEventIDs(capacity: 200_000)
    /// Every id the store may hold (at most 4 MiB): a distinct event, which it rules out,
    /// needs no store lookup. Loaded from the store by `loadStoredIDs()`, and told of every
    /// event this pipeline sees stored.
    private let storedIDs = StoredEventIDs()
    /// Events lately accepted without being stored (ephemeral ones, requests to vanish): the
    /// store cannot call a second copy a duplicate, and a relay mesh would loop it forever.
    private let recentUnstored = RecentEventIDs(capacity: 16_384)

    init(_ parts: Parts, policies: [any WritePolicy], hooks: [any IngestHook] = []) {
        self.parts = parts
        self.feed = parts.store as? any EventFeed
        self.writer = BatchingWriter(store: parts.store, batchSize: parts.writerBatchSize)
        self.connectionPolicies = policies
        self.eventPolicies = policies.filter { !($0 is any ConnectionPolicy) }
        self.hooks = hooks
    }

    /// Runs `event` through the pipeline. Nothing is `.accepted` before its transaction has
    /// committed.
    func ingest(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        let start = ContinuousClock.now
        let outcome = await process(event, origin: origin)
        parts.metrics.recordIngest(outcome, kind: event.kind, startedAt: start)
        return outcome
    }

    private func process(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        let ephemeral = isEphemeral(event.kind)
        let unstored = ephemeral || event.kind == .requestToVanish
        if unstored, origin.storesOnly {
            return .refused(
                ephemeral
                    ? .invalid("ephemeral events are not stored")
                    : .invalid("requests to vanish are not stored; publish them to the relay"))
        }
        if let known = await knownDuplicate(event, unstored: unstored) { return known }
        do {
            try event.validate()
        } catch {
            return .refused(.invalid(error.detail))
        }
        let context = WriteContext(now: parts.clock(), origin: origin)
        // The relay's own events (signed with its key) answer to no policy: it is their authority.
        let policies = origin.isRelay ? [] : origin.hasConnection ? connectionPolicies : eventPolicies
        for policy in policies {
            if let refusal = await policy.check(event, context: context) {
                return refusal.isSilent ? .shadowRejected : .refused(refusal)
            }
        }
        if origin.hasConnection {
            for hook in hooks {
                if let refusal = await hook.willAccept(event, context: context) { return .refused(refusal) }
            }
        }
        if ephemeral { return await deliverEphemeral(event, origin: origin) }
        if event.kind == .requestToVanish { return await vanish(event, origin: origin) }
        return await store(event, origin: origin)
    }

    /// Fanned out and never stored: NIP-01's ephemeral range and any the configuration adds.
    private func isEphemeral(_ kind: Kind) -> Bool {
        kind.isEphemeral || parts.extraEphemeralKinds?.contains(kind.rawValue) == true
    }

    /// A duplicate answered without cryptography: from memory, else one index lookup. An
    /// `unstored` event (ephemeral, a request to vanish) is known only to memory.
    ///
    /// An id the memory of stored ids rules out is taken as new with no lookup. If the store
    /// holds it all the same (another node on the same PostgreSQL database stored it, or
    /// another process wrote the file), the writer still answers `.duplicate`: the check
    /// only saves a verify, the writer decides.
    private func knownDuplicate(_ event: Event, unstored: Bool) async -> IngestOutcome? {
        if unstored {
            return recentUnstored.contains(event.id) ? .duplicate(.alreadyStored) : nil
        }
        if storedIDs.excludes(event.id) { return nil }
        if recentIDs.contains(event.id) { return .duplicate(.alreadyStored) }
        do {
            guard try await parts.store.contains(event.id) else { return nil }
            recentIDs.insert(event.id)
            storedIDs.insert(event.id)
            return .duplicate(.alreadyStored)
        } catch {
            return .refused(.error("could not reach the store"))
        }
    }

    private func deliverEphemeral(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        guard recentUnstored.insert(event.id) else { return .duplicate(.alreadyStored) }
        fanOut(event)
        parts.acceptedEvents.notify(event, from: origin)
        // Before the answer, as a stored event is committed before it: the other nodes have
        // been told (or the store has given up within its time limit).
        await feed?.publishEphemeral(event)
        return .accepted
    }

    private func store(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        let result: SaveResult
        do {
            result = try await writer.write(event)
        } catch {
            parts.logger.warning("write failed: \(error)")
            return .refused(.error("could not save the event"))
        }
        switch result {
        case .saved:
            // A deletion can make remembered ids stale (a deleted event must be refused,
            // not called a duplicate), so the memory starts over.
            if event.kind == .deletion { recentIDs.removeAll() } else { recentIDs.insert(event.id) }
            storedIDs.insert(event.id)
            fanOut(event)
            parts.acceptedEvents.notify(event, from: origin)
            return .accepted
        case .duplicate:
            // Stored by someone this pipeline did not hear of (another node, another process).
            storedIDs.insert(event.id)
            return .duplicate(.alreadyStored)
        case .superseded: return .duplicate(.superseded)
        case .deleted: return .refused(.blocked("this event was deleted by its author"))
        case .vanished: return .refused(.blocked("its author asked this relay to vanish"))
        }
    }

    /// NIP-62: a request to vanish naming this relay (or `ALL_RELAYS`) removes everything the
    /// author published up to its `created_at`, and the store refuses those events from then on.
    private func vanish(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        let targets = event.tags.values(named: "relay")
        guard targets.contains(where: { $0 == "ALL_RELAYS" || parts.addresses.names($0) }) else {
            return .refused(.invalid("request to vanish does not name this relay"))
        }
        do {
            let removed = try await parts.store.vanish(pubkey: event.pubkey, until: event.createdAt)
            recentIDs.removeAll()
            parts.logger.notice(
                "request to vanish honoured", metadata: ["pubkey": "\(event.pubkey)", "removed": "\(removed)"])
        } catch {
            return .refused(.error("could not remove the events"))
        }
        if recentUnstored.insert(event.id) { parts.acceptedEvents.notify(event, from: origin) }
        return .accepted
    }

    /// Delivers a stored (or ephemeral) event to every matching live subscription.
    func fanOut(_ event: Event) {
        let matches = parts.subscriptions.matches(event)
        for subscription in matches {
            subscription.session.deliver(event, to: subscription.id)
        }
        parts.metrics.recordDeliveries(matches.count)
    }

    /// An event another node on the shared store accepted: fanned out here once, and a copy
    /// that also comes from a client or a peer is then a duplicate (an ephemeral one from
    /// memory; a stored one is remembered as one the store may hold).
    func fanOutFromOtherNode(_ event: Event) {
        if isEphemeral(event.kind) {
            if !recentUnstored.insert(event.id) { return }
        } else if event.kind != .requestToVanish {
            storedIDs.insert(event.id)
        }
        fanOut(event)
    }

    // MARK: The memory of stored ids

    /// Whether the memory of stored ids may rule ids out yet (`loadStoredIDs()` ended).
    var hasLoadedStoredIDs: Bool { storedIDs.isLoaded }

    /// Walks the store's ids into the memory of stored ids, a page at a time, then lets it
    /// rule ids out. Until it ends, and for ever if reading fails, every check looks the id
    /// up as before: start-up waits for none of it. Ids stored meanwhile are remembered as
    /// the writer commits them, so a page that has already passed them loses nothing.
    func loadStoredIDs(pageSize: Int = 10_000) async {
        let start = ContinuousClock.now
        var after: EventID?
        var count = 0
        do {
            while true {
                try Task.checkCancellation()
                let page = try await parts.store.storedIDs(after: after, limit: pageSize)
                storedIDs.insert(contentsOf: page)
                count += page.count
                guard page.count == pageSize, let last = page.last else { break }
                after = last
            }
        } catch {
            // A relay stopping while it loads (its store may close under the read) says nothing.
            if Task.isCancelled || error is CancellationError { return }
            parts.logger.warning("could not read the stored ids; every duplicate check asks the store: \(error)")
            return
        }
        storedIDs.finishLoading()
        parts.logger.info(
            "stored ids loaded",
            metadata: [
                "count": "\(count)", "bytes": "\(storedIDs.bytes)",
                "duration": "\(ContinuousClock.now - start)",
            ])
    }

    // MARK: Changes behind the memory's back

    /// Removes events from the store by id (NIP-86 bans, lifetimes), and forgets that they
    /// were stored: a resend must meet the rule that removed them, not be answered from
    /// memory as a duplicate.
    func remove(_ ids: [EventID]) async throws -> Int {
        let removed = try await parts.store.remove(ids)
        recentIDs.removeAll()
        return removed
    }

    /// The store removed events by itself (a dropped partition): a remembered id may be one.
    func eventsRemoved() {
        recentIDs.removeAll()
    }

    /// The banned events changed (on another node, say): a remembered id may be one of them.
    func bannedEventsChanged() {
        recentIDs.removeAll()
    }
}
