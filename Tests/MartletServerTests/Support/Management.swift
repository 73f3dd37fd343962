import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletServer
import MartletTestSupport
import NostrCore

/// A NIP-86 answer: the HTTP status and, when the body is JSON, its `result` and `error`.
struct ManagementAnswer {
    var status: Int
    var result: Any?
    var error: String?

    var succeeded: Bool { status == 200 && error == nil && (result as? Bool) == true }
}

/// How to spoil a NIP-98 authorization, for the refusal tests.
enum Tampering: String, CaseIterable, CustomStringConvertible {
    case none
    /// No Authorization header at all.
    case unauthenticated
    /// `payload` is the hash of another body.
    case wrongPayload
    /// `u` names another relay.
    case wrongURL
    /// `method` says GET.
    case wrongMethod
    /// `created_at` two minutes ago.
    case stale
    /// A valid signature by a pubkey that is not an admin.
    case notAdmin

    var description: String { rawValue }

    /// Words the relay's 401 answer must contain, naming the check that failed.
    var refusal: String {
        switch self {
        case .none: ""
        case .unauthenticated: "missing Authorization"
        case .wrongPayload: "payload tag is not the SHA-256"
        case .wrongURL: "u tag is not this URL"
        case .wrongMethod: "method tag"
        case .stale: "created_at"
        case .notAdmin: "not an admin"
        }
    }
}

/// A relay reachable over HTTP on 127.0.0.1: a `TestRelay` in this process or a `RelayProcess`.
protocol RelayEndpoint: Sendable {
    var port: Int { get }
}

extension TestRelay: RelayEndpoint {}
extension RelayProcess: RelayEndpoint {}

extension RelayEndpoint {
    var httpURL: String { "http://127.0.0.1:\(port)/" }

    /// Any HTTP request to this relay (`path` relative to the root).
    func http(
        _ method: String = "GET", path: String = "", headers: [String: String] = [:], body: Data? = nil
    ) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: httpURL + path)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await HTTPGet.run(request)
    }

    /// Calls a NIP-86 method as `admin`, authorised by NIP-98 unless `tampering` says otherwise.
    func manage(
        _ method: String, _ params: [Any] = [], as admin: Author, tampering: Tampering = .none
    ) async throws -> ManagementAnswer {
        let body = try JSONSerialization.data(withJSONObject: ["method": method, "params": params])
        var headers = ["Content-Type": "application/nostr+json+rpc"]
        let signer = tampering == .notAdmin ? Author() : admin
        let url = tampering == .wrongURL ? "http://relay.example.com/" : httpURL
        let signed = tampering == .wrongPayload ? Data("{}".utf8) : body
        let header = HTTPAuthorization.header(
            signedBy: signer.secret, url: url, method: tampering == .wrongMethod ? "GET" : "POST",
            body: Array(signed), createdAt: now() - (tampering == .stale ? 120 : 0))
        if tampering != .unauthenticated { headers["Authorization"] = header }
        let response = try await http("POST", headers: headers, body: body)
        let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let result = object?["result"].flatMap { $0 is NSNull ? nil : $0 }
        return ManagementAnswer(status: response.status, result: result, error: object?["error"] as? String)
    }

    /// The value of one sample line of `/metrics` (`name` with its labels, as printed).
    func metric(_ name: String) async throws -> Double? {
        let text = String(decoding: try await http(path: "metrics").body, as: UTF8.self)
        return Metrics.value(of: name, in: text)
    }
}

/// Reading the Prometheus text format in tests.
enum Metrics {
    static func value(of name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, parts[0] == name { return Double(parts[1]) }
        }
        return nil
    }
}
