/// What the mesh is doing, peer by peer, for the status page and `/metrics`
/// (`Mesh.status`).
///
/// ```swift
/// for peer in mesh.status.peers { print(peer.url, peer.state, peer.eventsIn, peer.eventsOut) }
/// mesh.status.count(.live) // peers connected and caught up
/// ```
public struct MeshStatus: Sendable, Equatable {
    /// Where one peer's connection is in its cycle.
    public enum State: String, Sendable, CaseIterable {
        /// Opening the WebSocket.
        case connecting
        /// Connected; the negentropy catch-up is running (live events already flow).
        case syncing
        /// Caught up; only live events flow.
        case live
        /// Waiting before the next attempt, after a failure or a closed connection.
        case backoff
        /// The mesh has stopped.
        case stopped
    }

    /// One peer.
    public struct Peer: Sendable, Equatable {
        public var url: String
        public var state = State.connecting
        /// Why the last connection failed or ended, if one did.
        public var lastError: String?
        /// Events from the peer this relay accepted as new (live and catch-up).
        public var eventsIn = 0
        /// Events this relay sent that the peer accepted as new (live and catch-up).
        public var eventsOut = 0
        /// Connection attempts so far.
        public var connections = 0
        /// The last completed catch-up.
        public var lastCatchUp: RelaySync.Report?
        /// Failures in a row since the peer was last live.
        public var failures = 0

        public init(url: String) {
            self.url = url
        }
    }

    public var peers: [Peer]

    public init(peers: [Peer]) {
        self.peers = peers
    }

    /// How many peers are in `state`.
    public func count(_ state: State) -> Int {
        peers.count { $0.state == state }
    }
}
