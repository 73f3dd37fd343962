import MartletRelay

/// What the status page and `/metrics` show of a node's hosted relays (issue 18): how
/// many there are, how many are open now (store open, tasks running), and for each open
/// one its connections and subscriptions.
///
/// The per-relay figures are labelled by relay key, one series per open relay: bounded by
/// the relays the operator created or joined, and in practice by those in use, since an
/// unused one is closed after `hosted.idle_close`. The status page lists the busiest
/// `shown` of them.
///
/// ```swift
/// let figures = HostedRelayFigures(hosted)
/// figures.prometheus   // martlet_hosted_relays 2, martlet_hosted_relays_open 1, …
/// figures.json         // ["relays": 2, "open": 1, "open_relays": [...]]
/// ```
struct HostedRelayFigures {
    struct OpenRelay {
        let key: HostedRelayKey
        let name: String
        let connections: Int
        let subscriptions: Int
    }

    /// Open relays the status page lists, at most.
    static let shown = 100

    let count: Int
    /// Busiest first, then by key, so that the list holds still between polls.
    let open: [OpenRelay]

    init(_ hosted: HostedRelays) {
        let (count, open) = hosted.openRelays
        self.count = count
        self.open = open.map { opened, name in
            OpenRelay(
                key: opened.key, name: name, connections: opened.relay.connectionCount,
                subscriptions: opened.relay.subscriptions.count)
        }.sorted { ($0.connections, $1.key) > ($1.connections, $0.key) }
    }

    /// For `/status.json`.
    var json: [String: Any] {
        [
            "relays": count,
            "open": open.count,
            "open_relays": open.prefix(Self.shown).map { relay -> [String: Any] in
                ["key": relay.key.hex, "name": relay.name, "connections": relay.connections,
                 "subscriptions": relay.subscriptions]
            },
        ]
    }

    /// Prometheus text exposition lines, after the registry's own. Written here rather
    /// than kept as registered gauges: a closed relay's series must go with it, and a
    /// registry keeps every series it was ever given.
    var prometheus: String {
        var text = """
            # HELP martlet_hosted_relays Relays hosted on this node at /<key>.
            # TYPE martlet_hosted_relays gauge
            martlet_hosted_relays \(count)
            # HELP martlet_hosted_relays_open Hosted relays open now (store open; closed after hosted.idle_close unused).
            # TYPE martlet_hosted_relays_open gauge
            martlet_hosted_relays_open \(open.count)

            """
        guard !open.isEmpty else { return text }
        text += """
            # HELP martlet_hosted_relay_connections WebSocket connections to an open hosted relay.
            # TYPE martlet_hosted_relay_connections gauge

            """
        for relay in open { text += "martlet_hosted_relay_connections{relay=\"\(relay.key.hex)\"} \(relay.connections)\n" }
        text += """
            # HELP martlet_hosted_relay_subscriptions Open REQ subscriptions on an open hosted relay.
            # TYPE martlet_hosted_relay_subscriptions gauge

            """
        for relay in open { text += "martlet_hosted_relay_subscriptions{relay=\"\(relay.key.hex)\"} \(relay.subscriptions)\n" }
        return text
    }
}
