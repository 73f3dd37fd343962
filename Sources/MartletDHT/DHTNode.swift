import NIOCore
import NIOPosix

/// A Mainline DHT node (BEP 5) that stores and fetches BEP 44 items.
///
///     let node = try await DHTNode.start(DHTConfiguration(host: "127.0.0.1", port: 0))
///     await node.bootstrap([IPv4Endpoint(host: "127.0.0.1", port: 6881)!])
///     let stored = try await node.put(MutableItem.signed(value: .string("hi"), sequence: 1, key: key))
///     let item = await node.getMutable(publicKey: publicKey, salt: [])
///     try await node.close()
public final class DHTNode: Sendable {
    public let id: NodeID
    public let localAddress: IPv4Endpoint
    let core: DHTCore
    let channel: any Channel

    private init(core: DHTCore, channel: any Channel, localAddress: IPv4Endpoint) {
        self.id = core.ownID
        self.core = core
        self.channel = channel
        self.localAddress = localAddress
    }

    public static func start(_ configuration: DHTConfiguration) async throws -> DHTNode {
        let core = DHTCore(ownID: configuration.nodeID ?? .random(), configuration: configuration)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(core: core))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        guard let address = channel.localAddress.flatMap(IPv4Endpoint.init) else {
            try? await channel.close()
            throw DHTError.invalidAddress(configuration.host)
        }
        return DHTNode(core: core, channel: channel, localAddress: address)
    }

    public func close() async throws {
        try await channel.close()
        core.failAll()
    }

    /// Packets dropped or refused so far, by reason.
    public var dropCounts: [DHTDropReason: Int] { core.state.withLock { $0.drops } }
    public var routingTable: [NodeInfo] { core.state.withLock { $0.table.allNodes } }
    public var storedItemCount: Int { core.state.withLock { $0.storage.count } }
    public var pendingQueryCount: Int { core.state.withLock { $0.pending.count } }

    // MARK: Queries.

    /// Sends one query and waits for its response, at most `queryTimeout`.
    public func query(_ query: KRPCQuery, to endpoint: IPv4Endpoint) async throws -> KRPCResponse {
        let address = try endpoint.socketAddress()
        let timeout = TimeAmount.nanoseconds(Int64(core.configuration.queryTimeout.components.seconds) * 1_000_000_000
            + core.configuration.queryTimeout.components.attoseconds / 1_000_000_000)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                guard let transaction = core.register(endpoint, continuation: continuation) else {
                    continuation.resume(throwing: DHTError.tooManyPendingQueries)
                    return
                }
                let message = KRPCMessage(transactionID: [UInt8(transaction >> 8), UInt8(transaction & 0xff)], body: .query(query))
                let core = self.core
                core.attach(
                    channel.eventLoop.scheduleTask(in: timeout) { core.fail(transaction, with: .timeout) }, to: transaction)
                let buffer = channel.allocator.buffer(bytes: message.encoded())
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
            }
        } catch DHTError.timeout {
            // BEP 5: a node that does not answer is no longer good.
            core.state.withLock { $0.table.remove(address: endpoint) }
            throw DHTError.timeout
        }
    }

    public func ping(_ endpoint: IPv4Endpoint) async throws -> NodeID {
        try await query(.ping(id: id), to: endpoint).id
    }

    /// Joins the DHT through `endpoints`: a lookup of our own id fills the routing table.
    /// Returns how many nodes the table then holds.
    @discardableResult
    public func bootstrap(_ endpoints: [IPv4Endpoint]) async -> Int {
        _ = await lookup(target: id, seeds: endpoints) { [id] _ in .findNode(id: id, target: id) }
        return routingTable.count
    }

    /// The newest valid mutable item under `publicKey` and `salt` found on the nodes closest
    /// to its target; items with bad signatures are dropped and counted.
    public func getMutable(publicKey: [UInt8], salt: [UInt8] = [], bootstrap: [IPv4Endpoint] = []) async
        -> MutableItem?
    {
        let target = BEP44.mutableTarget(publicKey: publicKey, salt: salt)
        let answers = await lookup(target: target, seeds: bootstrap) { [id] _ in .get(id: id, target: target, sequence: nil) }
        var best: MutableItem?
        for (_, response) in answers {
            guard let value = response.value, let key = response.publicKey, let signature = response.signature,
                let sequence = response.sequence, key == publicKey
            else { continue }
            let item = MutableItem(publicKey: key, salt: salt, sequence: sequence, value: value, signature: signature)
            if let refusal = DHTCore.check(.mutable(item)) {
                core.count(refusal.reason)
                continue
            }
            if best.map({ Self.supersedes(item, $0) }) ?? true { best = item }
        }
        return best
    }

    /// Whether `item` wins over `other` among answers: the higher `seq`; at equal `seq`
    /// (two writers racing for one slot leave different nodes holding different values) the
    /// value whose encoding sorts first, so that every reader picks the same one.
    static func supersedes(_ item: MutableItem, _ other: MutableItem) -> Bool {
        if item.sequence != other.sequence { return item.sequence > other.sequence }
        return item.value.encoded().lexicographicallyPrecedes(other.value.encoded())
    }

    /// Stores `item` on the `k` closest nodes to its target that gave us a token.
    /// Returns how many accepted it.
    @discardableResult
    public func put(_ item: MutableItem, compareAndSwap: Int64? = nil, bootstrap: [IPv4Endpoint] = []) async -> Int {
        let target = item.target
        let answers = await lookup(target: target, seeds: bootstrap) { [id] _ in .get(id: id, target: target, sequence: nil) }
        let holders = answers.compactMap { node, response in response.token.map { (node, $0) } }.prefix(RoutingTable.k)
        return await withTaskGroup(of: Bool.self) { group in
            for (node, token) in holders {
                group.addTask { [id] in
                    let put = KRPCQuery.put(id: id, token: token, item: .mutable(item), compareAndSwap: compareAndSwap)
                    return (try? await self.query(put, to: node.address)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }
}

/// Feeds datagrams to the core and sends its replies back to their source.
private final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let core: DHTCore

    init(core: DHTCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = IPv4Endpoint(envelope.remoteAddress) else { return }
        guard let reply = core.receive(Array(envelope.data.readableBytesView), from: source) else { return }
        let buffer = context.channel.allocator.buffer(bytes: reply)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.failAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports ICMP "port unreachable" as an error on the next read; the query
        // it concerns times out on its own, and the channel keeps serving.
    }
}
