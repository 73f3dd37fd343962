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
}
