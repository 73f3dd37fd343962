// Foundation for Unicode canonical decomposition (accents are removed as FTS5 removes them).
internal import Foundation

/// A NIP-50 query: its words, its `key:value` extensions, and the rule both stores' indexes
/// follow, applied to live events so that a subscription gets live what it would find stored.
///
/// The rule: content and query are cut into tokens (runs of letters and digits, lower-cased,
/// accents removed: FTS5's `unicode61 remove_diacritics 2`, PostgreSQL's `simple` over the
/// same tokens); every query token must be a token of the content or, from three characters
/// on, the start of one. So "relay" finds "relays" but not "unrelayed", and "cafe" finds "café".
///
/// ```swift
/// let query = SearchQuery("Cafe language:fr")
/// query.tokens        // ["cafe"]
/// query.extensions    // ["language": "fr"] (none is supported: NIP-50 says to ignore them)
/// query.matches(note) // true for "Le café est ouvert"
/// ```
public struct SearchQuery: Hashable, Sendable {
    /// The whitespace-separated words, lower-cased, extensions left out.
    public let words: [String]
    /// The tokens the indexes hold of `words`.
    public let tokens: [String]
    /// NIP-50's `key:value` extensions (`include:spam`, `language:en`, ...), parsed and
    /// ignored: "relays SHOULD ignore extensions they don't support".
    public let extensions: [String: String]

    /// Kinds whose content is ciphertext (NIP-04, NIP-17's seal, NIP-59): neither store
    /// indexes them, so no search finds them, stored or live.
    public static let unindexedKinds: Set<Kind> = [4, 13, 1059]

    /// Query tokens shorter than this must equal a token; longer ones may start one (a
    /// shorter prefix would expand to a large part of the index).
    public static let minimumPrefixLength = 3

    public init(_ query: String) {
        var words: [String] = []
        var extensions: [String: String] = [:]
        for piece in query.lowercased().split(whereSeparator: \.isWhitespace) {
            if let colon = piece.firstIndex(of: ":"), colon != piece.startIndex, piece.index(after: colon) != piece.endIndex {
                extensions[String(piece[..<colon])] = String(piece[piece.index(after: colon)...])
            } else if !piece.contains(":") {
                words.append(String(piece))
            }
        }
        self.words = words
        self.extensions = extensions
        self.tokens = words.flatMap(Self.tokens)
    }

    /// Whether a live `event` matches as it would once stored.
    public func matches(_ event: Event) -> Bool {
        guard !words.isEmpty else { return true }
        return !Self.unindexedKinds.contains(event.kind) && matches(content: event.content)
    }

    /// Whether `content` holds every token of the query, as a word or (long enough) a prefix.
    public func matches(content: String) -> Bool {
        // A query of words without letters or digits finds nothing stored either.
        guard !tokens.isEmpty else { return self.words.isEmpty }
        let words = Set(Self.tokens(content))
        return tokens.allSatisfy { token in
            if token.count < Self.minimumPrefixLength { return words.contains(token) }
            return words.contains { $0.hasPrefix(token) }
        }
    }

    /// Lower-cased runs of letters and digits, combining marks removed ("Café-Bar" is
    /// "cafe", "bar").
    public static func tokens(_ text: String) -> [String] {
        asciiTokens(text) ?? scalarTokens(text)
    }

    /// `tokens` of ASCII text, read byte by byte: there the letters and digits are exactly
    /// `[A-Za-z0-9]`, and SQLite's `unicode61` tokenizer reads it the same way. Nil for any
    /// other text. Folding and decomposing every note first made building PostgreSQL's
    /// search document 27% of `martlet import`'s CPU.
    public static func asciiTokens(_ text: String) -> [String]? {
        let utf8 = text.utf8
        let isASCII = utf8.withContiguousStorageIfAvailable { bytes in bytes.allSatisfy { $0 < 0x80 } }
        guard isASCII ?? utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        return splitWords(text).asciiTerms
    }

    /// `text`'s words, split where `unicode61` would split them in any case: at ASCII bytes
    /// other than letters and digits. That tokenizer classes every character on its own, so
    /// a word reads the same alone as within the text. A word of ASCII letters and digits
    /// is its own term, lower-cased, in `asciiTerms` (in order); the words holding other
    /// characters are left in `otherWords`, joined by spaces, for the tokenizer (which folds
    /// them and may split them further).
    public static func splitWords(_ text: String) -> (asciiTerms: [String], otherWords: String) {
        var text = text
        // Read in place, a word a slice: appending byte by byte through `String.UTF8View`
        // made this 6% of the relay's CPU during ingest, on its one writer thread.
        return text.withUTF8 { bytes in
            var asciiTerms: [String] = []
            var otherWords: [UInt8] = []
            var wordStart = 0
            var wordIsASCII = true
            var wordHasUpper = false
            func endWord(at end: Int) {
                defer {
                    wordStart = end + 1
                    wordIsASCII = true
                    wordHasUpper = false
                }
                guard end > wordStart else { return }
                let word = UnsafeBufferPointer(rebasing: bytes[wordStart..<end])
                if !wordIsASCII {
                    if !otherWords.isEmpty { otherWords.append(UInt8(ascii: " ")) }
                    otherWords.append(contentsOf: word)
                } else if wordHasUpper {
                    asciiTerms.append(String(unsafeUninitializedCapacity: word.count) { lowered in
                        for (index, byte) in word.enumerated() {
                            lowered[index] = Self.isUpper(byte) ? byte | 0x20 : byte
                        }
                        return word.count
                    })
                } else {
                    asciiTerms.append(String(decoding: word, as: UTF8.self))
                }
            }
            for index in bytes.indices {
                let byte = bytes[index]
                if byte >= 0x80 {
                    wordIsASCII = false
                } else if Self.isUpper(byte) {
                    wordHasUpper = true
                } else if !Self.isLowerOrDigit(byte) {
                    endWord(at: index)
                }
            }
            endWord(at: bytes.count)
            return (asciiTerms, String(decoding: otherWords, as: UTF8.self))
        }
    }

    // Wrapping subtraction, one comparison a range: `ClosedRange.contains` was a call a byte.
    private static func isUpper(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "A") < 26
    }

    private static func isLowerOrDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10
    }

    /// `tokens` of any text, scalar by scalar.
    static func scalarTokens(_ text: String) -> [String] {
        let folded = text.lowercased().decomposedStringWithCanonicalMapping
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            let properties = scalar.properties
            if properties.generalCategory == .nonspacingMark { continue }
            if properties.isAlphabetic || properties.numericType != nil {
                current.append(scalar)
            } else if !current.isEmpty {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }
}
