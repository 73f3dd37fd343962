import Synchronization
import NIOCore

/// The node's shared state and its answers to incoming packets. Runs on the channel's event
/// loop for reads and on callers' tasks for queries; one lock guards it all, never held across I/O.
final class DHTCore: Sendable {
    struct State: ~Copyable {
        var table: RoutingTable
        var tokens: TokenIssuer
        var storage: ItemStorage
        var limiter: SourceRateLimiter
        var pending: [UInt16: Pending] = [:]
        var nextTransaction: UInt16 = .random(in: 0...UInt16.max)
        var drops: [DHTDropReason: Int] = [:]
    }

    struct Pending {
        let endpoint: IPv4Endpoint
        let continuation: CheckedContinuation<KRPCResponse, any Error>
        /// Cancelled on an answer, so finished queries leave no timers behind.
        var timeout: Scheduled<Void>?
    }

    let ownID: NodeID
    let configuration: DHTConfiguration
    let state: Mutex<State>

    init(ownID: NodeID, configuration: DHTConfiguration) {
        self.ownID = ownID
        self.configuration = configuration
        let now = NIODeadline.now()
        state = Mutex(
            State(
                table: RoutingTable(ownID: ownID), tokens: TokenIssuer(now: now),
                storage: ItemStorage(maxItems: configuration.maxStoredItems, maxBytes: configuration.maxStoredBytes),
                limiter: SourceRateLimiter(
                    packetsPerSecond: configuration.packetsPerSecondPerIP, burst: configuration.packetBurstPerIP,
                    maxSources: configuration.maxTrackedIPs)))
    }

    func count(_ reason: DHTDropReason) {
        state.withLock { $0.drops[reason, default: 0] += 1 }
    }

    /// Handles one datagram; returns the reply to send back, if any.
    func receive(_ bytes: [UInt8], from source: IPv4Endpoint) -> [UInt8]? {
        let now = NIODeadline.now()
        guard state.withLock({ $0.limiter.allow(source.octets, now: now) }) else {
            count(.rateLimited)
            return nil
        }
        let message: KRPCMessage
        do {
            message = try KRPCMessage.decode(bytes)
        } catch .unknownMethod(_, let transactionID) {
            return KRPCMessage(
                transactionID: transactionID, body: .error(code: KRPCErrorCode.methodUnknown, message: "Method Unknown")
            ).encoded()
        } catch {
            count(.malformed)
            return nil
        }
        switch message.body {
        case .query(let query):
            if !message.readOnly {
                state.withLock { _ = $0.table.insert(NodeInfo(id: query.senderID, address: source)) }
            }
            let body = answer(query, from: source, now: now)
            return KRPCMessage(transactionID: message.transactionID, body: body).encoded()
        case .response(let response):
            complete(message.transactionID, from: source, with: .success(response))
        case .error(let code, let text):
            complete(message.transactionID, from: source, with: .failure(DHTError.remote(code: code, message: text)))
        }
        return nil
    }

    private func answer(_ query: KRPCQuery, from source: IPv4Endpoint, now: NIODeadline) -> KRPCMessage.Body {
        switch query {
        case .ping:
            return .response(KRPCResponse(id: ownID))
        case .findNode(_, let target):
            return .response(KRPCResponse(id: ownID, nodes: closest(to: target)))
        case .getPeers(_, let infoHash):
            // Martlet keeps no torrent peers: it answers with nodes and a token, as BEP 5 allows.
            let token = state.withLock { $0.tokens.token(for: source, now: now) }
            return .response(KRPCResponse(id: ownID, nodes: closest(to: infoHash), token: token))
        case .announcePeer(_, _, _, let token, _):
            guard state.withLock({ $0.tokens.isValid(token, for: source, now: now) }) else {
                count(.badToken)
                return .error(code: KRPCErrorCode.protocolError, message: "bad token")
            }
            return .response(KRPCResponse(id: ownID))
        case .get(_, let target, let sequence):
            return .response(getResponse(target: target, sequence: sequence, source: source, now: now))
        case .put(_, let token, let item, let compareAndSwap):
            return put(item, token: token, compareAndSwap: compareAndSwap, source: source, now: now)
        }
    }

    private func closest(to target: NodeID) -> [NodeInfo] {
        state.withLock { $0.table.closest(to: target) }
    }

    private func getResponse(target: NodeID, sequence: Int64?, source: IPv4Endpoint, now: NIODeadline) -> KRPCResponse {
        var response = KRPCResponse(id: ownID, nodes: closest(to: target))
        let item = state.withLock { state in
            response.token = state.tokens.token(for: source, now: now)
            return state.storage.item(for: target, now: now)
        }
        switch item {
        case .immutable(let value):
            response.value = value
        case .mutable(let mutable):
            response.sequence = mutable.sequence
            // BEP 44: with a `seq` in the query, the value is sent only when ours is newer.
            if sequence.map({ mutable.sequence > $0 }) ?? true {
                response.value = mutable.value
                response.publicKey = mutable.publicKey
                response.signature = mutable.signature
            }
        case nil:
            break
        }
        return response
    }

    private func put(
        _ item: DHTItem, token: [UInt8], compareAndSwap: Int64?, source: IPv4Endpoint, now: NIODeadline
    ) -> KRPCMessage.Body {
        guard state.withLock({ $0.tokens.isValid(token, for: source, now: now) }) else {
            count(.badToken)
            return .error(code: KRPCErrorCode.protocolError, message: "bad token")
        }
        if let refusal = Self.check(item) {
            count(refusal.reason)
            return .error(code: refusal.code, message: refusal.message)
        }
        switch state.withLock({ $0.storage.put(item, compareAndSwap: compareAndSwap, now: now) }) {
        case .stored:
            return .response(KRPCResponse(id: ownID))
        case .sequenceTooLow:
            count(.staleSequence)
            return .error(code: KRPCErrorCode.sequenceTooLow, message: "sequence number less than current")
        case .casMismatch:
            count(.staleSequence)
            return .error(code: KRPCErrorCode.casMismatch, message: "CAS mismatch, re-read value and try again")
        case .full:
            count(.storageFull)
            return .error(code: KRPCErrorCode.server, message: "storage full")
        }
    }

    /// BEP 44's checks on an item before it is stored or believed.
    static func check(_ item: DHTItem) -> (reason: DHTDropReason, code: Int64, message: String)? {
        guard item.value.encoded().count <= BEP44.maxValueSize else {
            return (.tooLarge, KRPCErrorCode.messageTooBig, "message (v field) too big")
        }
        if case .mutable(let mutable) = item {
            guard mutable.salt.count <= BEP44.maxSaltSize else {
                return (.tooLarge, KRPCErrorCode.saltTooBig, "salt (salt field) too big")
            }
            guard mutable.isSignatureValid else {
                return (.badSignature, KRPCErrorCode.invalidSignature, "invalid signature")
            }
        }
        return nil
    }

    // MARK: Our own queries.

    /// Registers a query and returns its transaction id, or nil when too many are pending.
    func register(_ endpoint: IPv4Endpoint, continuation: CheckedContinuation<KRPCResponse, any Error>) -> UInt16? {
        state.withLock { state in
            guard state.pending.count < configuration.maxPendingQueries else { return nil }
            var id = state.nextTransaction
            while state.pending[id] != nil { id &+= 1 }
            state.nextTransaction = id &+ 1
            state.pending[id] = Pending(endpoint: endpoint, continuation: continuation)
            return id
        }
    }

    func attach(_ timeout: Scheduled<Void>, to transaction: UInt16) {
        let attached = state.withLock { state in
            guard state.pending[transaction] != nil else { return false }
            state.pending[transaction]!.timeout = timeout
            return true
        }
        if !attached { timeout.cancel() }
    }

    func complete(_ transactionID: [UInt8], from source: IPv4Endpoint, with result: Result<KRPCResponse, any Error>) {
        guard transactionID.count == 2 else {
            count(.unexpectedResponse)
            return
        }
        let id = UInt16(transactionID[0]) << 8 | UInt16(transactionID[1])
        let pending: Pending? = state.withLock { state in
            guard let pending = state.pending[id], pending.endpoint == source else { return nil }
            state.pending[id] = nil
            if case .success(let response) = result {
                state.table.insert(NodeInfo(id: response.id, address: source))
            }
            return pending
        }
        guard let pending else {
            count(.unexpectedResponse)
            return
        }
        pending.timeout?.cancel()
        pending.continuation.resume(with: result)
    }

    func fail(_ transactionID: UInt16, with error: DHTError) {
        let pending = state.withLock { $0.pending.removeValue(forKey: transactionID) }
        pending?.continuation.resume(throwing: error)
    }

    func failAll() {
        let all = state.withLock { state in
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for pending in all { pending.continuation.resume(throwing: DHTError.closed) }
    }
}
