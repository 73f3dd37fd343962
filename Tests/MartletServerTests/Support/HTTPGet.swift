import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletTestSupport

/// A plain HTTP request for tests, through URLSession.
enum HTTPGet {
    static func run(_ request: URLRequest) async throws -> (status: Int, headers: [String: String], body: Data) {
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestFailure("not an HTTP response") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return (http.statusCode, headers, data)
    }

    /// The NIP-11 document of the relay on 127.0.0.1:`port`, parsed.
    static func informationDocument(port: Int) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/")!)
        request.setValue("application/nostr+json", forHTTPHeaderField: "Accept")
        let response = try await run(request)
        guard let document = try JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw TestFailure("the NIP-11 document is not a JSON object")
        }
        return document
    }
}
