import Foundation
import Glibc
public import Logging
public import NostrCore
import Synchronization

/// A write rule decided by an outside program speaking strfry's plugin protocol, so an
/// operator's existing strfry plugins run here unchanged (`access.write_plugin`).
///
/// For each event the relay writes one JSON line to the plugin's stdin,
/// `{"type":"new","event":{...},"receivedAt":...,"sourceType":"IP4","sourceInfo":"203.0.113.7"}`
/// (`authed` too, when the connection authenticated), and reads one line back,
/// `{"id":"<event id>","action":"accept"|"reject"|"shadowReject","msg":"blocked: ..."}`.
/// It sees every origin: clients (`IP4`/`IP6`), mesh peers (`Stream`), `martlet sync`
/// (`Sync`) and `martlet import` (`Import`).
///
/// The plugin is started on the first write, started again on the next write after it
/// dies, and replaced when its file changes (a command without spaces is a path, as in
/// strfry). An answer that does not come within `timeout` (plus `startAllowance` while a
/// new plugin has not answered yet) is a hung plugin: it is killed and restarted, and the
/// events it held are accepted or refused as `failOpen` says.
public final class WritePlugin: WritePolicy {
    public struct Configuration: Sendable, Equatable {
        /// A shell command; without spaces, the path of the plugin.
        public var command: String
        /// How long one event may wait for its answer.
        public var timeout: Duration
        /// Whether an event the plugin could not judge is accepted (`true`) or refused.
        public var failOpen: Bool

        public init(command: String, timeout: Duration = .seconds(5), failOpen: Bool = false) {
            self.command = command
            self.timeout = timeout
            self.failOpen = failOpen
        }
    }

    /// What became of one question to the plugin.
    enum Verdict: Sendable, Equatable {
        case accept
        case reject(String)
        case shadowReject
        /// No answer: the plugin timed out, died, or could not start.
        case unanswered(String)
    }

    private struct Waiter {
        var ticket: UInt64
        var generation: UInt64
        var continuation: CheckedContinuation<Verdict, Never>
    }

    private struct State {
        /// The plugin new events go to, and the generation it was started as.
        var current: (generation: UInt64, process: PluginProcess, modified: timespec?)?
        /// Every generation still running: a replaced plugin answers what it was asked.
        var running: [UInt64: PluginProcess] = [:]
        /// The generations that have answered at least once, so are past their start.
        var answered: Set<UInt64> = []
        var generations: UInt64 = 0
        var tickets: UInt64 = 0
        /// Questions in flight, by the event id the plugin echoes.
        var waiting: [String: [Waiter]] = [:]
        /// Plugins in a row that ended without answering anything: a crash loop is
        /// restarted at most once a second.
        var fruitlessStarts = 0
        var lastStart: ContinuousClock.Instant?
    }

    /// What a plugin that has not answered yet gets on top of `timeout`: starting an
    /// interpreter on a busy machine is not a hang.
    static let startAllowance = Duration.seconds(10)

    public let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "martlet.write-plugin")) {
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        state.withLock { $0.running.values.forEach { $0.kill() } }
    }

    public func check(_ event: Event, context: WriteContext) async -> RejectReason? {
        switch await ask(event, context: context) {
        case .accept:
            return nil
        case .shadowReject:
            return .silent("refused silently by the write plugin")
        case .reject(let message):
            return Self.reason(fromMessage: message)
        case .unanswered(let why):
            logger.warning("write plugin: \(why)", metadata: ["id": "\(event.id)"])
            return configuration.failOpen ? nil : .error("the write policy could not judge this event")
        }
    }

    /// A plugin's `msg` carries its own NIP-01 prefix (`blocked: not on white-list`); one
    /// without a known prefix is a `blocked:` refusal in the plugin's words.
    public static func reason(fromMessage message: String) -> RejectReason {
        let trimmed = message.trimmingCharacters(in: .whitespaces)
        if let colon = trimmed.firstIndex(of: ":"),
            let prefix = RejectReason.Prefix(rawValue: String(trimmed[..<colon]))
        {
            let detail = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            return RejectReason(prefix, detail)
        }
        return .blocked(trimmed.isEmpty ? "rejected by the write plugin" : trimmed)
    }

    // MARK: - Asking

    private func ask(_ event: Event, context: WriteContext) async -> Verdict {
        let request = Self.request(for: event, context: context)
        let key = event.id.hex
        return await withCheckedContinuation { continuation in
            let asked: (ticket: UInt64, process: PluginProcess, timeout: Duration)? = state.withLock { state in
                guard let (generation, process) = startIfNeeded(&state) else { return nil }
                state.tickets += 1
                let ticket = state.tickets
                state.waiting[key, default: []].append(
                    Waiter(ticket: ticket, generation: generation, continuation: continuation))
                let started = state.answered.contains(generation)
                return (ticket, process, configuration.timeout + (started ? .zero : Self.startAllowance))
            }
            guard let asked else {
                continuation.resume(returning: .unanswered("the plugin could not be started"))
                return
            }
            asked.process.send(request)
            Task {
                try? await Task.sleep(for: asked.timeout)
                self.expire(ticket: asked.ticket, key: key)
            }
        }
    }

    /// The running plugin, started (again) when there is none or its file changed.
    private func startIfNeeded(_ state: inout State) -> (UInt64, PluginProcess)? {
        let modified = scriptModificationTime()
        if let current = state.current {
            if modified == nil || Self.same(current.modified, modified) {
                return (current.generation, current.process)
            }
            // A new version of the script: the old one answers what it holds, then sees
            // the end of its input and exits.
            logger.info("write plugin changed on disk; starting the new version")
            current.process.closeInput()
            state.current = nil
        }
        if state.fruitlessStarts >= 3, let last = state.lastStart, ContinuousClock.now - last < .seconds(1) {
            return nil
        }
        state.generations += 1
        let generation = state.generations
        do {
            let process = try PluginProcess.launch(
                command: configuration.command,
                onLine: { [weak self] line in self?.received(line, generation: generation) },
                onExit: { [weak self] in self?.exited(generation: generation) })
            state.current = (generation, process, modified)
            state.running[generation] = process
            state.fruitlessStarts += 1
            state.lastStart = .now
            logger.info("write plugin started", metadata: ["pid": "\(process.pid)"])
            return (generation, process)
        } catch {
            logger.error("write plugin: \(error)")
            return nil
        }
    }

    private func scriptModificationTime() -> timespec? {
        guard !configuration.command.contains(" ") else { return nil }
        var status = stat()
        guard stat(configuration.command, &status) == 0 else { return nil }
        return status.st_mtim
    }

    private static func same(_ lhs: timespec?, _ rhs: timespec?) -> Bool {
        guard let lhs, let rhs else { return lhs == nil && rhs == nil }
        return lhs.tv_sec == rhs.tv_sec && lhs.tv_nsec == rhs.tv_nsec
    }

    // MARK: - Answers

    private struct Answer: Decodable {
        var id: String
        var action: String
        var msg: String?
    }

    private func received(_ line: [UInt8], generation: UInt64) {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(line)) else {
            logger.warning("write plugin printed a line that is not an answer: \(String(decoding: line.prefix(200), as: UTF8.self))")
            return
        }
        let verdict: Verdict =
            switch answer.action {
            case "accept": .accept
            case "reject": .reject(answer.msg ?? "")
            case "shadowReject": .shadowReject
            default: .unanswered("unknown action \"\(answer.action)\"")
            }
        let waiter: Waiter? = state.withLock { state in
            state.fruitlessStarts = 0
            state.answered.insert(generation)
            return Self.take(&state, key: answer.id.lowercased()) { $0.generation == generation }
        }
        waiter?.continuation.resume(returning: verdict)
    }

    private func expire(ticket: UInt64, key: String) {
        let expired: (Waiter, PluginProcess?)? = state.withLock { state in
            guard let waiter = Self.take(&state, key: key, where: { $0.ticket == ticket }) else { return nil }
            // The next event goes to a new plugin, even before this one is reaped.
            if state.current?.generation == waiter.generation { state.current = nil }
            return (waiter, state.running[waiter.generation])
        }
        guard let (waiter, process) = expired else { return }
        waiter.continuation.resume(returning: .unanswered("no answer within \(configuration.timeout); restarting the plugin"))
        // A plugin that misses one answer is stuck: whatever else it holds fails with it
        // when it exits, and the next event starts a fresh one.
        process?.kill()
    }

    private func exited(generation: UInt64) {
        let orphans: [Waiter] = state.withLock { state in
            state.running[generation] = nil
            state.answered.remove(generation)
            if state.current?.generation == generation { state.current = nil }
            var orphans: [Waiter] = []
            for key in Array(state.waiting.keys) {
                let (mine, others) = state.waiting[key]!.partitioned { $0.generation == generation }
                orphans += mine
                state.waiting[key] = others.isEmpty ? nil : others
            }
            return orphans
        }
        logger.warning("write plugin exited", metadata: ["unanswered": "\(orphans.count)"])
        for waiter in orphans { waiter.continuation.resume(returning: .unanswered("the plugin exited")) }
    }

    private static func take(_ state: inout State, key: String, where matches: (Waiter) -> Bool) -> Waiter? {
        guard var waiters = state.waiting[key], let index = waiters.firstIndex(where: matches) else { return nil }
        let waiter = waiters.remove(at: index)
        state.waiting[key] = waiters.isEmpty ? nil : waiters
        return waiter
    }

    // MARK: - The request line

    /// strfry's input message for `event`.
    static func request(for event: Event, context: WriteContext) -> [UInt8] {
        let (sourceType, sourceInfo) = source(of: context.origin)
        var line = Array(#"{"type":"new","event":"#.utf8)
        line += event.json
        line += Array(#","receivedAt":\#(context.now),"sourceType":"\#(sourceType)","sourceInfo":"#.utf8)
        line += jsonString(sourceInfo)
        if let authed = context.authenticated.map(\.hex).min() {
            line += Array(#","authed":""#.utf8) + Array(authed.utf8) + [UInt8(ascii: "\"")]
        }
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// strfry's `sourceType` and `sourceInfo` for an origin.
    static func source(of origin: IngestOrigin) -> (type: String, info: String) {
        switch origin {
        case .client(_, let address, _):
            let address = address ?? ""
            return (address.contains(":") ? "IP6" : "IP4", address)
        case .peer(let url): return ("Stream", url)
        case .sync(let url): return ("Sync", url)
        case .importFile: return ("Import", "")
        // The relay's own signed events pass no policy; named for completeness.
        case .relay: return ("Relay", "")
        }
    }

    private static func jsonString(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += Array(#"\""#.utf8)
            case "\\": out += Array(#"\\"#.utf8)
            case _ where scalar.value < 0x20: out += Array(String(format: "\\u%04x", scalar.value).utf8)
            default: out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}


extension Array {
    fileprivate func partitioned(by belongs: (Element) -> Bool) -> (matching: [Element], rest: [Element]) {
        var matching: [Element] = []
        var rest: [Element] = []
        for element in self {
            if belongs(element) { matching.append(element) } else { rest.append(element) }
        }
        return (matching, rest)
    }
}
