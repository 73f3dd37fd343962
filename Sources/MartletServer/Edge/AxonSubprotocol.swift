import HTTPTypes
import MartletRelay

/// The choice between NIP-01 and axon at the WebSocket upgrade (RFC 6455 §1.9): a client
/// that lists `axon` in `Sec-WebSocket-Protocol` gets it, and the relay names it in its
/// answer; any other client, or every client when axon is off, gets NIP-01 JSON with no
/// subprotocol, as before.
enum AxonSubprotocol {
    static let name = "axon"
    static let header = HTTPField.Name("Sec-WebSocket-Protocol")!

    static func isRequested(by request: HTTPRequest, relay: Relay) -> Bool {
        guard relay.configuration.axon.enabled else { return false }
        return request.headerFields[values: header].contains { value in
            value.split(separator: ",").contains { $0.filter { $0 != " " && $0 != "\t" } == name }
        }
    }

    static var responseHeaders: HTTPFields { [header: name] }
}
