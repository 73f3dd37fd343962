import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletServer
import NostrCore

/// `martlet admin <method> [params...]`: one NIP-86 call, signed with NIP-98 for the exact
/// URL and body, its answer printed readably (or as it came, with `--json`).
///
/// ```sh
/// martlet admin banpubkey <hex> spam --url wss://relay.example.com --key env:ADMIN_NSEC
/// ```
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a relay's NIP-86 management API as one of its admins.",
        discussion: """
            Methods (as Martlet answers them): supportedmethods, banpubkey <pubkey> [reason], \
            unbanpubkey <pubkey>, listbannedpubkeys, allowpubkey <pubkey> [reason], unallowpubkey <pubkey>, \
            listallowedpubkeys, banevent <id> [reason], allowevent <id>, listbannedevents, allowkind <kind>, \
            disallowkind <kind>, listallowedkinds, listdisallowedkinds, blockip <ip or CIDR> [reason], \
            unblockip <ip or CIDR>, listblockedips, changerelayname <name>, changerelaydescription <text>, \
            changerelayicon <url>. Exits non-zero when the relay refuses the call or answers an error.
            """)

    @Argument(help: "The NIP-86 method.") var method: String
    @Argument(help: "The method's parameters, in order.") var params: [String] = []
    @Option(help: "The relay (wss://, ws://, https:// or http://).") var url: String
    @Option(
        help: """
            The admin's secret key: nsec1... or 64 hex characters, a file holding one, or env:NAME \
            (default: the MARTLET_ADMIN_KEY environment variable).
            """)
    var key: String?
    @Flag(help: "Print the relay's JSON answer as it came.") var json = false

    /// Methods whose parameter is a kind number, sent as a JSON number.
    private static let kindMethods: Set<String> = ["allowkind", "disallowkind"]

    func validate() throws {
        guard Self.httpURL(url) != nil else {
            throw ValidationError("--url must be a ws://, wss://, http:// or https:// URL, not \"\(url)\"")
        }
        _ = try secretKey()
    }

    func run() async throws {
        let endpoint = Self.httpURL(url)!
        let secret = try secretKey()
        let parameters: [Any] = params.map { parameter in
            Self.kindMethods.contains(method) ? (Int(parameter).map { $0 as Any } ?? parameter) : parameter
        }
        let (status, data) = try await NIP86Call(relayURL: url).post(method, parameters, signedBy: secret)
        let text = String(decoding: data, as: UTF8.self)
        if json { print(text) }
        let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        if let error = answer?["error"] as? String {
            throw AdminFailure("\(endpoint) answered \(status): \(error)")
        }
        guard status == 200, let answer else {
            throw AdminFailure("\(endpoint) answered \(status): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if !json { print(Self.readable(answer["result"] ?? NSNull())) }
    }

    /// The URL to POST to and to name in NIP-98's `u` tag: the relay's, over HTTP(S).
    static func httpURL(_ url: String) -> String? {
        let pairs = [("wss://", "https://"), ("ws://", "http://"), ("https://", "https://"), ("http://", "http://")]
        for (scheme, http) in pairs where url.lowercased().hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            guard !rest.isEmpty else { return nil }
            return http + rest + (rest.contains("/") ? "" : "/")
        }
        return nil
    }

    /// The secret from `--key` or `MARTLET_ADMIN_KEY`: literal, `env:NAME`, or a file's content.
    private func secretKey() throws -> SecretKey {
        let environment = ProcessInfo.processInfo.environment
        guard var given = key ?? environment["MARTLET_ADMIN_KEY"] else {
            throw ValidationError("give the admin's key with --key (nsec1..., hex, a file or env:NAME) or MARTLET_ADMIN_KEY")
        }
        if given.hasPrefix("env:") {
            let name = String(given.dropFirst(4))
            guard let value = environment[name] else { throw ValidationError("--key: the variable \(name) is not set") }
            given = value
        } else if FileManager.default.fileExists(atPath: given) {
            guard let content = try? String(contentsOfFile: given, encoding: .utf8) else {
                throw ValidationError("--key: cannot read \(given)")
            }
            given = content
        }
        guard let secret = SecretKey(hexOrNsec: given) else {
            throw ValidationError("--key is not a secret key (nsec1... or 64 hex characters)")
        }
        return secret
    }

    /// A list one item a line (objects as their fields side by side), a change's `true` as `ok`.
    static func readable(_ result: Any) -> String {
        switch result {
        case let items as [Any]:
            return items.isEmpty ? "(none)" : items.map(item).joined(separator: "\n")
        case is NSNull:
            return "(none)"
        case let text as String:
            return text
        default:
            // NIP-86 answers every change with `true`.
            return "ok"
        }
    }

    private static func item(_ value: Any) -> String {
        guard let object = value as? [String: Any] else { return "\(value)" }
        let order = ["pubkey", "id", "ip", "reason"]
        let keys = object.keys.sorted { (order.firstIndex(of: $0) ?? 9, $0) < (order.firstIndex(of: $1) ?? 9, $1) }
        return keys.map { "\(object[$0] ?? "")" }.joined(separator: "  ")
    }
}

/// A refused or failed call: printed as the relay put it, and a non-zero exit.
struct AdminFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
