/// The uint16 at the head of every axon frame, `[msg_type, payload]` (docs/axon.md).
///
/// Client messages are numbered from 0x0001, relay messages from 0x0101, so a message sent
/// the wrong way is an unknown type rather than something half understood.
public enum AxonMessageType: UInt16, Sendable, CaseIterable {
    // Client to relay.
    /// `{pubkey: bin 32, sig: bin 64}`: the answer to the challenge.
    case auth = 0x0001
    /// `{event: <event map>}`.
    case publish = 0x0002
    /// `{sub: str, filters: [<filter map>]}`.
    case subscribe = 0x0003
    /// `{sub: str}`.
    case unsubscribe = 0x0004

    // Relay to client.
    /// `{nonce: bin 32}`: sent once, as soon as the connection opens.
    case challenge = 0x0101
    /// `{}` after a good auth, `{id: bin 32}` after a published event was accepted.
    case ok = 0x0102
    /// `{code: uint, message: str, id?: bin 32, sub?: str}`.
    case error = 0x0103
    /// `{sub: str, event: <event map>}`.
    case event = 0x0104
    /// `{sub: str}`: every stored event of the subscription has been sent; live ones follow.
    case endOfStored = 0x0105
}

/// The HTTP-borrowed codes of an axon `Error`.
public enum AxonErrorCode: UInt16, Sendable, CaseIterable {
    /// Malformed MessagePack, a wrong type for a field, an unknown message type, an invalid
    /// event (id, signature) or filter.
    case malformed = 400
    /// Not authenticated: the auth failed, or a message came before it.
    case unauthenticated = 401
    /// Authenticated, but the relay's rules do not allow this (blocked, restricted, PoW).
    case notAllowed = 403
    /// The event is already stored (or a newer version of it is).
    case duplicate = 409
    /// A frame over the size limit, or content over 65,536 bytes.
    case tooLarge = 413
    case rateLimited = 429
    case `internal` = 500
}
