internal import Foundation
public import NostrCore
internal import NIOCore

/// The synthetic population a benchmark publishes as: authors, topics and events of a
/// realistic shape, all drawn from one seed so that two runs load a relay alike.
///
/// Events are mostly kind 1, with some 0, 3, 7 and 30023; each carries 1-10 `e`/`p`/`t`
/// tags and 50-2000 bytes of content (log-uniform, so short notes dominate as on real
/// relays), with `created_at` spread over the last 30 days. Authors and topics are drawn
/// with a skew, so a few are busy and most are quiet.
///
/// ```swift
/// let workload = Workload(seed: 1)
/// let events = await workload.events(count: 20_000, stream: 1, now: now)
/// ```
public struct Workload: Sendable {
    public let authors: [SecretKey]
    public let topics: [String]
    public let seed: UInt64
    /// Seconds before `now` over which events' `created_at` are spread: 30 days.
    public static let span: Int64 = 30 * 86_400

    public init(seed: UInt64, authorCount: Int = 1000) {
        var random = SplitMix64(seed: seed)
        var authors = [SecretKey]()
        authors.reserveCapacity(authorCount)
        while authors.count < authorCount {
            let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
            if let key = SecretKey(bytes: bytes) { authors.append(key) }
        }
        self.authors = authors
        self.topics = Self.baseTopics.flatMap { base in [base] + (2...5).map { "\(base)\($0)" } }
        self.seed = seed
    }

    /// `count` distinct events of the mixed shape, signed on every core. `stream` separates
    /// the draws of different phases of one run; `now` anchors `created_at`.
    public func events(count: Int, stream: UInt64, now: Int64) async -> [Event] {
        await Self.sign(blueprints(count: count, stream: stream, now: now), authors: authors)
    }

    /// The unsigned draws behind `events(count:stream:now:)`, for callers that place the
    /// events in time themselves before signing.
    func blueprints(count: Int, stream: UInt64, now: Int64) -> [Blueprint] {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9 &+ stream)
        return (0..<count).map { _ in blueprint(&random, now: now) }
    }

    /// `count` short kind-1 notes with `created_at` over the last 30 days: regular events,
    /// every one of which a relay keeps, for scenarios that must know the relay's set.
    public func notes(count: Int, stream: UInt64, now: Int64) async -> [Event] {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9 &+ stream)
        let blueprints = (0..<count).map { index in
            Blueprint(
                author: author(&random), kind: .textNote, createdAt: now - Int64.random(in: 0..<Self.span, using: &random),
                tags: [["t", topic(&random)]],
                content: "note \(index): " + text(&random, length: Int.random(in: 20...120, using: &random)))
        }
        return await Self.sign(blueprints, authors: authors)
    }

    /// `count` short kind-1 notes created now and tagged `#t` = `tag`, for live delivery.
    public func liveNotes(count: Int, tag: String, now: Int64) async -> [Event] {
        var random = SplitMix64(seed: seed &+ 0x5EED &+ UInt64(bitPattern: now))
        let blueprints = (0..<count).map { index in
            Blueprint(
                author: author(&random), kind: .textNote, createdAt: now,
                tags: [["t", tag], ["p", authors[author(&random)].publicKey.hex]],
                content: "live note \(index): " + text(&random, length: Int.random(in: 50...300, using: &random)))
        }
        return await Self.sign(blueprints, authors: authors)
    }

    /// An event before signing.
    struct Blueprint: Sendable {
        var author: Int
        var kind: Kind
        var createdAt: Int64
        var tags: [Tag]
        var content: String
    }

    func blueprint(_ random: inout SplitMix64, now: Int64) -> Blueprint {
        let roll = Int.random(in: 0..<100, using: &random)
        let kind: Kind =
            switch roll {
            case 0..<75: .textNote
            case 75..<87: .reaction
            case 87..<91: .metadata
            case 91..<95: .contacts
            default: Kind(30023)
            }
        let author = author(&random)
        let createdAt = now - Int64.random(in: 0..<Self.span, using: &random)
        var tags = [Tag]()
        if kind == Kind(30023) {
            tags.append(["d", "article-\(random.next() % 100_000)"])
        }
        for _ in 0..<Int.random(in: 1...10, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4: tags.append(["p", authors[self.author(&random)].publicKey.hex])
            case 4..<7: tags.append(["e", Self.randomHex32(&random)])
            default: tags.append(["t", topic(&random)])
            }
        }
        let length = Int(exp(Double.random(in: log(50.0)...log(2000.0), using: &random)))
        let content: String
        if kind == .metadata {
            let about = text(&random, length: max(10, length - 90))
            content = #"{"name":"bench-\#(author)","about":""# + about.replacingJSONSpecials()
                + #"","picture":"https://example.invalid/\#(author).png"}"#
        } else {
            content = text(&random, length: length)
        }
        return Blueprint(author: author, kind: kind, createdAt: createdAt, tags: tags, content: content)
    }

    /// A skewed draw: the square of a uniform number favours the first authors.
    func author(_ random: inout SplitMix64) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        return min(authors.count - 1, Int(u * u * Double(authors.count)))
    }

    /// A skewed draw over topics (cube of a uniform: a few hashtags carry most notes).
    func topic(_ random: inout SplitMix64) -> String {
        let u = Double.random(in: 0..<1, using: &random)
        return topics[min(topics.count - 1, Int(u * u * u * Double(topics.count)))]
    }

    /// Words up to `length` UTF-8 bytes, with the odd multi-byte character, line break and
    /// quote so that the relay's escaping is part of the load.
    func text(_ random: inout SplitMix64, length: Int) -> String {
        var out = ""
        out.reserveCapacity(length + 16)
        while true {
            let word = Self.words[Int.random(in: 0..<Self.words.count, using: &random)]
            let separator = Int.random(in: 0..<40, using: &random) == 0 ? "\n" : " "
            if out.utf8.count + word.utf8.count + 1 > length { break }
            if !out.isEmpty { out += separator }
            out += word
        }
        while out.utf8.count < length { out += "." }
        return out
    }

    static func randomHex32(_ random: inout SplitMix64) -> String {
        Bytes32(w0: random.next(), w1: random.next(), w2: random.next(), w3: random.next()).hex
    }

    /// Signs on every core: one BIP-340 signature costs as much as a verify, so 20,000
    /// events take seconds on one core and must never be made inside a timed phase.
    static func sign(_ blueprints: [Blueprint], authors: [SecretKey]) async -> [Event] {
        let cores = max(1, System.coreCount)
        let chunk = max(1, (blueprints.count + cores - 1) / cores)
        return await withTaskGroup(of: (Int, [Event]).self) { group in
            for start in stride(from: 0, to: blueprints.count, by: chunk) {
                let slice = Array(blueprints[start..<min(start + chunk, blueprints.count)])
                group.addTask {
                    let events = slice.map { blueprint in
                        Event.signed(
                            by: authors[blueprint.author], kind: blueprint.kind, createdAt: blueprint.createdAt,
                            tags: blueprint.tags, content: blueprint.content)
                    }
                    return (start, events)
                }
            }
            var parts = [(Int, [Event])]()
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    static let baseTopics = [
        "nostr", "bitcoin", "zaps", "art", "music", "photography", "dev", "swift", "rust", "food",
        "travel", "meme", "news", "science", "books", "running", "coffee", "linux", "privacy", "grownostr",
        "plebchain", "gm", "foodstr", "catstr", "dogstr", "history", "math", "chess", "cycling", "garden",
    ]

    static let words = [
        "the", "relay", "note", "event", "signed", "key", "zap", "lightning", "client", "follow", "today",
        "morning", "coffee", "building", "shipping", "reading", "about", "protocol", "decentralized", "simple",
        "just", "posted", "thread", "reply", "with", "from", "and", "of", "to", "a", "in", "is", "it", "that",
        "café", "naïve", "日本語", "🚀", "⚡️", "ñandú", "\"quoted\"", "back\\slash", "tab\there", "über",
        "storage", "query", "filter", "subscription", "latency", "throughput", "benchmark", "swift", "server",
    ]
}

extension String {
    /// Makes text safe to splice inside a JSON string literal of hand-built metadata.
    fileprivate func replacingJSONSpecials() -> String {
        var out = [UInt8]()
        EventSerializer.appendString(self, to: &out)
        return String(decoding: out.dropFirst().dropLast(), as: UTF8.self)
    }
}
