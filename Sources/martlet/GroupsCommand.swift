import ArgumentParser

/// `martlet groups list|create|delete`: the operator's NIP-29 groups, through the relay's
/// NIP-86 API (Martlet's `listgroups`, `creategroup`, `deletegroup`), so that the running
/// relay applies the change, publishes the group's state and tells the other nodes.
///
/// ```sh
/// martlet groups create pizza <owner-hex> "Pizza Lovers" --url wss://relay.example.com --key env:ADMIN_NSEC
/// ```
struct GroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List, create and delete a relay's NIP-29 groups (through its NIP-86 API, as an admin).",
        discussion: "list; create <id> <owner pubkey hex> [name]; delete <id>.")

    @Argument(help: "list, create or delete.") var action: String
    @Argument(help: "The action's parameters.") var params: [String] = []
    @Option(help: "The relay (wss://, ws://, https:// or http://).") var url: String
    @Option(help: "The admin's secret key, as for `martlet admin` (default: MARTLET_ADMIN_KEY).") var key: String?
    @Flag(help: "Print the relay's JSON answer as it came.") var json = false

    private static let methods = ["list": "listgroups", "create": "creategroup", "delete": "deletegroup"]

    func validate() throws {
        guard Self.methods[action] != nil else { throw ValidationError("the action is list, create or delete, not \"\(action)\"") }
    }

    func run() async throws {
        var arguments = [Self.methods[action]!] + params + ["--url", url]
        if let key { arguments += ["--key", key] }
        if json { arguments.append("--json") }
        let call = try Admin.parse(arguments)
        try await call.run()
    }
}
