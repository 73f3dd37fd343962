import Hummingbird
import MartletRelay
import NIOCore

/// Applies a `StatusAccess` to one request.
struct StatusGate: Sendable {
    let access: StatusAccess
    let admins: AdminAuthorization
    /// Behind a proxy on the same machine every request comes from loopback; the client's
    /// own address is what `loopback` must judge.
    let clientAddresses: ClientAddresses

    /// Nil when the request may see the page; otherwise the 401 to answer.
    func refusal(of request: Request, from peer: SocketAddress?) -> Response? {
        if access == .public { return nil }
        if access == .loopback, let client = clientAddresses.client(peer: peer, headers: request.headers),
            Self.isLoopback(client)
        {
            return nil
        }
        do {
            _ = try admins.authorize(
                request.headers[.authorization], path: request.uri.path, method: request.method.rawValue, body: [],
                requirePayload: false)
            return nil
        } catch {
            let text = "unauthorized: this relay's status is for its operator (NIP-98 as an admin): \(error)\n"
            return Response(
                status: .unauthorized,
                headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: "Nostr"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    static func isLoopback(_ address: String) -> Bool {
        guard let bytes = IPAddress.bytes(address) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }
}
