import Foundation
import Hummingbird
import Logging
import MartletAxon
import MartletRelay
import NIOCore
import NostrCore

/// NIP-86: the relay management API, JSON-RPC-like over HTTP POST on the relay URL with
/// `Content-Type: application/nostr+json+rpc`, open to the configured admin pubkeys by
/// NIP-98 authorization (with the `payload` tag required).
///
/// A refused authorization is answered 401; a call that fails is answered 200 with
/// `{"result": null, "error": "…"}`, as NIP-86 puts it. Changes go through
/// `RelayAdministration`, so they hold at once for open connections and survive a restart.
///
/// ```sh
/// curl -X POST -H 'Content-Type: application/nostr+json+rpc' -H "Authorization: Nostr $AUTH" \
///      -d '{"method":"banpubkey","params":["<hex>","spam"]}' https://relay.example.com/
/// ```
struct ManagementAPI: Sendable {
    static let contentType = "application/nostr+json+rpc"
    /// Bigger than any management call; refuses bodies that could only be abuse.
    static let maxBodySize = 64 * 1024

    /// Every method this relay answers, in the order `supportedmethods` lists them.
    static let methods = [
        "supportedmethods", "banpubkey", "unbanpubkey", "listbannedpubkeys", "allowpubkey", "unallowpubkey",
        "listallowedpubkeys", "banevent", "allowevent", "listbannedevents", "allowkind", "disallowkind",
        "listallowedkinds", "listdisallowedkinds", "blockip", "unblockip", "listblockedips", "changerelayname",
        "changerelaydescription", "changerelayicon", "allowaxonkey", "disallowaxonkey", "listallowedaxonkeys",
    ] + GroupManagement.methods

    let relay: Relay
    let administration: RelayAdministration
    let admins: AdminAuthorization
    let logger: Logger
    /// Martlet's hosted-relay methods on `/` (`createrelay`), when this server hosts relays.
    var hosted: HostedManagementAPI?

    static func accepts(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType] else { return false }
        return type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == contentType
    }

    func respond(to request: Request) async throws -> Response {
        let body = Array(buffer: try await request.body.collect(upTo: Self.maxBodySize))
        // Hosted relays are made by an admin or by this node's own key (its CLI).
        if let hosted, let call = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let method = call["method"] as? String, HostedManagementAPI.rootMethods.contains(method)
        {
            return await hosted.respondAtRoot(to: request, body: body, method: method, params: call["params"] as? [Any] ?? [])
        }
        let admin: PublicKey
        do {
            admin = try authorize(request, body: body)
        } catch {
            logger.info("management call refused", metadata: ["reason": "\(error)"])
            return Self.response(status: .unauthorized, error: "unauthorized: \(error)")
        }
        guard let call = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let method = call["method"] as? String
        else {
            return Self.response(error: "the body is not a NIP-86 request: {\"method\": …, \"params\": […]}")
        }
        let params = call["params"] as? [Any] ?? []
        logger.notice("management call", metadata: ["method": "\(method)", "admin": "\(admin)"])
        do {
            return Self.response(result: try await perform(method, Parameters(params)))
        } catch let error as CallError {
            return Self.response(error: error.message)
        } catch {
            logger.warning("management call failed", metadata: ["method": "\(method)", "error": "\(error)"])
            return Self.response(error: "the change could not be saved: \(error)")
        }
    }

    /// NIP-98 for one of the relay's own URLs, signed by an admin, used once.
    private func authorize(_ request: Request, body: [UInt8]) throws -> PublicKey {
        try admins.authorize(
            request.headers[.authorization], path: request.uri.path, method: request.method.rawValue, body: body)
    }

    private func perform(_ method: String, _ params: Parameters) async throws -> Any {
        let admin = administration
        switch method {
        case "supportedmethods": return Self.methods + (hosted == nil ? [] : HostedManagementAPI.rootMethods)
        case "banpubkey": try await admin.ban(try params.pubkey(0), reason: params.reason(1))
        case "unbanpubkey": try await admin.unban(try params.pubkey(0))
        case "listbannedpubkeys": return try await admin.bannedPubkeys().map { Self.object("pubkey", $0.value.hex, $0.reason) }
        case "allowpubkey": try await admin.allow(try params.pubkey(0), reason: params.reason(1))
        case "unallowpubkey": try await admin.disallow(try params.pubkey(0))
        case "listallowedpubkeys": return try await admin.allowedPubkeys().map { Self.object("pubkey", $0.value.hex, $0.reason) }
        case "banevent": try await admin.ban(try params.eventID(0), reason: params.reason(1))
        case "allowevent": try await admin.unban(try params.eventID(0))
        case "listbannedevents": return try await admin.bannedEvents().map { Self.object("id", $0.value.hex, $0.reason) }
        case "allowkind": try await admin.allow(try params.kind(0))
        case "disallowkind": try await admin.disallow(try params.kind(0))
        // Without an allowlist every kind not disallowed is accepted, and the list is empty.
        case "listallowedkinds": return (await admin.allowedKinds() ?? []).map { Int($0.rawValue) }
        case "listdisallowedkinds": return await admin.disallowedKinds().map { Int($0.rawValue) }
        case "blockip": try await admin.block(ip: try params.ip(0), reason: params.reason(1))
        case "unblockip": try await admin.unblock(ip: try params.ip(0))
        case "listblockedips": return try await admin.blockedIPs().map { Self.object("ip", $0.value, $0.reason) }
        case "changerelayname": try await admin.change(.name, to: try params.text(0))
        case "changerelaydescription": try await admin.change(.description, to: try params.text(0))
        case "changerelayicon": try await admin.change(.icon, to: try params.text(0))
        // Martlet's own: the ed25519 keys of the axon profile (docs/axon.md).
        case "allowaxonkey": try await admin.allow(axonKey: try params.axonKey(0))
        case "disallowaxonkey": try await admin.disallow(axonKey: try params.axonKey(0))
        case "listallowedaxonkeys": return await admin.allowedAxonKeys().map(\.hex)
        case _ where GroupManagement.methods.contains(method):
            do {
                return try await GroupManagement(groups: relay.groups).perform(method, params.values)
            } catch let error as GroupManagement.Refusal {
                throw CallError(error.message)
            }
        default: throw CallError("unsupported method: \(method)")
        }
        return true
    }

    private static func object(_ key: String, _ value: String, _ reason: String?) -> [String: String] {
        var object = [key: value]
        if let reason { object["reason"] = reason }
        return object
    }

    private static func response(status: HTTPResponse.Status = .ok, result: Any? = nil, error: String? = nil) -> Response {
        var document: [String: Any] = ["result": result ?? NSNull()]
        if let error { document["error"] = error }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Nostr" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A call's refusal, answered as NIP-86's `error`.
private struct CallError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// The `params` array, read by position with the type each method expects.
private struct Parameters {
    let values: [Any]
    init(_ values: [Any]) { self.values = values }

    func text(_ index: Int) throws -> String {
        guard index < values.count, let text = values[index] as? String else {
            throw CallError("parameter \(index + 1) must be a string")
        }
        return text
    }

    func axonKey(_ index: Int) throws -> AxonAuthKey {
        guard let key = AxonAuthKey(hex: try text(index)) else {
            throw CallError("parameter \(index + 1) must be an ed25519 public key (64 hex characters)")
        }
        return key
    }

    func reason(_ index: Int) -> String? {
        guard index < values.count, let text = values[index] as? String, !text.isEmpty else { return nil }
        return text
    }

    func pubkey(_ index: Int) throws -> PublicKey {
        guard let pubkey = PublicKey(hex: try text(index).lowercased()) else {
            throw CallError("parameter \(index + 1) must be a 32-byte hex public key")
        }
        return pubkey
    }

    func eventID(_ index: Int) throws -> EventID {
        guard let id = EventID(hex: try text(index).lowercased()) else {
            throw CallError("parameter \(index + 1) must be a 32-byte hex event id")
        }
        return id
    }

    func kind(_ index: Int) throws -> Kind {
        // `as? Int` takes only whole numbers; a kind sent as a string is taken too.
        let value: Int? =
            if index < values.count, let number = values[index] as? Int {
                number
            } else if index < values.count, let text = values[index] as? String {
                Int(text)
            } else {
                nil
            }
        guard let value, let kind = UInt16(exactly: value) else {
            throw CallError("parameter \(index + 1) must be a kind number between 0 and 65535")
        }
        return Kind(kind)
    }

    /// An address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`), in its canonical spelling.
    func ip(_ index: Int) throws -> String {
        guard let range = IPRange(try text(index)) else {
            throw CallError("parameter \(index + 1) must be an IPv4 or IPv6 address or a CIDR range")
        }
        return range.description
    }
}
