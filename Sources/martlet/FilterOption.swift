import ArgumentParser
import NostrCore

/// A `--filter` option read as a NIP-01 filter; a bad one is a usage error naming the reason.
func filterOption(_ text: String) throws -> Filter {
    do {
        return try Filter.decode(json: Array(text.utf8))
    } catch {
        throw ValidationError("--filter is not a NIP-01 filter: \(error.reason)")
    }
}
