import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// `search.kinds` at the relay: a search finds, stored and live, only the kinds indexed.
@Suite("NIP-50 search kinds")
struct SearchKindsTests {
    @Test("with search.kinds [1], a search REQ gets kind-1 matches stored and live, never a kind-7 one")
    func onlyIndexedKindsMatch() async throws {
        let onlyNotes: (inout RelayConfiguration) -> Void = { $0.search.kinds = SearchableKinds(only: [.textNote]) }
        try await SessionRelay.withClient(configure: onlyNotes) { relay, client throws in
            let author = Author()
            let note = author.event(content: "swift relays")
            let reaction = author.event(kind: .reaction, content: "swift", tags: [["e", note.id.hex]])
            for event in [note, reaction] { #expect(try await client.publishAndWait(event).accepted) }
            #expect(try await client.query("stored", #"{"search":"swift"}"#).ids == [note.id.hex])

            let reader = relay.connect()
            #expect(try await reader.query("live", #"{"search":"swift"}"#).ids == [note.id.hex])
            let liveReaction = author.event(kind: .reaction, content: "swift", tags: [["e", note.id.hex]])
            let liveNote = author.event(content: "more swift")
            for event in [liveReaction, liveNote] { #expect(try await client.publishAndWait(event).accepted) }
            // Events reach a subscriber in the order they were accepted: the reaction, had it
            // matched, would come first.
            #expect(try await reader.nextEventID() == liveNote.id.hex)
        }
    }
}
