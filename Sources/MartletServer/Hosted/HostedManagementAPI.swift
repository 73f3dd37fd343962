import Foundation
import Hummingbird
import Logging
import MartletRelay
import NIOCore
import NostrCore

/// Martlet's NIP-86 extension for hosted relays (issue 18), over the same HTTP POST with
/// `Content-Type: application/nostr+json+rpc` and NIP-98 authorization:
///
/// - on `/`: `createrelay [name, description, writers policy]`, by an admin or this node's
///   key; answers `{"key", "url"}`.
/// - on `/<key>`: `joinrelay` (any signer: the node key asking to become a writer; answers
///   `{"status": "writer"|"pending", "node", "name", "description"}`, a removed writer an
///   error), and `listwriters`, `addwriter <pubkey>`, `removewriter <pubkey>` by an admin,
///   this node's key or one of the relay's writers.
final class HostedManagementAPI: Sendable {
    static let rootMethods = ["createrelay"]
    static let relayMethods = ["supportedmethods", "joinrelay", "listwriters", "addwriter", "removewriter"]

    let hosted: HostedRelays
    /// The default relay: its URLs are what NIP-98's `u` tag names (with the path), its
    /// admins may manage every hosted relay.
    let relay: Relay
    /// NIP-98 for the default relay's URLs with the request's path; an authorization is
    /// spent only once its signer is admitted (a stranger's, who may sign without end, never).
    private let authorizations: AdminAuthorization
    let logger: Logger

    init(hosted: HostedRelays, relay: Relay, logger: Logger) {
        self.hosted = hosted
        self.relay = relay
        self.authorizations = AdminAuthorization(relay: relay)
        self.logger = logger
    }

    /// The request's valid NIP-98 authorization, not yet spent.
    private func authorization(of request: Request, body: [UInt8]) throws(AdminAuthorization.Refusal) -> Event {
        try authorizations.verify(
            request.headers[.authorization], path: request.uri.path, method: request.method.rawValue, body: body)
    }

    private static func unauthorized(_ reason: String) -> Response {
        ManagementAnswer.response(status: .unauthorized, error: "unauthorized: \(reason)")
    }

    private func isOperator(_ pubkey: PublicKey) -> Bool {
        pubkey == hosted.node || relay.configuration.management.adminPubkeys.contains(pubkey)
    }

    /// A call on `/` for one of `rootMethods`; the body is already read.
    func respondAtRoot(to request: Request, body: [UInt8], method: String, params: [Any]) async -> Response {
        let caller: PublicKey
        do {
            let authorization = try authorization(of: request, body: body)
            caller = authorization.pubkey
            guard isOperator(caller) else { return Self.unauthorized("\(caller) is not an admin of this relay") }
            try authorizations.spend(authorization)
        } catch {
            return Self.unauthorized("\(error)")
        }
        let name = params.first as? String ?? ""
        let description = params.count > 1 ? params[1] as? String ?? "" : ""
        var admission: WriterRoster.Admission?
        if params.count > 2 {
            guard let text = params[2] as? String, let chosen = WriterRoster.Admission(rawValue: text) else {
                return ManagementAnswer.response(error: "parameter 3 must be the writers policy: open or approval")
            }
            admission = chosen
        }
        guard name.utf8.count <= 256, description.utf8.count <= 4096 else {
            return ManagementAnswer.response(error: "the name is at most 256 bytes, the description 4096")
        }
        do {
            let key = try await hosted.create(name: name, description: description, admission: admission)
            logger.notice("hosted relay created over NIP-86", metadata: ["relay": "\(key)", "by": "\(caller)"])
            return ManagementAnswer.response(result: ["key": key.hex, "url": hosted.urls(of: key).first ?? "/\(key.hex)"])
        } catch {
            return ManagementAnswer.response(error: "the relay could not be created: \(error)")
        }
    }

    /// A call on `/<key>`.
    func respond(to request: Request, key: HostedRelayKey) async throws -> Response {
        guard ManagementAPI.accepts(request) else {
            return HostedRoutes.text(.unsupportedMediaType, "POST here is NIP-86: Content-Type: \(ManagementAPI.contentType)\n")
        }
        let body = Array(buffer: try await request.body.collect(upTo: ManagementAPI.maxBodySize))
        // Spent below only for the writers' methods: asking to join, or what is supported,
        // is open to any node and harmless to repeat.
        let authorization: Event
        do {
            authorization = try self.authorization(of: request, body: body)
        } catch {
            return Self.unauthorized("\(error)")
        }
        let caller = authorization.pubkey
        guard let call = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let method = call["method"] as? String
        else {
            return ManagementAnswer.response(error: "the body is not a NIP-86 request: {\"method\": …, \"params\": […]}")
        }
        let params = call["params"] as? [Any] ?? []
        guard let roster = hosted.roster(of: key), let manifest = hosted.manifest(of: key) else {
            return ManagementAnswer.response(status: .notFound, error: "no relay \(key) here")
        }
        do {
            switch method {
            case "supportedmethods":
                return ManagementAnswer.response(result: Self.relayMethods)
            case "joinrelay":
                switch try hosted.requestToJoin(key, node: caller) {
                case .refused:
                    return ManagementAnswer.response(error: "restricted: \(caller) was removed as a writer of this relay")
                case let answer:
                    return ManagementAnswer.response(result: [
                        "status": answer.rawValue, "node": hosted.node.hex, "name": manifest.name,
                        "description": manifest.description, "writers_policy": manifest.admission.rawValue,
                    ])
                }
            case "listwriters", "addwriter", "removewriter":
                guard isOperator(caller) || roster.isWriter(caller) else {
                    return Self.unauthorized("\(caller) is neither a writer nor an admin of this relay")
                }
                do {
                    try authorizations.spend(authorization)
                } catch {
                    return Self.unauthorized("\(error)")
                }
                if method == "listwriters" {
                    let snapshot = roster.snapshot
                    let rows: [[String: String]] =
                        snapshot.writers.map { ["pubkey": $0.hex, "state": "writer"] }
                        + snapshot.pending.map { ["pubkey": $0.hex, "state": "pending"] }
                        + snapshot.removed.map { ["pubkey": $0.hex, "state": "removed"] }
                    return ManagementAnswer.response(result: rows)
                }
                guard let text = params.first as? String, let node = PublicKey(hex: text.lowercased()), text.utf8.count == 64 else {
                    return ManagementAnswer.response(error: "parameter 1 must be a node's public key (64 hex characters)")
                }
                if method == "addwriter" {
                    try hosted.addWriter(node, to: key)
                } else {
                    try hosted.removeWriter(node, from: key)
                }
                logger.notice("hosted relay writers changed", metadata: ["relay": "\(key)", "method": "\(method)", "node": "\(node)", "by": "\(caller)"])
                return ManagementAnswer.response(result: true)
            default:
                return ManagementAnswer.response(error: "unsupported method: \(method)")
            }
        } catch {
            return ManagementAnswer.response(error: "the change could not be saved: \(error)")
        }
    }
}

/// NIP-86's answer shape: `{"result": …}` or `{"result": null, "error": "…"}`.
enum ManagementAnswer {
    static func response(status: HTTPResponse.Status = .ok, result: Any? = nil, error: String? = nil) -> Response {
        var document: [String: Any] = ["result": result ?? NSNull()]
        if let error { document["error"] = error }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Nostr" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
