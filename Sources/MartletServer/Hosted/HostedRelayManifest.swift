import Foundation
public import MartletRelay
public import NostrCore

/// What a node keeps about one hosted relay besides its events, in
/// `<data>/relays/<key>/relay.json`: its NIP-11 name and description, who may replicate it
/// (`WriterRoster`), and the members this node joined it through (`upstreams`), which
/// `martlet serve` keeps in step with like mesh peers.
///
/// Small on purpose: `martlet serve` reads every manifest at start and keeps them, and
/// opens a relay's store only when the relay is first used.
public struct HostedRelayManifest: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    /// When the relay was created (its creation event's `created_at`).
    public var createdAt: Int64
    public var admission: WriterRoster.Admission
    /// Node keys, hex.
    public var writers: [String]
    public var pending: [String]
    public var removed: [String]
    /// Relay URLs of this relay on other nodes (`ws://host:port/<key>`) this node replicates with.
    public var upstreams: [String]

    enum CodingKeys: String, CodingKey {
        case name, description, writers, pending, removed, upstreams
        case createdAt = "created_at"
        case admission = "writers_policy"
    }

    public init(
        name: String, description: String, createdAt: Int64, admission: WriterRoster.Admission, writers: [PublicKey],
        upstreams: [String] = []
    ) {
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.admission = admission
        self.writers = writers.map(\.hex)
        self.pending = []
        self.removed = []
        self.upstreams = upstreams
    }

    /// The roster's part, as the running relay holds it.
    public var roster: WriterRoster.Snapshot {
        func keys(_ list: [String]) -> [PublicKey] { list.compactMap { PublicKey(hex: $0) } }
        return WriterRoster.Snapshot(
            admission: admission, writers: keys(writers), pending: keys(pending), removed: keys(removed))
    }

    public mutating func take(_ roster: WriterRoster.Snapshot) {
        admission = roster.admission
        writers = roster.writers.map(\.hex)
        pending = roster.pending.map(\.hex)
        removed = roster.removed.map(\.hex)
    }
}
