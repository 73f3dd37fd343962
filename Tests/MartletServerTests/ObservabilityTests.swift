import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletTestSupport
import NostrCore
import Testing

/// `log.format: json` and the per-verb metrics, on `martlet serve` itself.
@Suite("Logs and metrics for operators")
struct ObservabilityTests {
    @Test("log.format json writes one JSON object per line; /metrics counts messages by verb, bytes and kinds")
    func jsonLogsAndVerbMetrics() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-observe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("martlet.yaml")
        try "log:\n  level: info\n  format: json\n".write(to: config, atomically: true, encoding: .utf8)
        let errors = folder.appendingPathComponent("stderr")
        let relay = try await RelayProcess.start(
            data: folder.appendingPathComponent("data"), arguments: ["--config", config.path],
            environment: ["MARTLET_LOG_LEVEL": "info"], errors: errors)

        let author = Author()
        let client = try await relay.connect()
        for event in [author.event(content: "one"), author.event(content: "two"), author.event(kind: 7, content: "+")] {
            let answer = try await client.publishAndWait(event)
            #expect(answer.accepted, "\(answer)")
        }
        try await client.send(#"["REQ","s",{"kinds":[1]}]"#)
        try await client.send(#"["HELLO","made-up verbs count as other"]"#)
        try await client.send(#"["CLOSE","s"]"#)
        var sawEOSE = false
        var sawNotice = false
        while !(sawEOSE && sawNotice) {
            let message = try await client.next(timeout: .seconds(20))
            if message.type == "EOSE" { sawEOSE = true }
            if message.type == "NOTICE" { sawNotice = true }
        }
        await client.close()

        let metrics = try await Self.metrics(port: relay.port)
        #expect(metrics["martlet_client_messages_total{verb=\"EVENT\"}"] == 3, "\(metrics)")
        #expect(metrics["martlet_client_messages_total{verb=\"REQ\"}"] == 1)
        #expect(metrics["martlet_client_messages_total{verb=\"CLOSE\"}"] == 1)
        #expect(metrics["martlet_client_messages_total{verb=\"other\"}"] == 1)
        #expect(metrics["martlet_relay_messages_total{verb=\"OK\"}"] == 3)
        #expect(metrics["martlet_relay_messages_total{verb=\"EVENT\"}"] == 2)
        #expect(metrics["martlet_relay_messages_total{verb=\"EOSE\"}"] == 1)
        #expect(metrics["martlet_relay_messages_total{verb=\"NOTICE\"}"] == 1)
        #expect(metrics["martlet_events_accepted_by_kind_total{kind=\"1\"}"] == 2)
        #expect(metrics["martlet_events_accepted_by_kind_total{kind=\"7\"}"] == 1)
        #expect((metrics["martlet_bytes_received_total"] ?? 0) > 3 * 300, "three signed events came in")
        #expect((metrics["martlet_bytes_sent_total"] ?? 0) > 2 * 300, "two events went out")

        #expect(await relay.stop(signal: SIGTERM) == 0)
        let lines = try String(contentsOf: errors, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty)
        var opened: [String: Any]?
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            guard let object else { continue }
            #expect(object["time"] is String && object["level"] is String && object["label"] is String)
            if object["message"] as? String == "connection opened" { opened = object }
        }
        let connection = try #require(opened, "the connection's opening is logged")
        #expect(connection["remote"] as? String == "127.0.0.1" && connection["session"] is String, "\(connection)")
    }

    /// The relay's `/metrics`, as sample name (with labels) to value.
    static func metrics(port: Int) async throws -> [String: Double] {
        let request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let (_, _, body) = try await HTTPGet.run(request)
        var samples: [String: Double] = [:]
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
