extension ClientMessage {
    /// The JSON text of this message, as a client sends it to a relay.
    ///
    /// Events are spliced in as their canonical bytes and filters in their fixed key
    /// order, so decoding the result gives back an equal message.
    ///
    /// ```swift
    /// let frame = ClientMessage.req(SubscriptionID("s"), [Filter(kinds: [1])]).encoded()
    /// // ["REQ","s",{"kinds":[1]}]
    /// ```
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    /// Appends the JSON text of this message to `out`.
    public func encode(into out: inout [UInt8]) {
        func head(_ type: String) {
            out.append(contentsOf: #"[""#.utf8)
            out.append(contentsOf: type.utf8)
            out.append(UInt8(ascii: "\""))
        }
        func string(_ value: String) {
            out.append(UInt8(ascii: ","))
            EventSerializer.appendString(value, to: &out)
        }
        func filters(_ list: [Filter]) {
            for filter in list {
                out.append(UInt8(ascii: ","))
                filter.appendJSON(to: &out)
            }
        }
        switch self {
        case .event(let event):
            out.reserveCapacity(event.json.count + 12)
            head("EVENT")
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: event.json)
        case .auth(let event):
            head("AUTH")
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: event.json)
        case .req(let id, let list):
            head("REQ")
            string(id.value)
            filters(list)
        case .count(let id, let list):
            head("COUNT")
            string(id.value)
            filters(list)
        case .close(let id):
            head("CLOSE")
            string(id.value)
        case .negOpen(let id, let filter, let message):
            head("NEG-OPEN")
            string(id.value)
            filters([filter])
            string(message)
        case .negMsg(let id, let message):
            head("NEG-MSG")
            string(id.value)
            string(message)
        case .negClose(let id):
            head("NEG-CLOSE")
            string(id.value)
        }
        out.append(UInt8(ascii: "]"))
    }
}
