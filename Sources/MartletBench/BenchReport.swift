internal import Foundation

/// What one benchmark run measured: its phases, the relay's CPU and memory, and for
/// ingest the machine's verify bound. Prints as a table (`text`) and saves as JSON.
///
/// ```swift
/// print(report.text)
/// try report.jsonString().write(toFile: "ingest.json", atomically: true, encoding: .utf8)
/// ```
public struct BenchReport: Codable, Sendable {
    public var scenario: Scenario
    public var relay: String
    public var startedAt: String
    public var parameters: [String: Int]
    public var phases: [PhaseResult] = []
    public var verifyBound: VerifyBound?
    /// Ingest throughput over the verify bound: how close the relay came to the machine's limit.
    public var boundRatio: Double?
    public var relayMemory: MemoryReport?
    /// Named comparisons between phases, such as duplicates over new events.
    public var ratios: [String: Double] = [:]
    public var notes: [String] = []

    init(configuration: BenchConfiguration) {
        scenario = configuration.scenario
        relay = configuration.url.description
        startedAt = ISO8601DateFormatter().string(from: Date())
        let all: [String: Int] = [
            "connections": configuration.connections, "window": configuration.window,
            "events": configuration.events, "preload": configuration.preload, "queries": configuration.queries,
            "subscribers": configuration.subscribers, "rate": configuration.rate,
            "seconds": configuration.seconds, "count": configuration.count, "threads": configuration.threads,
            "seed": Int(truncatingIfNeeded: configuration.seed), "timeout": configuration.timeout,
            "differences": configuration.differences, "frame size limit": configuration.frameSizeLimit,
            "reactions": configuration.reactions,
        ]
        let used: [Scenario: [String]] = [
            .ingest: ["connections", "window", "events"],
            .duplicates: ["connections", "window", "events"],
            .query: ["connections", "window", "preload", "queries"],
            .fanout: ["subscribers", "rate", "seconds"],
            .connections: ["count"],
            .negentropy: ["connections", "window", "preload", "differences", "frame size limit"],
            .search: ["connections", "window", "preload", "queries"],
            .count: ["connections", "window", "preload", "queries", "reactions"],
        ]
        parameters = all.filter { used[configuration.scenario]!.contains($0.key) || ["threads", "seed", "timeout"].contains($0.key) }
        if let pid = configuration.pid { parameters["pid"] = Int(pid) }
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report as a table for the terminal.
    public var text: String {
        var lines = ["martlet bench \(scenario.rawValue) against \(relay)"]
        let header = [
            TableText.pad("phase", 18), TableText.pad("count", 8, right: true), TableText.pad("seconds", 9, right: true),
            TableText.pad("throughput", 22, right: true), TableText.pad("p50 ms", 9, right: true), TableText.pad("p90 ms", 9, right: true),
            TableText.pad("p99 ms", 9, right: true), TableText.pad("max ms", 9, right: true), TableText.pad("relay cpu s", 12, right: true),
            TableText.pad("bench cpu s", 12, right: true),
        ]
        lines.append(header.joined())
        for phase in phases {
            let relayCPU = phase.relayCPUSeconds.map { TableText.fixed($0, 2) } ?? "-"
            lines.append(
                [
                    TableText.pad(phase.name, 18), TableText.pad("\(phase.count)", 8, right: true), TableText.pad(TableText.fixed(phase.seconds, 2), 9, right: true),
                    TableText.pad("\(TableText.fixed(phase.throughput, 0)) \(phase.unit)/s", 22, right: true),
                    TableText.pad(TableText.fixed(phase.latency.p50, 2), 9, right: true), TableText.pad(TableText.fixed(phase.latency.p90, 2), 9, right: true),
                    TableText.pad(TableText.fixed(phase.latency.p99, 2), 9, right: true), TableText.pad(TableText.fixed(phase.latency.max, 2), 9, right: true),
                    TableText.pad(relayCPU, 12, right: true), TableText.pad(TableText.fixed(phase.benchCPUSeconds, 2), 12, right: true),
                ].joined())
            if !phase.counters.isEmpty {
                lines.append("    " + phase.counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            for (message, count) in phase.messages.sorted(by: { $0.value > $1.value }).prefix(5) {
                lines.append("    \(count) x \"\(message)\"")
            }
        }
        if let bound = verifyBound {
            var line = "verify bound: \(TableText.fixed(bound.microsecondsPerVerify, 1)) µs/verify on one core"
            line += " (\(TableText.fixed(bound.microsecondsPerVerifyWithLift, 1)) with key lifting), \(bound.cores) cores"
            line += " -> \(TableText.fixed(bound.eventsPerSecond, 0)) events/s"
            if let boundRatio { line += "; achieved \(TableText.fixed(boundRatio * 100, 1))% of the bound" }
            lines.append(line)
        }
        if let memory = relayMemory {
            lines.append(
                "relay memory: VmRSS \(memory.rssBeforeKB) kB -> \(memory.rssAfterKB) kB for \(memory.connections) connections"
                    + " = \(TableText.fixed(memory.perConnectionKB, 1)) kB per connection")
        }
        for (name, value) in ratios.sorted(by: { $0.key < $1.key }) {
            lines.append("\(name): \(TableText.fixed(value, 3))")
        }
        lines.append(contentsOf: notes)
        return lines.joined(separator: "\n")
    }

}

/// Column layout shared by the reports' terminal tables.
enum TableText {
    /// `text` padded to `width`, on the left or (numbers) on the right, then a space.
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let room = max(0, width - text.count)
        return right ? String(repeating: " ", count: room) + text + " " : text + String(repeating: " ", count: room)
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

/// One timed phase of a run.
public struct PhaseResult: Codable, Sendable {
    public var name: String
    /// Events answered, queries finished, deliveries received or connections subscribed.
    public var count: Int
    /// What `count` counts, for the throughput's unit.
    public var unit: String
    public var seconds: Double
    /// `count / seconds`.
    public var throughput: Double
    public var latency: LatencySummary
    public var relayCPUSeconds: Double?
    public var benchCPUSeconds: Double
    public var counters: [String: Int]
    /// Replies worth reading (rejections, notices, CLOSED reasons) by text, with how often.
    public var messages: [String: Int]

    init(
        name: String, count: Int, unit: String, seconds: Double, latencies: [UInt64], usage: Usage,
        counters: [String: Int] = [:], messages: [String: Int] = [:]
    ) {
        self.name = name
        self.count = count
        self.unit = unit
        self.seconds = seconds
        self.throughput = seconds > 0 ? Double(count) / seconds : 0
        self.latency = LatencySummary(nanos: latencies)
        self.relayCPUSeconds = usage.relayCPUSeconds
        self.benchCPUSeconds = usage.benchCPUSeconds
        self.counters = counters
        self.messages = messages
    }
}

/// The relay's resident memory around the connections scenario.
public struct MemoryReport: Codable, Sendable {
    public var rssBeforeKB: Int
    public var rssAfterKB: Int
    public var connections: Int
    public var perConnectionKB: Double
}

/// Counts reply texts, keeping at most a few dozen distinct ones so a relay that
/// answers every event with a unique message cannot grow the report without bound.
struct MessageTally: Sendable {
    private(set) var counts: [String: Int] = [:]

    mutating func add(_ message: String) {
        if counts[message] != nil || counts.count < 32 {
            counts[message, default: 0] += 1
        } else {
            counts["(other messages)", default: 0] += 1
        }
    }

    mutating func merge(_ other: MessageTally) {
        for (message, count) in other.counts { counts[message, default: 0] += count }
    }
}
