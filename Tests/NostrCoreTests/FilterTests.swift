import NostrCore
import Testing

@Suite("filters")
struct FilterTests {
    static let author = hex64("author")
    static let otherAuthor = hex64("other author")
    static let eventID = hex64("the event")
    static let referenced = hex64("referenced")
    static let upperReferenced = hex64("upper referenced")
    static let referencedPubkey = hex64("referenced pubkey")

    /// The event every case below is matched against.
    static let event = Event(
        id: EventID(hex: eventID)!, pubkey: PublicKey(hex: author)!, createdAt: 1000, kind: 1,
        tags: [
            ["e", referenced, "wss://relay.example.com", "root"],
            ["p", referencedPubkey, "wss://relay.example.com"],
            ["t", "nostr"], ["t", "swift"], ["T", "Upper"], ["E", upperReferenced], ["r"],
            ["x", "first", "second"], ["alt", "a reply"], ["tt", "two letters"], ["-"],
        ],
        content: "Hello Nostr World, from Swift", sig: Signature(r: .zero, s: .zero))

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let filter: String
        let matches: Bool
        var testDescription: String { "\(name): \(filter)" }
        init(_ name: String, _ filter: String, _ matches: Bool) {
            self.name = name
            self.filter = filter
            self.matches = matches
        }
    }

    static let cases: [Case] = [
        Case("a filter with no conditions matches every event", "{}", true),
        Case("ids: the event's id is in the list", #"{"ids":["\#(eventID)"]}"#, true),
        Case("ids: at least one of the values must match", #"{"ids":["\#(referenced)","\#(eventID)"]}"#, true),
        Case("ids: another id", #"{"ids":["\#(referenced)"]}"#, false),
        Case("authors: the pubkey of an event must be one of these", #"{"authors":["\#(author)"]}"#, true),
        Case("authors: someone else", #"{"authors":["\#(otherAuthor)"]}"#, false),
        Case("authors: one of several", #"{"authors":["\#(otherAuthor)","\#(author)"]}"#, true),
        Case("kinds: contains the kind", #"{"kinds":[1]}"#, true),
        Case("kinds: one of several", #"{"kinds":[7,1,30023]}"#, true),
        Case("kinds: another kind", #"{"kinds":[7]}"#, false),
        Case("#e: the event and filter have one value in common", ##"{"#e":["\##(referenced)"]}"##, true),
        Case("#e: an id only found in an E tag", ##"{"#e":["\##(upperReferenced)"]}"##, false),
        Case("#E: upper-case letter tags are their own index", ##"{"#E":["\##(upperReferenced)"]}"##, true),
        Case("#E: a value only found in an e tag", ##"{"#E":["\##(referenced)"]}"##, false),
        Case("#p: the referenced pubkey", ##"{"#p":["\##(referencedPubkey)"]}"##, true),
        Case("#p: the author is not a p tag", ##"{"#p":["\##(author)"]}"##, false),
        Case("#t: one value in common", ##"{"#t":["rust","swift"]}"##, true),
        Case("#t: values compare exactly, case included", ##"{"#t":["NOSTR","Swift"]}"##, false),
        Case("#T: upper-case letter tag", ##"{"#T":["Upper"]}"##, true),
        Case("#t: an upper-case tag's value is not a t value", ##"{"#t":["Upper"]}"##, false),
        Case("#x: only the first value in any given tag is indexed", ##"{"#x":["second"]}"##, false),
        Case("#x: the first value", ##"{"#x":["first"]}"##, true),
        Case("#r: a tag with no value matches nothing", ##"{"#r":[""]}"##, false),
        Case("#a: a letter the event has no tag for", ##"{"#a":["30023:\##(author):x"]}"##, false),
        Case("a multi-letter tag name is not indexed", ##"{"#t":["two letters"]}"##, false),
        Case("since: created_at greater than or equal to since", #"{"since":999}"#, true),
        Case("since: equal is inclusive", #"{"since":1000}"#, true),
        Case("since: later than the event", #"{"since":1001}"#, false),
        Case("until: created_at less than or equal to until", #"{"until":1001}"#, true),
        Case("until: equal is inclusive", #"{"until":1000}"#, true),
        Case("until: earlier than the event", #"{"until":999}"#, false),
        Case("since <= created_at <= until with both bounds equal", #"{"since":1000,"until":1000}"#, true),
        Case("since after until matches nothing", #"{"since":1001,"until":999}"#, false),
        Case("limit plays no part in matching", #"{"limit":0}"#, true),
        Case("conditions are && : all hold",
             ##"{"kinds":[1],"authors":["\##(author)"],"#t":["nostr"],"#e":["\##(referenced)"],"since":1000,"until":2000}"##,
             true),
        Case("conditions are && : one fails (author)", #"{"kinds":[1],"authors":["\#(otherAuthor)"]}"#, false),
        Case("conditions are && : one fails (tag)", ##"{"kinds":[1],"#t":["nostr"],"#p":["\##(author)"]}"##, false),
        Case("conditions are && : one fails (time)", ##"{"kinds":[1],"#t":["nostr"],"until":999}"##, false),
        Case("empty ids list matches nothing", #"{"ids":[]}"#, false),
        Case("empty authors list matches nothing", #"{"authors":[]}"#, false),
        Case("empty kinds list matches nothing", #"{"kinds":[]}"#, false),
        Case("empty tag list matches nothing", ##"{"#t":[]}"##, false),
        Case("search: a word of the content", #"{"search":"nostr"}"#, true),
        Case("search: case-insensitive, every word", #"{"search":"HELLO swift"}"#, true),
        Case("search: one word missing", #"{"search":"hello rust"}"#, false),
        Case("search: key:value extensions are not words", #"{"search":"nostr include:spam"}"#, true),
        Case("search: an empty query", #"{"search":""}"#, true),
        Case("search and another condition", #"{"search":"world","kinds":[7]}"#, false),
    ]

    @Test("an event matches a filter when every condition specified holds (NIP-01 table)", arguments: cases)
    func matching(_ testCase: Case) throws {
        let filter = try Filter.decode(json: testCase.filter.bytes)
        #expect(filter.matches(Self.event) == testCase.matches)
    }

    @Test("filters that can match nothing say so", arguments: [
        (#"{"ids":[]}"#, true), (#"{"authors":[]}"#, true), (#"{"kinds":[]}"#, true), (##"{"#t":[]}"##, true),
        (#"{"since":2,"until":1}"#, true), (#"{"since":1,"until":1}"#, false), ("{}", false),
        (##"{"kinds":[1],"#t":["a"]}"##, false),
    ])
    func impossible(_ text: String, _ impossible: Bool) throws {
        let filter = try Filter.decode(json: text.bytes)
        #expect(filter.isImpossible == impossible)
        if impossible { #expect(!filter.matches(Self.event)) }
    }

    @Test("tag values compare as exact strings, not as canonically equivalent Unicode")
    func exactTagValues() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) are different tag values on the
        // wire and in every store; Swift's String == would call them equal.
        let event = Event(
            id: EventID(.zero), pubkey: PublicKey(.zero), createdAt: 1, kind: 1, tags: [["t", "caf\u{E9}"]],
            content: "", sig: Signature(r: .zero, s: .zero))
        let decomposed = Filter(tags: [UInt8(ascii: "t"): ["cafe\u{301}"]])
        let precomposed = Filter(tags: [UInt8(ascii: "t"): ["caf\u{E9}"]])
        #expect(!decomposed.matches(event))
        #expect(precomposed.matches(event))
        // Sets of a few values are compared one by one, larger ones looked up: both exactly.
        let others: Set<String> = ["a", "b", "c", "d", "e"]
        #expect(!Filter(tags: [UInt8(ascii: "t"): others.union(["cafe\u{301}"])]).matches(event))
        #expect(Filter(tags: [UInt8(ascii: "t"): others.union(["caf\u{E9}"])]).matches(event))
        #expect(!Filter(tags: [UInt8(ascii: "t"): others]).matches(event))
    }

    @Test("filter JSON: keys in a fixed order, lists sorted, so equal filters encode to equal bytes")
    func encoding() throws {
        let text = ##"{"until":20,"#t":["b","a"],"limit":5,"kinds":[7,1],"authors":["\##(Self.otherAuthor)","\##(Self.author)"],"#E":["x"],"search":"q \"x\"","since":10,"ids":["\##(Self.eventID)"]}"##
        let filter = try Filter.decode(json: text.bytes)
        let authors = [Self.otherAuthor, Self.author].sorted()
        let expected = ##"{"ids":["\##(Self.eventID)"],"authors":["\##(authors[0])","\##(authors[1])"],"kinds":[1,7],"#E":["x"],"#t":["a","b"],"since":10,"until":20,"limit":5,"search":"q \"x\""}"##
        #expect(String(decoding: filter.json, as: UTF8.self) == expected)
        #expect(Filter().json == "{}".bytes)
        #expect(Filter(kinds: []).json == #"{"kinds":[]}"#.bytes)
    }

    @Test("filter JSON decodes back to the same filter", arguments: cases.map(\.filter) + [
        ##"{"#t":["\n\u0001\"\\","😀"],"search":"\u001f"}"##, ##"{"#a":["30023:\##(author):with:colons"],"#Z":["z"]}"##,
    ])
    func roundTrip(_ text: String) throws {
        let filter = try Filter.decode(json: text.bytes)
        let again = try Filter.decode(json: filter.json)
        #expect(again == filter)
        #expect(again.json == filter.json)
    }

    @Test("#e and #p hold lowercase hex and decode to the same strings the event tags carry")
    func hexTagValues() throws {
        let filter = try Filter.decode(json: ##"{"#e":["\##(Self.referenced)"],"#p":["\##(Self.referencedPubkey)"]}"##.bytes)
        #expect(filter.tags[UInt8(ascii: "e")] == [Self.referenced])
        #expect(filter.tags[UInt8(ascii: "p")] == [Self.referencedPubkey])
    }

    @Test("NIP-50 search words: split on whitespace, lowercased, key:value extensions parsed apart")
    func searchQuery() {
        let query = SearchQuery("  Hello\tWORLD  domain:x.com include:spam ")
        #expect(query.words == ["hello", "world"])
        #expect(query.extensions == ["domain": "x.com", "include": "spam"])
        #expect(SearchQuery("ÉTÉ").matches(content: "un été chaud"))
    }

    @Test("NIP-50 live matching follows the index: a word or, from three letters, a word's start; accents removed")
    func searchMatchesAsIndexed() {
        #expect(SearchQuery("relay").matches(content: "Relays, everywhere"))
        #expect(!SearchQuery("relay").matches(content: "the unrelayed note"))
        #expect(SearchQuery("cafe").matches(content: "Le café"))
        #expect(SearchQuery("café").matches(content: "un cafe"))
        #expect(SearchQuery("de").matches(content: "de la musique"))
        #expect(!SearchQuery("de").matches(content: "deux"))
        #expect(!SearchQuery("!!").matches(content: "!!"))
    }
}
