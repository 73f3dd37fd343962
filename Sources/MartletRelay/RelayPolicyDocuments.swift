/// NIP-11's pay-to-relay fee schedule, as the operator gives it and the document serves it.
///
/// ```swift
/// let fees = RelayFees(admission: [RelayFee(amount: 1_000_000, unit: "msats")])
/// ```
public struct RelayFees: Sendable, Equatable, Codable {
    public var admission: [RelayFee]?
    public var subscription: [RelayFee]?
    public var publication: [RelayFee]?

    public init(admission: [RelayFee]? = nil, subscription: [RelayFee]? = nil, publication: [RelayFee]? = nil) {
        self.admission = admission
        self.subscription = subscription
        self.publication = publication
    }
}

/// One fee: an amount in a unit, for a period (subscriptions) or for some kinds (publication).
///
/// ```swift
/// RelayFee(amount: 5_000_000, unit: "msats", period: 2_592_000)
/// ```
public struct RelayFee: Sendable, Equatable, Codable {
    public var amount: Int
    public var unit: String
    /// Seconds one payment lasts.
    public var period: Int?
    /// The kinds a publication fee applies to.
    public var kinds: [Int]?

    public init(amount: Int, unit: String, period: Int? = nil, kinds: [Int]? = nil) {
        self.amount = amount
        self.unit = unit
        self.period = period
        self.kinds = kinds
    }
}

/// One retention rule of NIP-11's `retention` list: how long (`time`, seconds; nil for
/// forever) or how many (`count`) events of some kinds (all when `kinds` is nil) the relay keeps.
///
/// ```swift
/// RetentionRule(kinds: [.kind(1), .range(40, 49)], time: 3600)   // {"kinds":[1,[40,49]],"time":3600}
/// ```
public struct RetentionRule: Sendable, Equatable, Codable {
    public var kinds: [KindSelector]?
    public var time: Int?
    public var count: Int?

    public init(kinds: [KindSelector]? = nil, time: Int? = nil, count: Int? = nil) {
        self.kinds = kinds
        self.time = time
        self.count = count
    }

    /// A kind, or an inclusive range of kinds written `[first, last]`.
    public enum KindSelector: Sendable, Equatable, Codable {
        case kind(Int)
        case range(Int, Int)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let kind = try? container.decode(Int.self) {
                self = .kind(kind)
                return
            }
            let bounds = try container.decode([Int].self)
            guard bounds.count == 2, bounds[0] <= bounds[1] else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "a range of kinds is [first, last] with first <= last")
            }
            self = .range(bounds[0], bounds[1])
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .kind(let kind): try container.encode(kind)
            case .range(let first, let last): try container.encode([first, last])
            }
        }
    }
}
