import Foundation
import Logging
public import MartletRelay
public import MartletReplication
import MartletStore
public import NostrCore
import ServiceLifecycle

/// One hosted relay opened for use: its own `Relay` (own store, subscriptions, pipeline,
/// NIP-11 fields) and, on a node that joined it through another, the mesh that keeps it in
/// step with those members. Made by `HostedRelays` when the relay is first used.
public final class HostedRelay: Sendable {
    public let key: HostedRelayKey
    public let relay: Relay
    public let roster: WriterRoster
    /// Keeps the replicas this node joined through in step, when there are any.
    public let mesh: Mesh?
    let store: any EventStore
    private let group: ServiceGroup
    private let logger: Logger

    init(key: HostedRelayKey, relay: Relay, roster: WriterRoster, mesh: Mesh?, store: any EventStore, logger: Logger) {
        self.key = key
        self.relay = relay
        self.roster = roster
        self.mesh = mesh
        self.store = store
        self.logger = logger
        group = ServiceGroup(services: [relay] + (mesh.map { [$0] } ?? []), logger: logger)
    }

    /// Ends `run()` as a shutdown would (an idle relay closed): the writer commits what was
    /// queued, then the store closes.
    func stop() {
        Task { await group.triggerGracefulShutdown() }
    }

    /// Runs the relay (and its mesh) until graceful shutdown or `stop()`, then closes the
    /// store: the mesh stops first, the relay's writer then commits what was queued.
    func run() async {
        let group = group
        await withGracefulShutdownHandler {
            do {
                try await group.run()
            } catch {
                logger.warning("hosted relay stopped", metadata: ["relay": "\(key)", "error": "\(error)"])
            }
        } onGracefulShutdown: {
            Task { await group.triggerGracefulShutdown() }
        }
        do {
            try await store.close()
        } catch {
            logger.warning("hosted relay store did not close", metadata: ["relay": "\(key)", "error": "\(error)"])
        }
    }
}

/// The signed event a hosted relay's history starts with (issue 18): NIP-78's kind 30078
/// ("arbitrary custom app data", addressable) signed by the relay's own key, `d` tag
/// `martlet:relay`, content the relay's name, description and writers policy as JSON.
/// A replica that joins receives it with the rest, so every copy can tell the relay's
/// name and that its key made it.
public enum HostedRelayCreation {
    public static let kind: Kind = 30078
    public static let identifier = "martlet:relay"

    public static func event(signedBy identity: RelayIdentity, manifest: HostedRelayManifest) -> Event {
        let content: [String: String] = [
            "name": manifest.name, "description": manifest.description, "writers_policy": manifest.admission.rawValue,
        ]
        let json = (try? JSONSerialization.data(withJSONObject: content, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Event.signed(
            by: identity.secretKey, kind: kind, createdAt: manifest.createdAt,
            tags: [["d", identifier], ["name", manifest.name]], content: String(decoding: json, as: UTF8.self))
    }
}
