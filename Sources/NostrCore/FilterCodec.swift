extension Filter {
    /// The largest `limit` a filter may carry before the relay applies its own cap.
    static let limitRange: ClosedRange<Int64> = 0...Int64(Int32.max)

    /// Decodes one filter object from `reader`'s current position.
    ///
    /// Values of `ids`, `authors`, `#e` and `#p` must be 64-character lowercase hex
    /// (NIP-01). Unknown members are skipped (still checked to be JSON), as relays
    /// generally do, so a newer client's extra field does not break a subscription.
    public static func decode(from reader: inout JSONReader) throws(WireError) -> Filter {
        try reader.beginObject("filter")
        var filter = Filter()
        var seen = Set<String>()
        var index = 0
        while let key = try reader.nextKey(&index) {
            guard seen.insert(key).inserted else {
                throw WireError(.duplicateField, "invalid: filter has \"\(key)\" twice", at: reader.offset)
            }
            switch key {
            case "ids":
                filter.ids = Set(try readHexList(&reader, key).map(EventID.init))
            case "authors":
                filter.authors = Set(try readHexList(&reader, key).map(PublicKey.init))
            case "kinds":
                var kinds = Set<Kind>()
                try reader.beginArray(key)
                var element = 0
                while try reader.nextElement(&element) {
                    kinds.insert(Kind(UInt16(try reader.readInteger("kinds", in: 0...65535))))
                }
                filter.kinds = kinds
            case "since":
                filter.since = try reader.readInteger(key, in: 0...EventDecoder.maxTimestamp)
            case "until":
                filter.until = try reader.readInteger(key, in: 0...EventDecoder.maxTimestamp)
            case "limit":
                filter.limit = Int(try reader.readInteger(key, in: limitRange))
            case "search":
                filter.search = try reader.readString(key)
            default:
                let utf8 = Array(key.utf8)
                guard utf8.count == 2, utf8[0] == UInt8(ascii: "#"), Self.isTagLetter(utf8[1]) else {
                    try reader.skipValue()
                    continue
                }
                let letter = utf8[1]
                if letter == UInt8(ascii: "e") || letter == UInt8(ascii: "p") {
                    filter.tags[letter] = Set(try readHexList(&reader, key).map(\.hex))
                } else {
                    var values = Set<String>()
                    try reader.beginArray(key)
                    var element = 0
                    while try reader.nextElement(&element) { values.insert(try reader.readString(key)) }
                    filter.tags[letter] = values
                }
            }
        }
        return filter
    }

    /// Decodes a filter that fills `json` entirely (the CLI's `--filter`).
    public static func decode(json: [UInt8]) throws(WireError) -> Filter {
        try json.withWireBytes { raw throws(WireError) in
            var reader = JSONReader(raw)
            let filter = try decode(from: &reader)
            try reader.expectEnd()
            return filter
        }
    }

    static func isTagLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    static func readHexList(_ reader: inout JSONReader, _ key: String) throws(WireError) -> [Bytes32] {
        try reader.beginArray(key)
        var values = [Bytes32]()
        var element = 0
        while try reader.nextElement(&element) { values.append(try reader.readHex32(key)) }
        return values
    }

    /// The filter as a JSON object, keys in a fixed order and lists sorted, so equal
    /// filters encode to equal bytes.
    public var json: [UInt8] {
        var out = [UInt8]()
        appendJSON(to: &out)
        return out
    }

    public func appendJSON(to out: inout [UInt8]) {
        var first = true
        func key(_ name: String) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            EventSerializer.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func strings(_ values: [String]) {
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                EventSerializer.appendString(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if let ids {
            key("ids")
            strings(ids.sorted().map(\.hex))
        }
        if let authors {
            key("authors")
            strings(authors.sorted().map(\.hex))
        }
        if let kinds {
            key("kinds")
            out.append(UInt8(ascii: "["))
            for (index, kind) in kinds.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                EventSerializer.appendInteger(Int64(kind.rawValue), to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        for letter in tags.keys.sorted() {
            key("#" + String(UnicodeScalar(letter)))
            strings(tags[letter]!.sorted())
        }
        if let since {
            key("since")
            EventSerializer.appendInteger(since, to: &out)
        }
        if let until {
            key("until")
            EventSerializer.appendInteger(until, to: &out)
        }
        if let limit {
            key("limit")
            EventSerializer.appendInteger(Int64(limit), to: &out)
        }
        if let search {
            key("search")
            EventSerializer.appendString(search, to: &out)
        }
        if first { out.append(UInt8(ascii: "{")) }
        out.append(UInt8(ascii: "}"))
    }
}
