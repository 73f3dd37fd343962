internal import Foundation
public import NostrCore
internal import NIOCore

/// Latency percentiles of one phase, in milliseconds (nearest-rank percentiles).
///
/// ```swift
/// let summary = LatencySummary(nanos: [1_000_000, 2_000_000]) // p50 1 ms, max 2 ms
/// ```
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    public init(nanos: [UInt64]) {
        let sorted = nanos.sorted()
        count = sorted.count
        func rank(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[Swift.min(index, sorted.count - 1)]) / 1e6
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = Double(sorted.last ?? 0) / 1e6
        mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, &+)) / Double(sorted.count) / 1e6
    }
}

/// Another process's CPU time and memory, read from `/proc`: the relay's side of a run.
///
/// ```swift
/// let relay = ProcessProbe(pid: 4242)
/// let before = relay.cpuSeconds()
/// ```
public struct ProcessProbe: Sendable {
    public let pid: Int32

    public init(pid: Int32) { self.pid = pid }

    /// User plus system CPU seconds so far (`utime + stime` of `/proc/<pid>/stat`).
    public func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // The command name in parentheses may hold spaces; the fields after it do not.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory in kilobytes (`VmRSS` of `/proc/<pid>/status`).
    public func residentKilobytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst("VmRSS:".count).split(whereSeparator: \.isWhitespace).first ?? "")
        }
        return nil
    }

    /// This process's own CPU seconds: what the load generator itself cost.
    public static func ownCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Lifts this process's soft limit on open files to the hard one: a thousand
    /// subscribers are a thousand sockets, and the usual soft limit is 1024.
    static func raiseOpenFileLimit() {
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }
}

/// The machine's ingest ceiling measured in the same run: BIP-340 verification is the
/// physical limit of ingest (every other stage of an EVENT costs a fraction of a verify),
/// so a relay can accept at most `cores / time-per-verify` events per second.
///
/// ```swift
/// let bound = VerifyBound.measure(events: events, samples: 2000)
/// bound.eventsPerSecond // ~40,000 on two cores
/// ```
public struct VerifyBound: Codable, Sendable {
    public var samples: Int
    /// One verify with the x-only key already lifted (the relay's best case, so the bound
    /// is a true upper bound).
    public var microsecondsPerVerify: Double
    /// One verify including lifting the key, as a relay without a key cache pays.
    public var microsecondsPerVerifyWithLift: Double
    public var cores: Int
    public var eventsPerSecond: Double

    /// Times `samples` verifications on the calling thread (one core), cycling over `events`.
    public static func measure(events: [Event], samples: Int) -> VerifyBound {
        precondition(!events.isEmpty, "the verify bound needs signed events")
        let pool = Array(events.prefix(samples))
        let keys = pool.map { XOnlyKey($0.pubkey)! }
        var valid = 0
        for index in 0..<min(100, pool.count) where Schnorr.verify(pool[index].sig, digest: pool[index].id.raw, key: keys[index]) {
            valid += 1
        }
        let start = monotonicNanos()
        for index in 0..<samples {
            let slot = index % pool.count
            if Schnorr.verify(pool[slot].sig, digest: pool[slot].id.raw, key: keys[slot]) { valid += 1 }
        }
        let middle = monotonicNanos()
        for index in 0..<samples {
            let event = pool[index % pool.count]
            if Schnorr.verify(event.sig, digest: event.id.raw, pubkey: event.pubkey) { valid += 1 }
        }
        let end = monotonicNanos()
        precondition(valid == min(100, pool.count) + 2 * samples, "a freshly signed event failed to verify")
        let perVerify = Double(middle - start) / Double(samples) / 1e3
        let cores = System.coreCount
        return VerifyBound(
            samples: samples, microsecondsPerVerify: perVerify,
            microsecondsPerVerifyWithLift: Double(end - middle) / Double(samples) / 1e3,
            cores: cores, eventsPerSecond: Double(cores) * 1e6 / perVerify)
    }
}
