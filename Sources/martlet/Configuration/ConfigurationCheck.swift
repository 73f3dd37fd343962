import Foundation
import Yams

/// Holds a configuration file and the environment against `SettingKey.all` before anything
/// starts, so that a typo or a value out of range stops the relay with one line naming the
/// key and where it was written, instead of a relay that silently runs on a default.
///
/// ```swift
/// let check = try ConfigurationCheck(file: "martlet.yaml", environment: ProcessInfo.processInfo.environment)
/// for problem in check.problems { print(problem) } // martlet.yaml:3: limits.max_subscriptons: unknown key ...
/// ```
struct ConfigurationCheck {
    /// Where a value came from.
    enum Source: Equatable, CustomStringConvertible {
        case file(path: String, line: Int)
        case environment(String)
        case flag(String)
        case defaultValue

        var description: String {
            switch self {
            case .file(let path, let line): "\(path):\(line)"
            case .environment(let name): name
            case .flag(let name): name
            case .defaultValue: "default"
            }
        }
    }

    /// One thing wrong, printed as `<source>: <key>: <what>`.
    struct Problem: CustomStringConvertible {
        var source: Source
        var key: String
        var message: String
        var description: String { "\(source): \(key): \(message)" }
    }

    private(set) var problems: [Problem] = []
    /// `MARTLET_` variables that name no key and look like no key either: other tools' own.
    private(set) var ignoredVariables: [String] = []
    /// Where each key set anywhere was set; the environment wins over the file.
    private(set) var sources: [String: Source] = [:]

    /// - Parameters:
    ///   - file: the YAML file, or nil for `./martlet.yaml` when present.
    ///   - environment: the process environment.
    init(file: String?, environment: [String: String]) throws {
        let path = file ?? "martlet.yaml"
        if file != nil || FileManager.default.fileExists(atPath: path) {
            try checkFile(at: path)
        }
        checkEnvironment(environment)
    }

    // MARK: The file

    private mutating func checkFile(at path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError("cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw SettingsError("\(path) is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard case .mapping(let mapping) = root else {
            problems.append(Problem(source: .file(path: path, line: line(of: root)), key: "(top)", message: "the file must be a mapping of sections"))
            return
        }
        walk(mapping, prefix: "", path: path)
    }

    private mutating func walk(_ mapping: Node.Mapping, prefix: String, path: String) {
        for (keyNode, value) in mapping {
            let name = prefix + (keyNode.string ?? "\(keyNode)")
            let source = Source.file(path: path, line: line(of: keyNode))
            if case .mapping(let section) = value, SettingKey.named(name) == nil, isSectionPrefix(name) {
                walk(section, prefix: name + ".", path: path)
                continue
            }
            guard let key = SettingKey.named(name) else {
                problems.append(Problem(source: source, key: name, message: unknown(name)))
                continue
            }
            sources[name] = source
            if let problem = key.shape.problem(with: raw(value)) {
                problems.append(Problem(source: source, key: name, message: problem))
            }
        }
    }

    private func raw(_ node: Node) -> RawValue {
        switch node {
        case .scalar(let scalar): .scalar(scalar.string)
        case .sequence(let sequence): .list(sequence.map { $0.string ?? "\($0)" })
        case .mapping: .section
        case .alias: .scalar("\(node)")
        }
    }

    private func line(of node: Node) -> Int { (node.mark?.line ?? 0) }

    // MARK: The environment

    private mutating func checkEnvironment(_ environment: [String: String]) {
        let byVariable = Dictionary(uniqueKeysWithValues: SettingKey.all.map { ($0.environmentName, $0) })
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix("MARTLET_") {
            guard let key = byVariable[variable] else {
                // Other tools (and the test suite) keep MARTLET_ variables of their own; only a
                // near miss of a real key is a mistake worth stopping for.
                let nearest = SettingKey.all.min {
                    EditDistance.between($0.environmentName, variable) < EditDistance.between($1.environmentName, variable)
                }
                if let nearest, EditDistance.between(nearest.environmentName, variable) <= 2 {
                    problems.append(
                        Problem(
                            source: .environment(variable), key: variable,
                            message: "not a setting; did you mean \(nearest.environmentName) (\(nearest.name))?"))
                } else {
                    ignoredVariables.append(variable)
                }
                continue
            }
            sources[key.name] = .environment(variable)
            if let problem = key.shape.problem(with: .scalar(value)) {
                problems.append(Problem(source: .environment(variable), key: key.name, message: problem))
            }
        }
    }

    // MARK: Names

    private func isSectionPrefix(_ name: String) -> Bool {
        SettingKey.all.contains { $0.name.hasPrefix(name + ".") }
    }

    private func unknown(_ name: String) -> String {
        if let nearest = SettingKey.nearest(to: name) { return "unknown key; did you mean \(nearest.name)?" }
        return "unknown key"
    }
}
