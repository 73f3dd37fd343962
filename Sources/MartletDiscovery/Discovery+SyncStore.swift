import Foundation
import Logging
import MartletStore
import NostrCore

extension Discovery {
    /// Notes this round's relays in the sync store, and forgets the relays whose
    /// announcement has not been found for `maxAnnouncementAge` (the age past which an
    /// announcement no longer counts anyway): in memory, in the store, and in the mesh,
    /// which drops their peers (`DiscoveredRelays.forgotten`).
    func remember(_ found: [RelayAnnouncement], now: Int64) async {
        let cutoff = now - configuration.maxAnnouncementAge
        for url in relays.forget(seenBefore: cutoff) {
            logger.info("relay forgotten: its announcement was not found lately", metadata: ["url": "\(url)"])
        }
        guard let syncStore else { return }
        do {
            for announcement in found {
                try await syncStore.recordRelaySeen(
                    announcement.url, information: Self.information(announcement), at: now)
            }
            _ = try await syncStore.forgetRelays(seenBefore: cutoff)
        } catch {
            logger.warning("could not update the sync store", metadata: ["error": "\(error)"])
        }
    }

    /// Notes in the sync store the authors whose lists were just put.
    func rememberAuthors(_ authors: [PublicKey], now: Int64) async {
        guard let syncStore else { return }
        do {
            for author in authors { try await syncStore.recordSyncAuthor(author, at: now) }
        } catch {
            logger.warning("could not update the sync store", metadata: ["error": "\(error)"])
        }
    }

    func recordSyncStoreFigures() async {
        guard let syncStore, let metrics,
            let relays = try? await syncStore.syncRelays(), let authors = try? await syncStore.syncAuthors()
        else { return }
        metrics.record(syncRelays: relays.count, syncAuthors: authors.count)
    }

    /// What an announcement says of the relay in NIP-11's terms (`self`, `supported_nips`),
    /// as JSON with its keys sorted.
    static func information(_ announcement: RelayAnnouncement) -> String {
        let object: [String: Any] = ["self": announcement.relayKey.hex, "supported_nips": announcement.supportedNIPs]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
