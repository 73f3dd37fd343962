import Foundation
import MartletRelay
import MartletServer
import Testing

/// NIP-11 with NIP-EE: the document tells clients how long group events stay, and says
/// nothing about MLS while it is off.
@Suite("NIP-11 and NIP-EE")
struct NIPEEInformationTests {
    static func document(_ configuration: RelayConfiguration) throws -> [String: Any] {
        let bytes = RelayInformationDocument(configuration: configuration).json()
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func json(_ text: String) throws -> NSArray? {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSArray
    }

    @Test("with MLS on, retention names kind 445 and its time, after the operator's own rules; off, nothing")
    func retentionOfGroupEvents() throws {
        var configuration = RelayConfiguration()
        configuration.info.retention = [RetentionRule(kinds: [.kind(1)], time: 3600)]
        let off = try Self.document(configuration)
        #expect(off["retention"] as? NSArray == (try Self.json(#"[{"kinds":[1],"time":3600}]"#)))

        configuration.mls.enabled = true
        configuration.mls.groupEventRetention = 86_400
        let on = try Self.document(configuration)
        // NIP-11: "retention": [{"kinds": [0, 1, [5, 7], [40, 49]], "time": 3600}, ...]
        #expect(
            on["retention"] as? NSArray == (try Self.json(#"[{"kinds":[1],"time":3600},{"kinds":[445],"time":86400}]"#)))
        // NIP-EE has no number: supported_nips holds integers only, and is the same either way.
        #expect(on["supported_nips"] as? [Int] == off["supported_nips"] as? [Int])
    }
}
