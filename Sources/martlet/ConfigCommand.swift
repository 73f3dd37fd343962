import ArgumentParser
import Foundation

/// `martlet config check` and `martlet config show`: the configuration as `serve` would
/// read it, without starting anything.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check or show the configuration (file, environment, defaults).",
        subcommands: [Check.self, Show.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check martlet.yaml and the MARTLET_ environment variables; exit non-zero on any problem.")

        @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

        func run() async throws {
            _ = try await Settings.load(file: config)
            print("configuration OK (\(config ?? "martlet.yaml and the environment"))")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every setting in force and where it came from.")

        @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

        func run() async throws {
            let settings = try await Settings.load(file: config)
            let check = try ConfigurationCheck(file: config, environment: ProcessInfo.processInfo.environment)
            let width = SettingKey.all.map(\.name.count).max() ?? 0
            for key in SettingKey.all {
                let source = check.sources[key.name] ?? .defaultValue
                let name = key.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let value = key.show(settings)
                print("\(name)  \(value.isEmpty ? "(unset)" : value)  (\(source))")
            }
        }
    }
}
