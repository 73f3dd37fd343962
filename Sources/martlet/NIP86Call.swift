import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletServer
import NostrCore

/// One NIP-86 call from the command line, signed with NIP-98 by `secret`, for the commands
/// that talk to a running server (`martlet relay create --server`, `relay join`, `relay writers`).
/// Every failure is one line: no answer, a status without a NIP-86 body, or the relay's `error`.
struct NIP86Call {
    /// The HTTP(S) form of a relay URL (`ws://h:p/k` -> `http://h:p/k`).
    let endpoint: String

    init(relayURL: String) throws(CommandFailure) {
        guard let endpoint = Admin.httpURL(relayURL) else {
            throw CommandFailure("\"\(relayURL)\" is not a ws://, wss://, http:// or https:// URL")
        }
        self.endpoint = endpoint
    }

    /// The `result` of `method`; throws the relay's refusal or why there was no answer.
    func call(_ method: String, _ params: [Any] = [], signedBy secret: SecretKey, timeout: Double = 30) async throws -> Any {
        let (status, data) = try await post(method, params, signedBy: secret, timeout: timeout)
        let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let error = answer?["error"] as? String { throw CommandFailure("\(endpoint) refused \(method): \(error)") }
        guard status == 200, let answer else {
            let text = String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CommandFailure("\(endpoint) answered \(status): \(text.isEmpty ? "no NIP-86 answer" : text)")
        }
        return answer["result"] ?? NSNull()
    }

    /// POSTs the request, signed, and returns the HTTP status and body as they came.
    func post(
        _ method: String, _ params: [Any], signedBy secret: SecretKey, timeout: Double = 30
    ) async throws -> (status: Int, body: Data) {
        let body = try JSONSerialization.data(withJSONObject: ["method": method, "params": params], options: [.sortedKeys])
        guard let url = URL(string: endpoint) else { throw CommandFailure("\"\(endpoint)\" is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/nostr+json+rpc", forHTTPHeaderField: "Content-Type")
        request.setValue(
            HTTPAuthorization.header(signedBy: secret, url: endpoint, method: "POST", body: Array(body)),
            forHTTPHeaderField: "Authorization")
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            throw CommandFailure("no answer from \(endpoint): \(error.localizedDescription)")
        }
    }
}

/// A command that could not do its job: its one line goes to stderr, and the exit is non-zero.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
