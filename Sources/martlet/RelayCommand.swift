import ArgumentParser
import Foundation
import Logging
import MartletDiscovery
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import NostrCore

/// `martlet relay …`: hosted relays (issue 18), each known by its key and served at
/// `/<key>` beside the default relay.
struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Create, join and manage hosted relays (served at /<relay key>).",
        subcommands: [RelayCreate.self, RelayJoin.self, RelayWriters.self, RelayHosted.self])
}

/// The options every `martlet relay` command shares: where the node's data is.
struct NodeOptions: ParsableArguments {
    @Option(help: "Folder of the node's data (its key, its stores, relays/<key>/).") var data: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

    func settings() async throws -> Settings {
        var settings = try await Settings.load(file: config)
        if let data { settings.dataDirectory = data }
        settings.bootstrapLogging(floor: .warning)
        return settings
    }

    /// This node's key: its relay identity (`relay.secret_key`, or `relay.key` in the data folder).
    func node(_ settings: Settings) throws -> RelayIdentity {
        try RelayIdentity.load(configured: settings.secretKey, directory: settings.dataDirectory)
    }
}

/// A relay key argument, checked before anything runs; a bad one is one line, not the usage.
func relayKey(_ text: String) throws -> HostedRelayKey {
    guard let key = HostedRelayKey(text) else {
        throw CommandFailure("\"\(text.prefix(80))\" is not a relay key (64 hex characters)")
    }
    return key
}

/// `martlet relay create`: a new relay, its key pair and its creation event.
struct RelayCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a hosted relay: prints its key and its URL.",
        discussion: """
            Makes the relay's key pair (the secret in <data>/relays/<key>/relay.key, mode 0600) \
            and records a creation event signed by it (kind 30078, d tag martlet:relay) in the \
            relay's own store. With --server, asks that running server instead (NIP-86 \
            createrelay, signed by this node's key, which must be the server's own or an admin's).
            """)

    @Option(help: "The relay's NIP-11 name.") var name = "Hosted relay"
    @Option(help: "The relay's NIP-11 description.") var description = ""
    @Option(help: "Writers policy: open (every node that asks replicates) or approval (a writer approves).")
    var writers: String?
    @Option(help: "A running server to create the relay on (ws://host:port).") var server: String?
    @OptionGroup var node: NodeOptions

    func validate() throws {
        if let writers, WriterRoster.Admission(rawValue: writers) == nil {
            throw ValidationError("--writers must be open or approval, not \"\(writers)\"")
        }
    }

    func run() async throws {
        let settings = try await node.settings()
        let identity = try node.node(settings)
        if let server {
            var params: [Any] = [name, description]
            if let writers { params.append(writers) }
            let result = try await NIP86Call(relayURL: server).call("createrelay", params, signedBy: identity.secretKey)
            guard let created = result as? [String: Any], let key = created["key"] as? String else {
                throw CommandFailure("\(server) did not answer createrelay with a key")
            }
            print("relay \(key)")
            print("url \(created["url"] as? String ?? "")")
            return
        }
        let addresses = RelayAddresses(configured: settings.relay.info.configuredURLs)
        addresses.listening(host: settings.host, port: settings.port)
        let hosted = settings.hostedRelays(node: identity, addresses: addresses, logger: Logger(label: "martlet.relay"))
        let key = try await hosted.create(
            name: name, description: description, admission: writers.flatMap(WriterRoster.Admission.init(rawValue:)))
        await hosted.closeOffline()
        print("relay \(key)")
        print("url \(hosted.urls(of: key).first ?? "/\(key)")")
    }
}

/// `martlet relay join <key> [--via <url>]`: become a writer of a relay another node hosts,
/// and keep a replica of it here. Without `--via` the node is found in the DHT, under the
/// relay's own record (`HostedRelayRecord`), which only the relay's key can sign.
struct RelayJoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a hosted relay by its key through a node that serves it.",
        discussion: """
            Asks the node at --via to make this node (its key) a writer of the relay (NIP-86 \
            joinrelay at <via>/<key>), records the relay in <data>/relays/<key>/ with that node \
            as its upstream, and catches up with it over NIP-77. From then on `martlet serve` \
            on this data folder serves the relay at /<key> and keeps it in step with the \
            upstream both ways, reconnecting by itself (a running server picks it up within \
            seconds). Fails with one line when the key is malformed, the node does not answer, \
            does not host the relay, or refuses (or, after --wait, has not approved) the request. \
            Without --via, the node is looked up in the Mainline DHT through discovery.bootstrap \
            (the relay's record there, accepted only when signed by the relay's own key); no \
            record, or one that does not verify, is one line and a non-zero exit.
            """)

    @Argument(help: "The relay's key (64 hex characters).") var key: String
    @Option(help: "A node serving the relay (ws://host:port or wss://host); without it, found in the DHT.")
    var via: String?
    @Option(help: "Seconds to wait for a writer's approval when the relay's policy asks for one.") var wait = 0
    @Option(help: "Seconds to wait for any reply from the node.") var timeout = 30
    @OptionGroup var node: NodeOptions

    func validate() throws {
        _ = try relayKey(key)
        if let via, !(via.hasPrefix("ws://") || via.hasPrefix("wss://")) {
            throw ValidationError("--via must be a ws:// or wss:// URL, not \"\(via)\"")
        }
    }

    /// The relay's URL on the upstream node: `--via` (its root, or already the relay's) with `/<key>`.
    static func relayURL(via: String, key: HostedRelayKey) -> String {
        var base = via
        while base.hasSuffix("/") { base.removeLast() }
        if base.lowercased().hasSuffix("/" + key.hex) { return base }
        return base + "/" + key.hex
    }

    func run() async throws {
        let key = try relayKey(self.key)
        let settings = try await node.settings()
        let identity = try node.node(settings)
        let url: String
        if let via {
            url = Self.relayURL(via: via, key: key)
        } else {
            url = try await Self.lookUp(key, settings: settings)
        }
        let call = try NIP86Call(relayURL: url)
        let deadline = ContinuousClock.now + .seconds(wait)
        var answer: [String: Any] = [:]
        while true {
            let result = try await call.call("joinrelay", signedBy: identity.secretKey, timeout: Double(timeout))
            guard let object = result as? [String: Any], let status = object["status"] as? String else {
                throw CommandFailure("\(url) did not answer joinrelay with a status")
            }
            answer = object
            if status == "writer" { break }
            guard ContinuousClock.now < deadline else {
                throw CommandFailure(
                    "join request for \(key) is pending: a writer must approve node \(identity.publicKey) (NIP-86 addwriter)")
            }
            try await Task.sleep(for: .seconds(1))
        }
        let upstreamNode = (answer["node"] as? String).flatMap { PublicKey(hex: $0) }
        let admission = (answer["writers_policy"] as? String).flatMap(WriterRoster.Admission.init(rawValue:)) ?? .approval
        let folder = HostedRelayFolder(dataDirectory: settings.dataDirectory)
        var manifest =
            folder.manifest(of: key)
            ?? HostedRelayManifest(
                name: answer["name"] as? String ?? "", description: answer["description"] as? String ?? "",
                createdAt: Int64(Duration.secondsSinceEpoch), admission: admission,
                writers: [upstreamNode, identity.publicKey].compactMap { $0 })
        if !manifest.upstreams.contains(where: { RelayURL.same($0, url) }) { manifest.upstreams.append(url) }
        let addresses = RelayAddresses(configured: settings.relay.info.configuredURLs)
        addresses.listening(host: settings.host, port: settings.port)
        let hosted = settings.hostedRelays(node: identity, addresses: addresses, logger: Logger(label: "martlet.relay"))
        try hosted.adopt(key, manifest: manifest)
        let report = try await catchUp(hosted: hosted, key: key, url: url, signer: identity.secretKey)
        await hosted.closeOffline()
        print("joined \(key) via \(url) as writer \(identity.publicKey)")
        print(report)
    }

    /// The relay's URL from its record in the DHT, joined through `discovery.bootstrap` from a
    /// node of our own that lives for this one lookup.
    static func lookUp(_ key: HostedRelayKey, settings: Settings) async throws -> String {
        do {
            let found = try await HostedRelayRecord.find(relayKey: key.publicKey, configuration: settings.discovery)
            return relayURL(via: found.url, key: key)
        } catch let failure as HostedRelayRecord.Failure {
            throw CommandFailure(failure.description)
        } catch {
            throw CommandFailure("could not look relay \(key) up in the DHT: \(error)")
        }
    }

    /// The first NIP-77 catch-up with the upstream, authenticated as this node's key.
    private func catchUp(hosted: HostedRelays, key: HostedRelayKey, url: String, signer: SecretKey) async throws
        -> RelaySync.Report
    {
        guard let relay = try await hosted.open(key)?.relay else { throw HostedRelayError.unknown(key) }
        var options = RelaySync.Options()
        options.replyTimeout = .seconds(timeout)
        let sync = RelaySync(relay: relay, remote: url, options: options, logger: Logger(label: "martlet.relay"))
        let client: RelayClient
        do {
            client = try await RelayClient.connect(to: url, replyTimeout: .seconds(timeout), signer: signer)
        } catch {
            throw CommandFailure("no answer from \(url): \(error)")
        }
        guard await client.authenticated(waitingForChallenge: true) else {
            await client.close()
            throw CommandFailure("\(url) did not accept this node's NIP-42 authentication")
        }
        do {
            let report = try await relay.withIngest { try await sync.run(over: client) }
            await client.close()
            return report
        } catch {
            await client.close()
            throw CommandFailure("catching up with \(url) failed: \(error)")
        }
    }
}

/// `martlet relay writers <key>`: list, approve or remove a relay's writers.
struct RelayWriters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writers",
        abstract: "List a hosted relay's writers, approve (--add) or remove (--remove) one.",
        discussion: """
            With --via, asks the running node there (NIP-86 listwriters, addwriter, removewriter, \
            signed by this node's key, which must be one of the relay's writers or the node's \
            own). Without it, reads or changes <data>/relays/<key>/relay.json directly (for a \
            server that is not running). A removed writer's replication is refused from then on.
            """)

    @Argument(help: "The relay's key (64 hex characters).") var key: String
    @Option(help: "A node's key to make a writer (approves a pending request).") var add: String?
    @Option(help: "A writer's node key to remove.") var remove: String?
    @Option(help: "A running node serving the relay (ws://host:port).") var via: String?
    @OptionGroup var node: NodeOptions

    func validate() throws {
        _ = try relayKey(key)
        for given in [add, remove].compactMap({ $0 }) where HostedRelayKey(given) == nil {
            throw CommandFailure("\"\(given.prefix(80))\" is not a node key (64 hex characters)")
        }
    }

    func run() async throws {
        let key = try relayKey(self.key)
        let settings = try await node.settings()
        let identity = try node.node(settings)
        if let via {
            let call = try NIP86Call(relayURL: RelayJoin.relayURL(via: via, key: key))
            if let add { _ = try await call.call("addwriter", [add.lowercased()], signedBy: identity.secretKey) }
            if let remove { _ = try await call.call("removewriter", [remove.lowercased()], signedBy: identity.secretKey) }
            let rows = try await call.call("listwriters", signedBy: identity.secretKey) as? [[String: String]] ?? []
            for row in rows { print("\(row["pubkey"] ?? "")  \(row["state"] ?? "")") }
            return
        }
        let addresses = RelayAddresses(configured: [])
        let hosted = settings.hostedRelays(node: identity, addresses: addresses, logger: Logger(label: "martlet.relay"))
        guard hosted.manifest(of: key) != nil else {
            throw CommandFailure("no hosted relay \(key) in \(settings.dataDirectory)")
        }
        if let add, let node = PublicKey(hex: add.lowercased()) { try hosted.addWriter(node, to: key) }
        if let remove, let node = PublicKey(hex: remove.lowercased()) { try hosted.removeWriter(node, from: key) }
        let roster = hosted.roster(of: key)?.snapshot
        for writer in roster?.writers ?? [] { print("\(writer)  writer") }
        for pending in roster?.pending ?? [] { print("\(pending)  pending") }
        for removed in roster?.removed ?? [] { print("\(removed)  removed") }
    }
}

/// `martlet relay hosted`: the relays under the data folder.
struct RelayHosted: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosted", abstract: "List the hosted relays in the data folder: key, name, upstreams.")

    @OptionGroup var node: NodeOptions

    func run() async throws {
        let settings = try await node.settings()
        let manifests = HostedRelayFolder(dataDirectory: settings.dataDirectory).manifests()
        for (key, manifest) in manifests.sorted(by: { $0.key < $1.key }) {
            let upstreams = manifest.upstreams.isEmpty ? "" : "  via " + manifest.upstreams.joined(separator: ",")
            print("\(key)  \(manifest.name)\(upstreams)")
        }
    }
}
