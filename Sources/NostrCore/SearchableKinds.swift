/// Which kinds NIP-50 search indexes (`search.kinds`): every kind whose content is not
/// ciphertext, or only the operator's list (never the ciphertext kinds). Both stores index
/// by it and live subscriptions match by it, so a search finds live what it finds stored.
///
/// ```swift
/// let kinds = SearchableKinds(only: [1, 30023])
/// kinds.contains(1)      // true
/// kinds.contains(7)      // false: a reaction's "+" is not worth an index entry
/// SearchableKinds.all.contains(1059)   // false: a gift wrap's content is ciphertext
/// ```
public struct SearchableKinds: Hashable, Sendable, CustomStringConvertible {
    /// The kinds indexed, or nil for every kind but `SearchQuery.unindexedKinds`.
    public let only: Set<Kind>?

    /// Every kind whose content is not ciphertext: the default.
    public static let all = SearchableKinds(only: nil)

    public init(only: Set<Kind>?) {
        self.only = only?.subtracting(SearchQuery.unindexedKinds)
    }

    public func contains(_ kind: Kind) -> Bool {
        !SearchQuery.unindexedKinds.contains(kind) && (only?.contains(kind) ?? true)
    }

    /// The same rule as an SQL condition on `column`, which holds an integer kind; the
    /// same text for SQLite and PostgreSQL (integer literals only).
    public func sqlCondition(_ column: String) -> String {
        guard let only else {
            return "\(column) NOT IN (\(Self.list(SearchQuery.unindexedKinds)))"
        }
        return only.isEmpty ? "1 = 0" : "\(column) IN (\(Self.list(only)))"
    }

    /// `all`, or the kinds in ascending order: what a store records of the rule its index
    /// was built by, to rebuild it when the rule changes.
    public var description: String {
        only.map { Self.list($0) } ?? "all"
    }

    /// The rule `description` spells: "all", or kinds separated by commas.
    public init(recorded: String) {
        guard recorded != "all" else {
            self = .all
            return
        }
        let kinds = recorded.split(separator: ",").compactMap { UInt16($0.filter { $0 != " " }) }
        self.init(only: Set(kinds.map { Kind(rawValue: $0) }))
    }

    private static func list(_ kinds: Set<Kind>) -> String {
        kinds.map(\.rawValue).sorted().map(String.init).joined(separator: ", ")
    }
}
