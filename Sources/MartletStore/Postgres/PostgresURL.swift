import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=...` address, as libpq and most
/// tools spell it, turned into postgres-nio's client configuration.
///
/// ```swift
/// let target = try PostgresURL("postgres://martlet@127.0.0.1:5432/martlet")
/// let client = PostgresClient(configuration: target.configuration(connections: 4, options: options), ...)
/// ```
struct PostgresURL: CustomStringConvertible {
    enum TLSMode: String {
        case disable, prefer, require
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: TLSMode

    init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw StoreError("not a PostgreSQL URL (postgres://user@host:port/database): \(text)")
        }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        user = components.user?.removingPercentEncoding ?? "postgres"
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path.removingPercentEncoding
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        switch mode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        default: throw StoreError("unknown sslmode \"\(mode)\" (disable, prefer or require)")
        }
    }

    /// The address without the password, for logs.
    var description: String {
        "postgres://\(user)@\(host):\(port)/\(database ?? "")"
    }

    func configuration(connections: Int, options: PostgresEventStore.Options) -> PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS
        switch tls {
        case .disable:
            tlsConfiguration = .disable
        case .prefer:
            tlsConfiguration = .prefer(.makeClientConfiguration())
        case .require:
            // libpq's `require` encrypts without checking the certificate; so does this.
            var tlsOptions = TLSConfiguration.makeClientConfiguration()
            tlsOptions.certificateVerification = .none
            tlsConfiguration = .require(tlsOptions)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsConfiguration)
        configuration.options.maximumConnections = max(1, connections)
        configuration.options.connectTimeout = options.connectTimeout
        let milliseconds = options.timeout.components.seconds * 1000
            + options.timeout.components.attoseconds / 1_000_000_000_000_000
        // Server-side limits as well as the client's: a statement stuck behind a lock, or a
        // session left idle inside a transaction by a vanished client, gives up on its own.
        var parameters = [
            ("statement_timeout", String(milliseconds)),
            ("idle_in_transaction_session_timeout", String(milliseconds * 2)),
            // With the schema, so an operator (or a test) can tell stores on one database apart.
            ("application_name", String((options.schema.map { "martlet/\($0)" } ?? "martlet").prefix(63))),
        ]
        if let schema = options.schema { parameters.append(("search_path", PostgresSchema.quotedIdentifier(schema))) }
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }
}
