import ArgumentParser

/// `martlet`: the relay and its tools.
@main
struct Martlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "martlet",
        abstract: "A Nostr relay.",
        subcommands: [Serve.self, Sync.self, Import.self, Export.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}
