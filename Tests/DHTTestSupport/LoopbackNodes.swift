public import MartletDHT

/// Starts loopback nodes and closes them after `body`, whatever happens.
public func withLoopbackNodes<T>(
    _ count: Int, configure: (inout DHTConfiguration) -> Void = { _ in },
    _ body: ([DHTNode]) async throws -> T
) async throws -> T {
    var nodes: [DHTNode] = []
    do {
        for _ in 0..<count {
            var configuration = DHTConfiguration(host: "127.0.0.1", port: 0)
            // On loopback an answer comes at once unless the machine is loaded; a late answer
            // must not count as a lost node (tests of the timeout set their own).
            configuration.queryTimeout = .seconds(10)
            configure(&configuration)
            nodes.append(try await DHTNode.start(configuration))
        }
        let result = try await body(nodes)
        for node in nodes { try await node.close() }
        return result
    } catch {
        for node in nodes { try? await node.close() }
        throw error
    }
}
