/// Counts the pings a peer has left unanswered, for a connection's own ping loop; shared by
/// every protocol that pings its peers, whatever its frames look like.
///
/// Each `tick()` is one ping period. Anything heard from the peer since the previous tick
/// counts as an answer: a pong, but also any message, since a peer that sends is alive.
/// The private-relay plan: "pings every 30 s and a connection that misses two is closed";
/// one late pong on a busy machine must not drop a live client.
///
/// ```swift
/// var liveness = Liveness()
/// liveness.heard()                      // on every inbound frame
/// switch liveness.tick() {              // every ping period
/// case .ping: sendPing()
/// case .close: closeConnection()
/// }
/// ```
struct Liveness: Sendable {
    enum Action: Equatable, Sendable {
        case ping
        case close
    }

    /// Pings in a row left unanswered before the connection is closed.
    let allowedMisses: Int
    private var heardSinceLastPing = true
    private var misses = 0

    init(allowedMisses: Int = 2) {
        self.allowedMisses = allowedMisses
    }

    mutating func heard() {
        heardSinceLastPing = true
    }

    /// One ping period has passed: ping again, or give up on the peer.
    mutating func tick() -> Action {
        misses = heardSinceLastPing ? 0 : misses + 1
        heardSinceLastPing = false
        return misses >= allowedMisses ? .close : .ping
    }
}
