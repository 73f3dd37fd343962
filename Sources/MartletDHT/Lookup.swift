extension DHTNode {
    /// Kademlia's iterative lookup: query the closest unqueried nodes, `lookupParallelism` at a
    /// time, learn closer ones from their answers, stop when the `k` closest known have all been
    /// asked (or after `lookupMaxRounds`). Returns the nodes that answered, closest first.
    func lookup(
        target: NodeID, seeds: [IPv4Endpoint], makeQuery: @escaping @Sendable (NodeInfo) -> KRPCQuery
    ) async -> [(NodeInfo, KRPCResponse)] {
        let configuration = core.configuration
        // Seeds' ids are unknown until they answer; they rank first so they are asked.
        var candidates: [IPv4Endpoint: NodeID?] = [:]
        for endpoint in seeds where endpoint != localAddress { candidates[endpoint] = .some(nil) }
        for node in core.state.withLock({ $0.table.closest(to: target, count: 2 * RoutingTable.k) }) {
            candidates[node.address] = node.id
        }
        var asked: Set<IPv4Endpoint> = []
        var answered: [IPv4Endpoint: (NodeInfo, KRPCResponse)] = [:]
        let maxCandidates = 16 * RoutingTable.k

        func rank(_ entry: (key: IPv4Endpoint, value: NodeID?)) -> NodeID {
            entry.value.map { $0.distance(to: target) } ?? NodeID([UInt8](repeating: 0, count: 20))!
        }

        for _ in 0..<configuration.lookupMaxRounds {
            let ranked = candidates.sorted { rank($0) < rank($1) }
            // Nodes that did not answer drop out of the ranking, so the closest k is of live nodes.
            let live = ranked.filter { !asked.contains($0.key) || answered[$0.key] != nil }.prefix(RoutingTable.k)
            let batch = live.filter { !asked.contains($0.key) }.prefix(configuration.lookupParallelism)
            guard !batch.isEmpty else { break }
            let results = await withTaskGroup(of: (IPv4Endpoint, KRPCResponse?).self) { group in
                for (endpoint, knownID) in batch {
                    asked.insert(endpoint)
                    let placeholder = NodeInfo(id: knownID ?? target, address: endpoint)
                    let query = makeQuery(placeholder)
                    group.addTask { (endpoint, try? await self.query(query, to: endpoint)) }
                }
                var collected: [(IPv4Endpoint, KRPCResponse?)] = []
                for await result in group { collected.append(result) }
                return collected
            }
            for case (let endpoint, let response?) in results {
                answered[endpoint] = (NodeInfo(id: response.id, address: endpoint), response)
                candidates[endpoint] = response.id
                for node in response.nodes where node.id != id && node.address != localAddress {
                    if candidates[node.address] == nil, candidates.count < maxCandidates {
                        candidates[node.address] = node.id
                    }
                }
            }
        }
        return answered.values.sorted { $0.0.id.distance(to: target) < $1.0.id.distance(to: target) }
    }
}
