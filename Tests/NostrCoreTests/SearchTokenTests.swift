import Foundation
@testable import NostrCore
import Testing

@Suite("search tokens")
struct SearchTokenTests {
    @Test("ASCII text read byte by byte gives the tokens the scalar-by-scalar reading gives")
    func asciiMatchesScalars() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["GM nostr! Relays_and-clients: 2026 #Nostr https://x.example/a?b=C", "", " \n\t", "A", "x1Y2z3"]
        for _ in 0..<500 {
            let count = Int.random(in: 0..<60, using: &generator)
            texts.append(String(decoding: (0..<count).map { _ in UInt8.random(in: 0..<0x80, using: &generator) }, as: UTF8.self))
        }
        for text in texts {
            #expect(SearchQuery.asciiTokens(text) == SearchQuery.scalarTokens(text), "\(text.debugDescription)")
        }
    }

    @Test("other text is left to the scalar reading, which folds case and accents")
    func nonASCII() {
        #expect(SearchQuery.asciiTokens("Café-Bar") == nil)
        #expect(SearchQuery.tokens("Café-Bar ÜBER") == ["cafe", "bar", "uber"])
        #expect(SearchQuery.tokens("Relay-2 NOSTR") == ["relay", "2", "nostr"])
    }
}

@Suite("searchable kinds as recorded")
struct SearchableKindsRecordTests {
    @Test("a rule's description reads back as the same rule", arguments: [
        SearchableKinds.all, SearchableKinds(only: [1, 30023]), SearchableKinds(only: [7]), SearchableKinds(only: []),
    ])
    func roundTrip(_ kinds: SearchableKinds) {
        #expect(SearchableKinds(recorded: kinds.description) == kinds)
    }
}
