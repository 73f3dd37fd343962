extension RelayMessage {
    /// Decodes one message a relay sent, for the client side (`martlet sync`, mesh peers).
    ///
    /// The reading is lenient where a client can afford to be: elements after the ones
    /// this type carries are skipped (NIP-77 lets `NEG-ERR` carry a record limit as a 4th
    /// element), and a `CLOSED` without a message reads as an empty one. An `EVENT`'s
    /// object is checked to be JSON and kept as the bytes received, so the caller decodes
    /// it once with `EventDecoder` when it wants the event.
    ///
    /// ```swift
    /// switch try RelayMessage.decode(frameBytes) {
    /// case .event(let subscription, let json): let event = try EventDecoder.decode(json: json)
    /// case .eose(let subscription): …
    /// default: …
    /// }
    /// ```
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> RelayMessage {
        try bytes.withWireBytes { raw throws(WireError) in try decode(raw) }
    }

    /// Decodes one relay message from raw bytes.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(WireError) -> RelayMessage {
        var reader = JSONReader(raw)
        try reader.beginArray("message")
        var count = 0
        guard try reader.nextElement(&count) else {
            throw WireError(.wrongArity, "invalid: empty message array", at: reader.offset)
        }
        let typeOffset = reader.offset
        let type = try reader.readString("message type")
        func element() throws(WireError) {
            guard try reader.nextElement(&count) else {
                throw WireError(.wrongArity, "invalid: \(type) message has too few elements", at: reader.offset)
            }
        }
        // Whether `]` has been read: optional trailing elements may end the array early.
        var ended = false
        func optionalElement() throws(WireError) -> Bool {
            ended = try !reader.nextElement(&count)
            return !ended
        }
        func string(_ what: String) throws(WireError) -> String {
            try element()
            return try reader.readString(what)
        }
        func subscription() throws(WireError) -> SubscriptionID {
            SubscriptionID(try string("subscription id"))
        }
        let message: RelayMessage
        switch type {
        case "EVENT":
            let id = try subscription()
            try element()
            let start = reader.offset
            try reader.beginObject("event")
            var member = 0
            while try reader.nextKey(&member) != nil { try reader.skipValue() }
            let object = Array(UnsafeRawBufferPointer(rebasing: raw[start..<reader.offset]))
            message = .event(id, eventJSON: object.trimmingLeadingWhitespace())
        case "OK":
            try element()
            let id = EventID(try reader.readHex32("event id"))
            try element()
            let accepted = try readBool(&reader, "accepted")
            let text = try optionalElement() ? try reader.readString("message") : ""
            message = .ok(id, accepted: accepted, message: text)
        case "EOSE":
            message = .eose(try subscription())
        case "CLOSED":
            let id = try subscription()
            let text = try optionalElement() ? try reader.readString("message") : ""
            message = .closed(id, message: text)
        case "NOTICE":
            message = .notice(try string("message"))
        case "AUTH":
            message = .auth(challenge: try string("challenge"))
        case "COUNT":
            let id = try subscription()
            try element()
            message = try readCount(&reader, id)
        case "NEG-MSG":
            let id = try subscription()
            message = .negMsg(id, message: try string("negentropy message"))
        case "NEG-ERR":
            let id = try subscription()
            message = .negErr(id, reason: try string("reason"))
        default:
            throw WireError(.unknownMessage, "invalid: unknown message type \"\(type.prefix(32))\"", at: typeOffset)
        }
        if !ended {
            while try reader.nextElement(&count) { try reader.skipValue() }
        }
        try reader.expectEnd()
        return message
    }

    private static func readBool(_ reader: inout JSONReader, _ what: String) throws(WireError) -> Bool {
        switch try reader.peek() {
        case UInt8(ascii: "t"):
            try reader.literal("true")
            return true
        case UInt8(ascii: "f"):
            try reader.literal("false")
            return false
        default:
            throw reader.typeError(what, "true or false")
        }
    }

    private static func readCount(_ reader: inout JSONReader, _ id: SubscriptionID) throws(WireError) -> RelayMessage {
        let start = reader.offset
        try reader.beginObject("count")
        var total: Int64?
        var approximate = false
        var hll: String?
        var member = 0
        while let key = try reader.nextKey(&member) {
            switch key {
            case "count": total = try reader.readInteger("count", in: 0...Int64.max)
            case "approximate": approximate = try readBool(&reader, "approximate")
            case "hll": hll = try reader.readString("hll")
            default: try reader.skipValue()
            }
        }
        guard let total else { throw WireError(.missingField, "invalid: COUNT has no \"count\"", at: start) }
        return .count(id, count: Int(total), approximate: approximate, hll: hll)
    }
}

extension [UInt8] {
    /// JSONReader skips whitespace before a value, so a slice taken at the offset before
    /// reading may start with some.
    fileprivate func trimmingLeadingWhitespace() -> [UInt8] {
        guard let first = firstIndex(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }), first > 0 else { return self }
        return Array(self[first...])
    }
}
