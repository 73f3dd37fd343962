import ArgumentParser
import MartletServer

/// `martlet`: the relay and its tools.
@main
struct Martlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "martlet",
        abstract: "A Nostr relay.",
        // The same string NIP-11's `version` serves.
        version: RelayInformationDocument.version,
        subcommands: [
            Serve.self, Sync.self, Fetch.self, Import.self, Export.self, Backup.self, Compact.self, Delete.self,
            Bench.self, ConfigCommand.self, Admin.self, GroupsCommand.self,
            RelayCommand.self, ListEvents.self, GetEvent.self, QueryEvents.self,
        ],
        defaultSubcommand: Serve.self
    )
}
