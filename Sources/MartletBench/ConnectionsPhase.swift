internal import Foundation
import NostrCore
internal import NIOCore

/// An idle client: one subscription that matches nothing, then silence. Times its
/// connection from the start of the TCP connect to the subscription's `EOSE`.
final class IdleDriver: SocketDriver {
    struct Outcome: Sendable {
        var nanosToEOSE: UInt64?
        var messages = MessageTally()
    }

    private let request: ByteBuffer
    private let startedAt: UInt64
    private var result = Outcome()

    init(request: ByteBuffer, startedAt: UInt64) {
        self.request = request
        self.startedAt = startedAt
    }

    func opened(_ link: SocketLink) {
        link.write(request)
        link.flush()
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        switch link.reply(text) {
        case .eose:
            if result.nanosToEOSE == nil { result.nanosToEOSE = nanos &- startedAt }
            link.markReady()
        case .closed(_, let message):
            result.messages.add("CLOSED " + message)
        case .notice(let message):
            result.messages.add("NOTICE " + message)
        default:
            break
        }
    }

    func outcome() -> Outcome { result }
}

extension RunContext {
    /// The `connections` scenario: `count` idle subscribed connections, and with a pid the
    /// relay's resident memory per connection.
    func connections(into report: inout BenchReport) async throws {
        let tag = "martlet-bench-idle-\(UInt32.random(in: 0...UInt32.max))"
        let request = Frames.request("idle", Filter(tags: [UInt8(ascii: "t"): [tag]]))
        let rssBefore = probe?.residentKilobytes()
        let deadline = phaseDeadline
        log("connections: opening \(configuration.count) connections with one subscription each")
        let ((opened, failed, ready), usage) = try await timed {
            let (opened, failed) = try await openMany(configuration.count, deadline: deadline, tolerant: true) {
                _, startedAt in IdleDriver(request: request, startedAt: startedAt)
            }
            return (opened, failed, await awaitReady(opened))
        }
        // Let the relay settle (lazy allocations, buffers returned) before reading its memory.
        try await Task.sleep(for: .seconds(1))
        let rssAfter = probe?.residentKilobytes()
        if let rssBefore, let rssAfter {
            report.relayMemory = MemoryReport(
                rssBeforeKB: rssBefore, rssAfterKB: rssAfter, connections: ready,
                perConnectionKB: ready > 0 ? Double(rssAfter - rssBefore) / Double(ready) : 0)
            // An allocator keeps what earlier runs freed and hands it out again unseen by VmRSS.
            report.notes.append("memory per connection is only meaningful against a freshly started relay")
        }
        opened.forEach { $0.finish() }
        var outcomes = [IdleDriver.Outcome]()
        for connection in opened { outcomes.append(try await connection.outcome.get()) }
        var messages = MessageTally()
        for outcome in outcomes { messages.merge(outcome.messages) }
        report.phases.append(
            PhaseResult(
                name: "connect+subscribe", count: ready, unit: "connections", seconds: usage.wallSeconds,
                latencies: outcomes.compactMap(\.nanosToEOSE), usage: usage,
                counters: ["failed to connect": failed, "not ready": opened.count - ready], messages: messages.counts))
    }
}
