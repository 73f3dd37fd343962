import NostrCore
internal import NIOCore

extension RunContext {
    /// Notes of the search fixture: each holds one of `rareWords`, so a rare word finds a
    /// few hundred events among the preload, where every vocabulary word finds most of them.
    static let searchFixtureNotes = 1_000
    static let rareWords = (0..<10).map { "martletrare\($0)" }

    /// The `search` scenario: preload, a fixture of notes with rare words, then one-word
    /// NIP-50 REQs (`limit` 100), half a vocabulary word, half a rare word, timed to EOSE.
    func search(into report: inout BenchReport) async throws {
        try await preload(into: &report)
        var random = SplitMix64(seed: configuration.seed &+ 5)
        let fixture = await Workload.sign(
            (0..<Self.searchFixtureNotes).map { index in
                Workload.Blueprint(
                    author: workload.author(&random), kind: .textNote, createdAt: now - Int64(index),
                    tags: [],
                    content: workload.text(&random, length: 80) + " " + Self.rareWords[index % Self.rareWords.count])
            }, authors: workload.authors)
        report.phases.append(try await publish(fixture, name: "search fixture"))
        // Words of letters only: what a person types into a search box.
        let vocabulary = Workload.words.filter { $0.count >= 3 && $0.allSatisfy { $0.isLetter && $0.isASCII } }
        let shapes: [QueryShape] = [.commonWord, .rareWord]
        let requests = (0..<configuration.queries).map { index in
            let shape = shapes[index % shapes.count]
            let words = shape == .commonWord ? vocabulary : Self.rareWords
            let word = words[Int.random(in: 0..<words.count, using: &random)]
            let subscription = "s\(index)"
            return (subscription, shape, Frames.request(subscription, Filter(limit: 100, search: word)))
        }
        try await time(requests, name: "search", shapes: shapes, into: &report)
    }

    /// The `count` scenario: preload, one note with `reactions` reactions (kind 7, `#e`),
    /// then NIP-45 COUNTs of them, timed to the `COUNT` answer.
    func count(into report: inout BenchReport) async throws {
        try await preload(into: &report)
        var random = SplitMix64(seed: configuration.seed &+ 7)
        let target = await Workload.sign(
            [Workload.Blueprint(author: 0, kind: .textNote, createdAt: now, tags: [], content: "react to me")],
            authors: workload.authors)[0]
        let reactions = await Workload.sign(
            (0..<configuration.reactions).map { index in
                Workload.Blueprint(
                    author: workload.author(&random), kind: .reaction, createdAt: now - Int64(index % 3_600),
                    tags: [["e", target.id.hex], ["p", target.pubkey.hex]], content: index % 5 == 0 ? "🚀" : "+")
            }, authors: workload.authors)
        report.phases.append(try await publish([target] + reactions, name: "count fixture"))
        let filter = Filter(kinds: [.reaction], tags: [UInt8(ascii: "e"): [target.id.hex]])
        let requests = (0..<configuration.queries).map { index in
            let subscription = "c\(index)"
            return (subscription, QueryShape.reactionCount, Frames.count(subscription, filter))
        }
        try await time(requests, name: "count", shapes: [.reactionCount], into: &report)
    }

    /// The query, search and count scenarios' preload: the mixed workload, `preload` events.
    func preload(into report: inout BenchReport) async throws {
        guard configuration.preload > 0 else { return }
        let events = await signedEvents(configuration.preload, stream: 2, label: "preload", endingAt: anchor)
        log("preload: \(events.count) events")
        report.phases.append(try await publish(events, name: "preload"))
    }
}

extension Frames {
    static func count(_ subscription: String, _ filter: Filter) -> ByteBuffer {
        ByteBuffer(bytes: ClientMessage.count(SubscriptionID(subscription), [filter]).encoded())
    }
}
