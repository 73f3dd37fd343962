import Foundation
import MartletRelay
@testable import MartletServer
import MartletTestSupport
import NostrCore
import Testing

/// NIP-98 authorizations are spent (kept so that a copy is refused) only once the endpoint
/// admits their signer: anyone can sign valid ones without end, and a table that kept a
/// stranger's would fill and push out the admins' own.
@Suite("NIP-98 authorizations spent")
struct AdminAuthorizationTests {
    @Test("a stranger's valid authorizations are refused and never kept; an admin's is kept and refused when replayed")
    func onlyAdmittedSignersAreKept() async throws {
        let admin = Author()
        try await TestRelay.with(configure: { $0.management.adminPubkeys = [admin.pubkey] }) { relay throws in
            let authorizations = AdminAuthorization(relay: relay.relay)
            let body = Array(#"{"method":"supportedmethods","params":[]}"#.utf8)
            func header(_ author: Author) -> String {
                HTTPAuthorization.header(signedBy: author.secret, url: relay.httpURL, method: "POST", body: body)
            }
            for _ in 0..<50 {
                let stranger = Author()
                #expect(throws: AdminAuthorization.Refusal.self) {
                    try authorizations.authorize(header(stranger), path: "/", method: "POST", body: body)
                }
                // Valid, so an endpoint open to any signer may still hear it.
                let heard = try authorizations.verify(header(stranger), path: "/", method: "POST", body: body)
                #expect(heard.pubkey == stranger.pubkey)
            }
            #expect(authorizations.spentCount == 0)

            let signed = header(admin)
            let caller = try authorizations.authorize(signed, path: "/", method: "POST", body: body)
            #expect(caller == admin.pubkey)
            #expect(authorizations.spentCount == 1)
            #expect(throws: AdminAuthorization.Refusal.self) {
                try authorizations.authorize(signed, path: "/", method: "POST", body: body)
            }
        }
    }
}
