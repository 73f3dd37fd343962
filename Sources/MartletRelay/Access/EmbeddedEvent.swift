import NostrCore

/// What a repost's `content` says about the event it embeds (NIP-18: "the stringified JSON
/// of the reposted note").
///
/// ```swift
/// EmbeddedEvent.isProtected(#"{"kind":1,"tags":[["-"]],"content":"members only"}"#) // true
/// ```
enum EmbeddedEvent {
    /// Whether `content` is a JSON object whose `tags` hold NIP-70's `["-"]`. Only the tags
    /// are read: an embedded event with a missing or bad signature is still someone's
    /// protected event being spread. Content that is not such an object (empty, text) is not.
    static func isProtected(_ content: String) -> Bool {
        let bytes = Array(content.utf8)
        guard bytes.first(where: { !Self.isWhitespace($0) }) == UInt8(ascii: "{") else { return false }
        return bytes.withUnsafeBytes { buffer in
            var reader = JSONReader(buffer)
            return (try? protectedTags(&reader)) ?? false
        }
    }

    private static func protectedTags(_ reader: inout JSONReader) throws(WireError) -> Bool {
        try reader.beginObject("embedded event")
        var members = 0
        while let key = try reader.nextKey(&members) {
            guard key == "tags", try reader.peek() == UInt8(ascii: "[") else {
                try reader.skipValue()
                continue
            }
            try reader.beginArray("tags")
            var tags = 0
            while try reader.nextElement(&tags) {
                guard try reader.peek() == UInt8(ascii: "[") else {
                    try reader.skipValue()
                    continue
                }
                try reader.beginArray("tag")
                var fields = 0
                while try reader.nextElement(&fields) {
                    if fields == 1, try reader.peek() == UInt8(ascii: "\"") {
                        if try reader.readString("tag name") == "-" { return true }
                    } else {
                        try reader.skipValue()
                    }
                }
            }
        }
        return false
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
