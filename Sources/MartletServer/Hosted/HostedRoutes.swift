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
            let (hosted, key, refusal) = resolve(request, hosted: hosted)
            guard let hosted, let key else { return refusal! }
            guard let configuration = hosted.configuration(of: key) else { return refusal! }
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
            let (_, key, refusal) = resolve(request, hosted: hosted)
            guard let management, let key else { return refusal! }
            return try await management.respond(to: request, key: key)
        }
    }

    /// The hosted relay a request names, or the answer that says why there is none.
    private static func resolve(_ request: Request, hosted: HostedRelays?) -> (HostedRelays?, HostedRelayKey?, Response?) {
        switch HostedRelayKey.match(path: request.uri.path) {
        case .key(let key):
            guard let hosted, hosted.manifest(of: key) != nil else {
                return (nil, nil, text(.notFound, "no relay \(key.hex) is hosted here\n"))
            }
            return (hosted, key, nil)
        case .malformed(let reason):
            return (nil, nil, text(.badRequest, "\(reason)\n"))
        case .root, .other:
            return (nil, nil, text(.notFound, "not found: this server has / and /<relay key> (64 hex characters)\n"))
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
