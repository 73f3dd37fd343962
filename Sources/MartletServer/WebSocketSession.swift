import MartletAxon
import MartletRelay
import NIOWebSocket
import NostrCore

/// What one WebSocket carries messages to and from: a NIP-01 `RelaySession` (text frames of
/// JSON) or an axon `AxonSession` (binary frames of MessagePack), chosen at the upgrade by
/// the `Sec-WebSocket-Protocol` the client asked for. `WebSocketConnection` is the same for
/// both: the framing, the outbox pump and the ping loop do not depend on the protocol.
protocol WebSocketSession: Sendable {
    var id: UInt64 { get }
    var remoteAddress: String? { get }
    var outbox: Outbox { get }
    /// The opcode of the frames the relay writes.
    static var outboundOpcode: WebSocketOpcode { get }
    func receive(_ message: [UInt8]) async
    /// Answers a message larger than the advertised `limit`, which was not read.
    func refuseOversized(limit: Int)
    /// The last message to a consumer too slow for its outbox, before the close.
    static var slowConsumerMessage: [UInt8] { get }
    func close()
}

extension RelaySession: WebSocketSession {
    static var outboundOpcode: WebSocketOpcode { .text }

    func refuseOversized(limit: Int) {
        // The advertised figure (NIP-11 `max_message_length`), not the read limit.
        outbox.send(.notice("invalid: message is larger than \(limit) bytes"))
    }

    static var slowConsumerMessage: [UInt8] {
        RelayMessage.notice("error: connection closed because it could not keep up with its events").encoded()
    }
}

extension AxonSession: WebSocketSession {
    static var outboundOpcode: WebSocketOpcode { .binary }

    func refuseOversized(limit: Int) {
        refuseOversized()
    }

    static var slowConsumerMessage: [UInt8] {
        AxonRelayMessage.error(.internal, "error: connection closed because it could not keep up with its events").encoded()
    }
}
