/// BEP 5's routing table: one bucket per shared-prefix length with our id, at most `k` good
/// nodes in each, so the table stays small (≤ 160 × k) however many nodes write to us.
///
///     var table = RoutingTable(ownID: id)
///     table.insert(NodeInfo(id: other, address: endpoint))
///     table.closest(to: target, count: 8)
public struct RoutingTable: Sendable {
    public static let k = 8
    public let ownID: NodeID
    private var buckets: [[NodeInfo]]

    public init(ownID: NodeID) {
        self.ownID = ownID
        buckets = Array(repeating: [], count: NodeID.byteCount * 8)
    }

    public var count: Int { buckets.reduce(0) { $0 + $1.count } }
    public var allNodes: [NodeInfo] { buckets.flatMap { $0 } }

    /// Adds or refreshes a node. A full bucket keeps its older nodes: BEP 5 prefers nodes
    /// that have stayed good, and it stops a flood of fresh ids from displacing them.
    @discardableResult
    public mutating func insert(_ node: NodeInfo) -> Bool {
        guard node.id != ownID else { return false }
        let index = min(ownID.commonPrefixLength(with: node.id), buckets.count - 1)
        if let existing = buckets[index].firstIndex(where: { $0.id == node.id || $0.address == node.address }) {
            buckets[index].remove(at: existing)
            buckets[index].append(node)
            return true
        }
        guard buckets[index].count < RoutingTable.k else { return false }
        buckets[index].append(node)
        return true
    }

    public mutating func remove(address: IPv4Endpoint) {
        for index in buckets.indices { buckets[index].removeAll { $0.address == address } }
    }

    public func closest(to target: NodeID, count: Int = RoutingTable.k) -> [NodeInfo] {
        Array(allNodes.sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }.prefix(count))
    }
}
