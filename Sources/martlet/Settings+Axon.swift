import Configuration
import MartletAxon
import MartletRelay

extension Settings {
    /// The `axon` section (docs/axon.md).
    static func axon(_ config: ConfigReader) throws -> RelayConfiguration.Axon {
        var axon = RelayConfiguration.Axon()
        axon.enabled = config.bool(forKey: "enabled", default: axon.enabled)
        var allowlist = Set<AxonAuthKey>()
        for entry in config.stringArray(forKey: "allowlist", default: []) {
            let hex = String(entry.filter { !$0.isWhitespace })
            if hex.isEmpty { continue }
            guard let key = AxonAuthKey(hex: hex) else {
                throw SettingsError("axon.allowlist: \"\(hex)\" is not an ed25519 public key of 64 hex characters")
            }
            allowlist.insert(key)
        }
        axon.allowlist = allowlist
        axon.maxContentBytes = config.int(forKey: "max_content_bytes", default: axon.maxContentBytes)
        if let range = config.string(forKey: "ephemeral_kinds") {
            let trimmed = String(range.filter { !$0.isWhitespace })
            if trimmed.isEmpty {
                axon.ephemeralKinds = nil
            } else {
                guard let kinds = kindRange(trimmed) else {
                    throw SettingsError("axon.ephemeral_kinds must be a range like 3000-3999, not \"\(range)\"")
                }
                axon.ephemeralKinds = kinds
            }
        }
        axon.relayURL = config.string(forKey: "relay_url").flatMap { $0.isEmpty ? nil : $0 }
        return axon
    }

    /// `3000-3999` as a range of kinds; nil unless both ends are kinds in order.
    static func kindRange(_ text: String) -> ClosedRange<UInt16>? {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let low = UInt16(ends[0]), let high = UInt16(ends[1]), low <= high else { return nil }
        return low...high
    }
}
