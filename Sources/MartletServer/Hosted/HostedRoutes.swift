import Hummingbird
import Logging
import MartletRelay
import NIOCore

/// The HTTP side of hosted relays: `/<key>` answers NIP-11 (`Accept:
/// application/nostr+json`) from the manifest, without opening the relay's store, a short
/// page to a browser, and NIP-86 (`HostedManagementAPI`) to a POST. An unknown key is 404,
/// a path that is not a key 400, each with a body that says so. The WebSocket upgrade to
/// `/<key>` is `RelayServer`'s.
enum HostedRoutes {
    static func add(to router: Router<RelayRequestContext>, hosted: HostedRelays?, relay: Relay, logger: Logger) {
        let management = hosted.map { HostedManagementAPI(hosted: $0, relay: relay, logger: logger) }
        router.get("/:segment") { request, _ -> Response in
            guard let hosted else { return refusal(for: request) }
            guard case .key(let key) = HostedRelayKey.match(path: request.uri.path),
                let configuration = hosted.configuration(of: key)
            else { return refusal(for: request) }
            if request.headers[.accept]?.contains("application/nostr+json") == true {
                return Response(
                    status: .ok, headers: [.contentType: "application/nostr+json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: RelayInformationDocument(configuration: configuration).json())))
            }
            let url = hosted.urls(of: key).first ?? "/\(key.hex)"
            return text(
                .ok,
                "\(configuration.info.name)\n\(configuration.info.description)\n\nA Nostr relay hosted by Martlet: connect a Nostr client to \(url)\n")
        }
        router.post("/:segment") { request, _ -> Response in
            guard let management, case .key(let key) = HostedRelayKey.match(path: request.uri.path),
                management.hosted.manifest(of: key) != nil
            else { return refusal(for: request) }
            return try await management.respond(to: request, key: key)
        }
    }

    /// Why a request names no hosted relay here: an unknown key (404), a segment that is not
    /// a key (400), or a path this server does not have (404).
    private static func refusal(for request: Request) -> Response {
        switch HostedRelayKey.match(path: request.uri.path) {
        case .key(let key):
            text(.notFound, "no relay \(key.hex) is hosted here\n")
        case .malformed(let reason):
            text(.badRequest, "\(reason)\n")
        case .root, .other:
            text(.notFound, "not found: this server has / and /<relay key> (64 hex characters)\n")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
