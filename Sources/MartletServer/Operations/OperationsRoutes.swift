import Hummingbird
import Logging
import MartletRelay
import MartletReplication
import NIOCore

extension RelayServer {
    /// The operator's routes: NIP-86 on the relay URL, the status page's JSON and the
    /// Prometheus metrics (when the relay records into an exporter).
    static func addOperations(
        to router: Router<RelayRequestContext>, relay: Relay, mesh: Mesh?, metrics: MetricsExporter?,
        status: StatusGate, hosted: HostedRelays? = nil, logger: Logger
    ) {
        let management = ManagementAPI(
            relay: relay, administration: RelayAdministration(relay: relay), admins: status.admins, logger: logger,
            hosted: hosted.map { HostedManagementAPI(hosted: $0, relay: relay, logger: logger) })
        router.post("/") { request, _ -> Response in
            guard ManagementAPI.accepts(request) else {
                return Response(status: .unsupportedMediaType, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "POST here is NIP-86: Content-Type: \(ManagementAPI.contentType)\n")))
            }
            return try await management.respond(to: request)
        }
        let started = ContinuousClock.now
        router.get("/status.json") { request, context -> Response in
            if let refusal = status.refusal(of: request, from: context.remoteAddress) { return refusal }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: await StatusDocument.json(for: relay, mesh: mesh, hosted: hosted, startedAt: started))))
        }
        guard let metrics else { return }
        router.get("/metrics") { request, context -> Response in
            if let refusal = status.refusal(of: request, from: context.remoteAddress) { return refusal }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: await metrics.render(for: relay, hosted: hosted))))
        }
    }
}
