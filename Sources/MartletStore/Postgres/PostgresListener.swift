import Logging
import PostgresNIO
import Synchronization

/// The NOTIFY channels the nodes of one store talk on.
///
/// Channels belong to the whole database, not to a schema, so stores kept in different
/// schemas of one database (the tests do that) take names of their own: the schema's hash
/// is appended. Without a schema the names are the plain ones.
///
/// ```swift
/// let channels = PostgresChannels(schema: nil)
/// channels.events // "martlet_events"
/// ```
struct PostgresChannels: Sendable, Equatable {
    /// A batch of events was committed; the payload is its highest `seq`.
    let events: String
    /// An ephemeral event was accepted by a node; the payload is a `PostgresEphemeralNotice`.
    let ephemeral: String
    /// The operator changed a list or setting (NIP-86); no payload.
    let settings: String
    /// A NIP-29 group changed; the payload is its id.
    let groups: String

    init(schema: String?) {
        var suffix = ""
        if let schema {
            var hash = StableHash()
            hash.add(schema.utf8)
            suffix = "_" + String(hash.value, radix: 16)
        }
        events = "martlet_events" + suffix
        ephemeral = "martlet_ephemeral" + suffix
        settings = "martlet_settings" + suffix
        groups = "martlet_groups" + suffix
    }

    // The settings channel last: a test finds the listening connection by its last statement.
    var all: [String] { [events, ephemeral, groups, settings] }
}

/// The one connection of a store that LISTENs on every channel of `PostgresChannels`, for
/// whoever in this process wants to hear from the other nodes: the live feed and the
/// settings watchers share it, so a node holds one listening connection however many listen.
///
/// Handlers are called from the listening tasks, a channel's messages in the order they
/// came (channels side by side), and must not block. A lost connection is retried every `retryInterval`; each time LISTEN
/// holds again every handler hears `.listening`, because whatever was sent meanwhile is
/// lost and must be looked for.
///
/// ```swift
/// let id = listener.subscribe { message in
///     if case .notification(let channel, let payload) = message { print(channel, payload) }
/// }
/// listener.unsubscribe(id)
/// ```
final class PostgresListener: Sendable {
    enum Message: Sendable {
        /// LISTEN holds, for the first time or again after a lost connection.
        case listening
        case notification(channel: String, payload: String)
        /// The store is closed: no message follows.
        case closed
    }

    typealias Handler = @Sendable (Message) -> Void

    private struct State {
        var handlers: [Int: Handler] = [:]
        var nextID = 0
        var task: Task<Void, Never>?
        var listening = false
        var closed = false
    }

    private let client: PostgresClient
    private let channels: PostgresChannels
    private let retryInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())

    init(client: PostgresClient, channels: PostgresChannels, retryInterval: Duration, logger: Logger) {
        self.client = client
        self.channels = channels
        self.retryInterval = retryInterval
        self.logger = logger
    }

    /// Calls `handler` with every message from now on, opening the listening connection if
    /// no one listened before. A handler that comes while LISTEN already holds hears
    /// `.listening` at once; one that comes after `close()` hears `.closed`.
    func subscribe(_ handler: @escaping Handler) -> Int {
        let (id, greeting) = state.withLock { state -> (Int, Message?) in
            if state.closed { return (-1, .closed) }
            let id = state.nextID
            state.nextID += 1
            state.handlers[id] = handler
            if state.task == nil { state.task = Task { [self] in await run() } }
            return (id, state.listening ? .listening : nil)
        }
        if let greeting { handler(greeting) }
        return id
    }

    func unsubscribe(_ id: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    /// Stops listening for good and tells every handler.
    func close() {
        let (task, handlers) = state.withLock { state in
            state.closed = true
            defer { state.handlers = [:] }
            return (state.task, Array(state.handlers.values))
        }
        task?.cancel()
        for handler in handlers { handler(.closed) }
    }

    private func broadcast(_ message: Message) {
        let handlers = state.withLock { state in
            if case .listening = message { state.listening = true }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler(message) }
    }

    private func run() async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await listen(connection, on: channels.all[...], heard: [])
                }
            } catch {
                logger.debug("LISTEN connection lost: \(PostgresEventStore.describe(error))")
            }
            state.withLock { $0.listening = false }
            try? await Task.sleep(for: retryInterval)
        }
    }

    /// LISTENs on each channel in turn (postgres-nio takes one per call), then consumes them all.
    private func listen(
        _ connection: PostgresConnection, on channels: ArraySlice<String>,
        heard: [(channel: String, notifications: PostgresNotificationSequence)]
    ) async throws {
        guard let channel = channels.first else { return try await consume(heard) }
        try await connection.listen(on: channel) { notifications in
            try await listen(connection, on: channels.dropFirst(), heard: heard + [(channel, notifications)])
        }
    }

    private func consume(_ heard: [(channel: String, notifications: PostgresNotificationSequence)]) async throws {
        broadcast(.listening)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (channel, notifications) in heard {
                group.addTask { [self] in
                    for try await notification in notifications {
                        broadcast(.notification(channel: channel, payload: notification.payload))
                    }
                }
            }
            // One sequence ending means the connection is gone: start over on a new one.
            try await group.next()
            group.cancelAll()
        }
    }
}
