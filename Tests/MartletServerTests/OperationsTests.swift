import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// What an operator watches: `/metrics` for Prometheus, and the status page a browser
/// renders from `/status.json`, whose figures must agree with `/metrics`.
@Suite("Metrics and status page")
struct OperationsTests {
    /// Two connections, one subscription, three new events and one duplicate.
    private func traffic(_ relay: TestRelay) async throws -> (NostrTestClient, NostrTestClient) {
        let author = Author()
        let reader = try await relay.connect()
        try await reader.request("live", #"{"kinds":[1]}"#)
        _ = try await reader.eventsUntilEOSE("live")
        let writer = try await relay.connect()
        let note = author.event(content: "first note")
        #expect(try await writer.publishAndWait(note).accepted)
        #expect(try await writer.publishAndWait(author.event(content: "second note")).accepted)
        #expect(try await writer.publishAndWait(author.event(kind: 7, content: "+", tags: [["e", note.id.hex]])).accepted)
        #expect(try await writer.publishAndWait(note).message.hasPrefix("duplicate:"))
        return (reader, writer)
    }

    @Test("/metrics reports connections, subscriptions, events by outcome, latencies, fan-out and store size")
    func metrics() async throws {
        try await TestRelay.with { relay in
            let (reader, writer) = try await traffic(relay)
            let response = try await relay.http(path: "metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = String(decoding: response.body, as: UTF8.self)
            func value(_ name: String) -> Double? { Metrics.value(of: name, in: text) }
            #expect(value("martlet_connections") == 2)
            #expect(value("martlet_connections_opened_total") == 2)
            #expect(value("martlet_subscriptions") == 1)
            #expect(value("martlet_events_received_total") == 4)
            #expect(value("martlet_events_accepted_total") == 3)
            #expect(value(#"martlet_events_rejected_total{reason="duplicate"}"#) == 1)
            #expect(value(#"martlet_events_rejected_total{reason="blocked"}"#) == 0)
            #expect(value("martlet_fanout_deliveries_total") == 2, "two notes reached the live subscription")
            #expect(value("martlet_store_events") == 3)
            #expect((value("martlet_store_bytes") ?? 0) > 0)
            #expect(value("martlet_event_ingest_duration_seconds_count") == 4)
            #expect((value("martlet_query_duration_seconds_count") ?? 0) >= 1)
            #expect(text.contains("# TYPE martlet_event_ingest_duration_seconds histogram"))
            #expect(text.contains(#"martlet_event_ingest_duration_seconds_bucket{le="0.0001"}"#))
            await reader.close()
            await writer.close()
        }
    }

    @Test("/status.json carries the page's figures: info, counts, kinds and recent events")
    func statusJSON() async throws {
        try await TestRelay.with(configure: { $0.info.name = "Status relay" }) { relay in
            let (reader, writer) = try await traffic(relay)
            let response = try await relay.http(path: "status.json")
            let status = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            #expect(status["name"] as? String == "Status relay")
            #expect(status["connections"] as? Int == 2)
            #expect((status["events"] as? [String: Int])?["accepted"] == 3)
            let store = try #require(status["store"] as? [String: Any])
            #expect(store["events"] as? Int == 3)
            let kinds = try #require(store["top_kinds"] as? [[String: Int]])
            #expect(kinds == [["kind": 1, "count": 2], ["kind": 7, "count": 1]])
            let recent = try #require(status["recent"] as? [[String: Any]])
            #expect(recent.count == 3)
            #expect(recent.contains { $0["content"] as? String == "second note" })
            await reader.close()
            await writer.close()
        }
    }

    @Test("a gift wrap never shows among the status page's recent events")
    func privateKindsStayHidden() async throws {
        try await TestRelay.with { relay in
            let client = try await relay.connect()
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", Author().pubkey.hex]])
            #expect(try await client.publishAndWait(wrap).accepted)
            let status = try JSONSerialization.jsonObject(with: try await relay.http(path: "status.json").body) as? [String: Any]
            #expect((status?["recent"] as? [Any])?.isEmpty == true)
            await client.close()
        }
    }

    @Test("headless Chromium renders the status page with the figures /metrics reports")
    func statusPageInBrowser() async throws {
        let chromium = try #require(Chromium.path, "Chromium is not installed: run `make browser-deps`")
        try await TestRelay.with { relay in
            let (reader, writer) = try await traffic(relay)
            // Virtual time lets the page's two-second polls run without waiting for them.
            let dom = try await Chromium.run(chromium, ["--virtual-time-budget=5000", "--dump-dom", relay.httpURL])
            let polls = Int(Chromium.attribute("data-polls", in: dom) ?? "") ?? 0
            #expect(polls >= 2, "the page polled status.json and redrew")
            #expect(dom.contains("<canvas id=\"eventsChart\""))
            let connections = try await relay.metric("martlet_connections")
            let stored = try await relay.metric("martlet_store_events")
            #expect(Chromium.text(ofID: "connections", in: dom).flatMap(Double.init) == connections)
            #expect(Chromium.text(ofID: "stored", in: dom).flatMap(Double.init) == stored)
            #expect(Chromium.text(ofID: "accepted", in: dom) == "3")
            #expect(dom.contains("note (1)") && dom.contains("reaction (7)"), "the kinds breakdown names the kinds")
            #expect(dom.contains("second note"), "recent events are listed")
            if let path = ProcessInfo.processInfo.environment["MARTLET_STATUS_SCREENSHOT"] {
                _ = try await Chromium.run(
                    chromium, ["--virtual-time-budget=5000", "--window-size=1200,1500", "--screenshot=\(path)", relay.httpURL])
            }
            await reader.close()
            await writer.close()
        }
    }
}

/// Debian's headless Chromium, driven from the command line.
enum Chromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs Chromium headless with `arguments` and returns what it printed on stdout.
    static func run(_ path: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        // As root Chromium needs --no-sandbox; a throwaway profile keeps runs independent.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.path)",
        ] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try await spawn(process)
        let reading = Task { await blocking { output.fileHandleForReading.readDataToEndOfFile() } }
        do {
            _ = try await withTimeout(.seconds(90)) {
                while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
                return true
            }
        } catch {
            process.terminate()
            throw error
        }
        #expect(process.terminationStatus == 0, "chromium exited with \(process.terminationStatus)")
        return String(decoding: await reading.value, as: UTF8.self)
    }

    /// The text inside the element with `id` (no nested markup).
    static func text(ofID id: String, in html: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\""),
            let open = html[start.upperBound...].firstIndex(of: ">"),
            let close = html[open...].firstIndex(of: "<")
        else { return nil }
        return String(html[html.index(after: open)..<close]).replacingOccurrences(of: ",", with: "")
    }

    static func attribute(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "\(name)=\"") else { return nil }
        return html[start.upperBound...].split(separator: "\"", maxSplits: 1).first.map(String.init)
    }
}
