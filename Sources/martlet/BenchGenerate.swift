import ArgumentParser
import Foundation
import MartletBench

extension Bench {
    /// `martlet bench generate`: the bench workload's signed events as JSONL, to seed a
    /// large store with `martlet import` (the relay's own ingest pipeline) instead of
    /// publishing them over a WebSocket one round trip at a time.
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the bench workload's signed events as JSONL, for `martlet import`.",
            discussion: """
                The events of the ingest and query scenarios' workload (mostly notes, some \
                reactions, profiles, follow lists and articles over the 30 days before --anchor), \
                signed on every core in chunks of \(WorkloadLines.chunkSize). The same seed, anchor \
                and count give the same events (ids; each signature draws fresh randomness). With \
                --arrival-order, created_at rises from each line to the next, as a live relay \
                receives events, so the store is written in time order. Seed a relay, then query \
                what is there:
                  martlet bench generate --events 1000000 | martlet import - --database <url>
                  martlet bench ws://127.0.0.1:7777 query --preload 0
                Progress goes to stderr.
                """)

        @Option(help: "Events to write.") var events: Int
        @Option(help: "Seed of the workload's authors, topics and event shapes (the query scenario's --seed).")
        var seed: UInt64 = 1
        @Option(help: "Unix time anchoring the events' created_at (default: now).") var anchor: Int64?
        @Option(help: "File to write (default: standard output).") var output: String?
        @Flag(help: "Rising created_at from the first line to the last, as a live relay receives events (default: drawn at random over the 30 days).")
        var arrivalOrder = false

        func validate() throws {
            guard events > 0 else { throw ValidationError("--events must be positive") }
        }

        func run() async throws {
            let sink: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw ValidationError("cannot create \(output)")
                }
                sink = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else {
                sink = FileHandle.standardOutput
            }
            let lines = WorkloadLines(
                seed: seed, count: events, now: anchor ?? Int64(Date().timeIntervalSince1970),
                order: arrivalOrder ? .arrival : .drawn)
            let status = StatusLine()
            let started = ContinuousClock.now
            try await lines.write { bytes in try sink.write(contentsOf: bytes) } progress: { written in
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                status.update("generate: \(written) of \(events) events signed in \(Int(seconds)) s")
            }
            status.finish()
            if output != nil { try sink.close() }
        }
    }
}
