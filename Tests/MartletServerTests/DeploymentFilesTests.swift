import Foundation
import MartletTestSupport
import Testing

/// The files in contrib/ and the Dockerfile: checked by the tools that will read them.
@Suite("Deployment files")
struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("the systemd unit passes systemd-analyze verify and keeps its hardening")
    func systemdUnit() async throws {
        let unit = try Self.text("contrib/martlet.service")
        for directive in [
            "User=martlet", "ProtectSystem=strict", "ReadWritePaths=/var/lib/martlet", "NoNewPrivileges=yes",
            "LimitNOFILE=", "ExecReload=/bin/kill -HUP $MAINPID",
        ] {
            #expect(unit.contains(directive), "\(directive)")
        }
        // verify needs the ExecStart binary to exist: the one this build made stands in
        // for /usr/local/bin/martlet.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("martlet.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/martlet", with: RelayProcess.binary.path)
            .write(to: file, atomically: true, encoding: .utf8)

        let run = try await runProgram("/usr/bin/systemd-analyze", ["verify", "--man=no", file.path])
        #expect(run.status == 0, "\(run.output)")
        // systemd-analyze exits 0 on an unknown or misspelt directive, and only says so.
        #expect(run.output.isEmpty, "systemd-analyze had something to say: \(run.output)")
    }

    @Test("the example configuration passes martlet config check")
    func exampleConfiguration() async throws {
        let run = try await MartletCommand.run(["config", "check", "--config", Self.root.appendingPathComponent("contrib/martlet.yaml").path])
        #expect(run.status == 0, "\(run.output)\(run.errors)")
    }

    @Test("the Dockerfile builds as the Makefile does, on Swift 6.3, into Debian slim with libsecp256k1")
    func dockerfile() throws {
        let dockerfile = try Self.text("Dockerfile")
        let makefile = try Self.text("Makefile")
        // `make run`'s build line, word for word.
        let build = "swift build -c release --product martlet"
        #expect(makefile.contains("$(SWIFT) build -c release --product martlet"))
        #expect(dockerfile.contains(build))
        #expect(dockerfile.contains("FROM swift:6.3"))
        #expect(dockerfile.contains("libsecp256k1-dev"), "the build stage installs what `make deps` does")
        #expect(dockerfile.contains("FROM debian:bookworm-slim"))
        #expect(dockerfile.contains("libsecp256k1-1"), "the runtime has the library the binary links")
        #expect(dockerfile.contains("USER martlet"))
    }
}
