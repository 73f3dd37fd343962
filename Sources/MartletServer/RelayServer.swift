public import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import HummingbirdWSCompression
public import Logging
public import MartletRelay
import MartletReplication
public import NIOCore
public import ServiceLifecycle

/// The HTTP face of the relay: one URL that upgrades to the Nostr WebSocket, answers NIP-11
/// for `Accept: application/nostr+json`, NIP-86 management calls (POST with
/// `Content-Type: application/nostr+json+rpc`), and shows the status page to browsers;
/// beside it `/status.json` (the page's figures) and `/metrics` (Prometheus).
///
/// ```swift
/// let app = RelayServer.application(relay: relay, host: "127.0.0.1", port: 7777)
/// try await app.runService()
/// ```
public enum RelayServer {
    /// An application that serves `relay` and runs it as one of its services, so that on
    /// shutdown the listener closes first and the relay then commits what is queued.
    /// `services` run beside it (a `Mesh`) and stop before it, while the relay still writes.
    public static func application(
        relay: Relay, host: String, port: Int, pingInterval: Duration = .seconds(30), metrics: MetricsExporter? = nil,
        services: [any Service] = [], hosted: HostedRelays? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        logger: Logger = Logger(label: "martlet.server")
    ) -> some ApplicationProtocol {
        let router = Router(context: RelayRequestContext.self)
        router.add(middleware: CORSMiddleware())
        let clientAddresses = ClientAddresses(relay.configuration.connections)
        let status = StatusGate(
            access: relay.configuration.effectiveStatusAccess, admins: AdminAuthorization(relay: relay),
            clientAddresses: clientAddresses)
        router.get("/") { request, context -> Response in
            if request.headers[.accept]?.contains("application/nostr+json") == true {
                var information = RelayInformationDocument(configuration: relay.configuration)
                information.configuration.info = relay.info.current
                information.configuration.limits = relay.limits
                return Response(
                    status: .ok, headers: [.contentType: "application/nostr+json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: information.json())))
            }
            if let refusal = status.refusal(of: request, from: context.remoteAddress) { return refusal }
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.html(for: relay))))
        }
        // The status page lists the mesh's peers when one runs beside the relay.
        let mesh = services.lazy.compactMap { $0 as? Mesh }.first
        addOperations(to: router, relay: relay, mesh: mesh, metrics: metrics, status: status, hosted: hosted, logger: logger)
        HostedRoutes.add(to: router, hosted: hosted, relay: relay, logger: logger)
        let limits = relay.configuration.limits
        let edge = relay.configuration.connections
        // Frames up to twice the message limit reach the relay, which answers an oversized
        // message with a reason; only beyond that does the WebSocket layer drop the connection.
        // Pings are the relay's own (`WebSocketPingLoop`), not Hummingbird's. A compressed
        // message may inflate to the same limit, no further.
        let compression: [WebSocketExtensionFactory] =
            edge.compression
            ? [.perMessageDeflate(maxDecompressedFrameSize: limits.maxMessageLength * 2, minFrameSizeToCompress: 256)] : []
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: limits.maxMessageLength * 2, extensions: compression, autoPing: .disabled)
        // A keep-alive HTTP connection waiting for its next request gets as long as a new one.
        let upgradeConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: TimeAmount(edge.handshakeTimeout)), ws: webSocket)
        let connectionsPerIP = ConnectionsPerIP(limit: edge.maxPerIP, uncapped: clientAddresses.isTrustedProxy)
        let defaultRelay = relay
        let shouldUpgrade: @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        > = { request, channel, logger in
            // `/` is the default relay, `/<key>` a hosted one (opened on first use); a
            // hosted relay challenges every connection, so a replicating node is known
            // by its node key before it asks for anything.
            let relay: Relay
            let challenges: Bool
            switch HostedRelayKey.match(path: request.path ?? "/") {
            case .root:
                relay = defaultRelay
                challenges = false
            case .key(let key):
                do {
                    // nil: not hosted here; the HTTP route answers 404.
                    guard let opened = try await hosted?.open(key) else { return .dontUpgrade }
                    relay = opened.relay
                    challenges = true
                } catch {
                    logger.error("could not open hosted relay", metadata: ["relay": "\(key)", "error": "\(error)"])
                    return .dontUpgrade
                }
            case .malformed, .other:
                return .dontUpgrade
            }
            // Behind a trusted proxy, the client it names: blocks, rate limits and logs
            // must see each client, not the proxy they share.
            let remote = clientAddresses.client(peer: channel.remoteAddress, headers: request.headerFields)
            if let remote, relay.access.isBlocked(ip: remote) { return .dontUpgrade }
            let compressing =
                edge.compression
                && request.headerFields[values: .secWebSocketExtensions].contains { $0.contains("permessage-deflate") }
            if AxonSubprotocol.isRequested(by: request, relay: relay) {
                // Binary MessagePack frames: nothing for permessage-deflate to gain much on.
                return .upgrade(AxonSubprotocol.responseHeaders) { inbound, outbound, _ in
                    await serve(relay.makeAxonSession(remoteAddress: remote), compressing: false, inbound, outbound)
                }
            }
            return .upgrade([:]) { inbound, outbound, _ in
                let session = relay.makeSession(remoteAddress: remote)
                if challenges { session.sendChallenge() }
                await serve(session, compressing: compressing, inbound, outbound)
            }
            /// One upgraded connection, whichever protocol its session speaks.
            @Sendable func serve<Session: WebSocketSession>(
                _ session: Session, compressing: Bool, _ inbound: WebSocketInboundStream,
                _ outbound: WebSocketOutboundWriter
            ) async {
                // Fails only when the channel has closed already, which ends the session below;
                // the same ping loop serves both protocols: two missed pings close either.
                try? await WebSocketPingLoop.install(on: channel, interval: pingInterval)
                session.outbox.onOverflow { channel.close(promise: nil) }
                let connection = WebSocketConnection(
                    session: session, channel: channel, maxMessageLength: limits.maxMessageLength,
                    compressing: compressing, wire: relay.metrics.wire, logger: logger)
                await connection.run(inbound: inbound, outbound: outbound)
            }
        }
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                GuardedChildChannel(
                    base: HTTP1WebSocketUpgradeChannel(
                        responder: responder, configuration: upgradeConfiguration, shouldUpgrade: shouldUpgrade),
                    connections: connectionsPerIP, handshakeTimeout: edge.handshakeTimeout)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "martlet"),
            services: [relay] + (hosted.map { [$0] as [any Service] } ?? []) + services,
            onServerRunning: { channel in
                let listening = channel.localAddress?.port ?? port
                relay.addresses.listening(host: host, port: listening)
                await onServerRunning(listening)
            },
            logger: logger
        )
    }
}

/// The context of the relay's HTTP routes: Hummingbird's, plus the peer's address, which
/// the operator's pages check (`StatusAccess`).
public struct RelayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// NIP-11 asks relays to allow cross-origin reads of the information document.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .options {
            return Response(status: .noContent, headers: corsHeaders)
        }
        var response = try await next(request, context)
        for field in corsHeaders { response.headers.append(field) }
        return response
    }
}

private let corsHeaders: HTTPFields = [
    .accessControlAllowOrigin: "*",
    // `*` does not cover Authorization, which a browser-based NIP-86 client sends.
    .accessControlAllowHeaders: "Authorization, *",
    .accessControlAllowMethods: "GET, POST, OPTIONS",
]
