import Foundation
import MartletRelay
import MartletReplication
import MartletStore
import NostrCore

/// The figures behind the status page, as the JSON the page polls at `/status.json`.
///
/// Counts come from the same sources `/metrics` reads (the relay's connection count and
/// running totals, the store's `stats()`), so the page and Prometheus agree. Recent events
/// are listed only as far as an anonymous reader may see them: none on a private relay,
/// and never a private kind (gift wraps).
///
/// ```swift
/// let body = await StatusDocument.json(for: relay, mesh: mesh, startedAt: start)
/// ```
enum StatusDocument {
    /// Recent events listed, at most.
    static let recentCount = 12
    /// Relays of the sync store listed, at most (most recently seen first).
    static let syncRelaysShown = 100
    /// Characters of a note's content shown.
    static let excerptLength = 140

    static func json(
        for relay: Relay, mesh: Mesh? = nil, hosted: HostedRelays? = nil, startedAt start: ContinuousClock.Instant
    ) async -> [UInt8] {
        let info = relay.info.current
        let totals = relay.metrics.totals
        let stats = try? await relay.store.stats()
        var document: [String: Any] = [
            "name": info.name,
            "description": info.description,
            "version": RelayInformationDocument.version,
            "supported_nips": RelayInformationDocument.supportedNIPs(for: relay.configuration),
            "uptime_seconds": (ContinuousClock.now - start).components.seconds,
            "connections": relay.connectionCount,
            "subscriptions": relay.subscriptions.count,
            "events": [
                "received": totals.eventsReceived,
                "accepted": totals.eventsAccepted,
                "rejected": totals.eventsRejected,
                "delivered": totals.fanOutDeliveries,
            ],
            "recent": await recentEvents(relay),
        ]
        if let mesh {
            // The same states /metrics counts (`martlet_mesh_peers{state=...}`), one row a peer.
            document["mesh"] = mesh.status.peers.map { peer -> [String: Any] in
                var row: [String: Any] = [
                    "url": peer.url, "state": peer.state.rawValue, "events_in": peer.eventsIn,
                    "events_out": peer.eventsOut, "connections": peer.connections,
                ]
                if let error = peer.lastError { row["last_error"] = error }
                return row
            }
        }
        if let sync = relay.store as? any SyncStore {
            // The sync store (discovery, mesh): every relay remembered, and how many users'
            // relay lists are kept in the DHT (`martlet_sync_relays`, `martlet_sync_authors`).
            if let relays = try? await sync.syncRelays() {
                document["sync_relays"] = relays.prefix(Self.syncRelaysShown).map { relay -> [String: Any] in
                    var row: [String: Any] = ["url": relay.url, "last_seen": relay.lastSeen]
                    if let time = relay.lastSync { row["last_sync"] = time }
                    if let error = relay.lastError { row["last_error"] = error }
                    if let time = relay.lastErrorAt { row["last_error_at"] = time }
                    return row
                }
            }
            if let authors = try? await sync.syncAuthors() { document["sync_authors"] = authors.count }
        }
        // Relays served at /<key> beside this one (`martlet_hosted_relays*` in /metrics).
        if let hosted { document["hosted"] = HostedRelayFigures(hosted).json }
        if let icon = info.icon { document["icon"] = icon }
        if let url = info.url { document["url"] = url }
        if let stats {
            document["store"] = [
                "events": stats.eventCount,
                "bytes": stats.bytesOnDisk,
                // A count per private kind would tell anyone when gift wraps arrive, and how many.
                "top_kinds": stats.topKinds.filter { !relay.configuration.access.privateKinds.contains($0.kind) }
                    .map { ["kind": Int($0.kind.rawValue), "count": $0.count] },
            ] as [String: Any]
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    private static func recentEvents(_ relay: Relay) async -> [[String: Any]] {
        let access = relay.configuration.access
        guard access.mode != .privateRelay else { return [] }
        // A few more than shown, so that hidden kinds leave the list full.
        let filter = Filter(limit: recentCount * 2)
        guard let events = try? await relay.store.query([filter], maxLimit: recentCount * 2, now: relay.clock()) else {
            return []
        }
        return events.lazy.filter { !access.privateKinds.contains($0.kind) }.prefix(recentCount).map { event in
            var item: [String: Any] = [
                "id": event.id.hex, "pubkey": event.pubkey.hex, "kind": Int(event.kind.rawValue),
                "created_at": event.createdAt,
            ]
            if event.kind == .textNote { item["content"] = String(event.content.prefix(excerptLength)) }
            return item
        }
    }
}
