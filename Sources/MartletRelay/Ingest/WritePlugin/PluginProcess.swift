import Dispatch
import Foundation
import Glibc
import Synchronization

/// One running write-policy plugin: a shell command with its stdin and stdout as one-way
/// channels.
///
/// The command runs in a process group of its own, so that killing the plugin also kills
/// whatever its command started (`sh -c "node plugin.js"`, a wrapper script): otherwise a
/// grandchild would keep the stdout pipe open and the relay would never see the end of it.
/// Our ends of the pipes are close-on-exec, so no other child of the relay (the next
/// generation of this plugin included) can hold them open either.
///
/// Lines the plugin prints arrive on `onLine` from a reading thread of the process's own;
/// `onExit` follows once its stdout has ended and the process is reaped. Writes happen on
/// a serial queue of their own: a plugin that stops reading fills its pipe and blocks
/// that queue, never a task of the relay.
final class PluginProcess: Sendable {
    enum LaunchError: Error, CustomStringConvertible {
        case pipe(Int32)
        case spawn(Int32)
        var description: String {
            switch self {
            case .pipe(let code): "could not make a pipe: \(String(cString: strerror(code)))"
            case .spawn(let code): "could not start the command: \(String(cString: strerror(code)))"
            }
        }
    }

    /// The longest line accepted from the plugin; a longer one means it is not speaking
    /// the protocol, and it is stopped.
    static let maxLineLength = 65_536

    let pid: pid_t
    private let stdinWriter: Int32
    private let writes: DispatchQueue
    private let killed = Atomic<Bool>(false)
    /// Touched only on `writes`, so that stdin is closed once and never written after.
    private let inputClosed = Atomic<Bool>(false)

    private init(pid: pid_t, stdinWriter: Int32) {
        self.pid = pid
        self.stdinWriter = stdinWriter
        self.writes = DispatchQueue(label: "martlet.write-plugin.\(pid).stdin")
    }

    /// Starts `/bin/sh -c "exec <command>"`.
    static func launch(
        command: String, onLine: @escaping @Sendable ([UInt8]) -> Void, onExit: @escaping @Sendable () -> Void
    ) throws(LaunchError) -> PluginProcess {
        ignoreBrokenPipes
        let stdin = try makePipe()
        let stdout: (read: Int32, write: Int32)
        do { stdout = try makePipe() } catch {
            close(stdin.read)
            close(stdin.write)
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies the child keeps as 0 and 1.
        posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        // Nothing else of the relay's: a client's socket held open by a plugin would keep
        // that connection alive after the client and the relay had both closed it.
        closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // The relay ignores SIGPIPE; a plugin should die of it as any program does.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let words = ["/bin/sh", "-c", "exec " + command]
        var arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        arguments.append(nil)
        defer { arguments.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, environ)
        close(stdin.read)
        close(stdout.write)
        guard status == 0 else {
            close(stdin.write)
            close(stdout.read)
            throw .spawn(status)
        }
        let process = PluginProcess(pid: pid, stdinWriter: stdin.write)
        let reader = stdout.read
        let thread = Thread { process.readLines(from: reader, onLine: onLine, onExit: onExit) }
        thread.start()
        return process
    }

    /// Queues `line` (a newline is added) for the plugin's stdin. A failed write (the
    /// plugin is gone) is noticed through `onExit`, which follows when its stdout ends.
    func send(_ line: [UInt8]) {
        writes.async { [self] in
            guard !inputClosed.load(ordering: .relaxed) else { return }
            var bytes = line
            bytes.append(UInt8(ascii: "\n"))
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(stdinWriter, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Ends the plugin's input after the lines already queued: a plugin reading lines
    /// answers them, sees the end, and exits.
    func closeInput() {
        writes.async { [self] in
            if !inputClosed.exchange(true, ordering: .relaxed) { close(stdinWriter) }
        }
    }

    /// Kills the plugin and everything it started. Its reading thread then sees the end of
    /// stdout and reports the exit.
    func kill() {
        guard !killed.exchange(true, ordering: .relaxed) else { return }
        Glibc.kill(-pid, SIGKILL)
    }

    private func readLines(
        from descriptor: Int32, onLine: @Sendable ([UInt8]) -> Void, onExit: @Sendable () -> Void
    ) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var line: [UInt8] = []
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            for byte in buffer[..<count] {
                if byte == UInt8(ascii: "\n") {
                    onLine(line)
                    line.removeAll(keepingCapacity: true)
                } else if line.count < Self.maxLineLength {
                    line.append(byte)
                } else {
                    kill()
                    break reading
                }
            }
        }
        close(descriptor)
        // The write queue may still hold lines for a process that is gone; the descriptor
        // is closed after them, on that queue, so it is never reused under a pending write.
        closeInput()
        kill()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        onExit()
    }

    /// Adds a file action that closes every descriptor from 3 up in the child. glibc has
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34 and later) but Swift's Glibc module
    /// does not declare it, so it is looked up; without it, each descriptor open now is
    /// closed by name.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    /// A one-way channel whose ends are close-on-exec from birth: a socket pair, because
    /// Glibc's `pipe2` is not visible to Swift and `pipe` then `fcntl` leaves a moment in
    /// which a child spawned by another thread would inherit the ends.
    private static func makePipe() throws(LaunchError) -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &descriptors) == 0 else { throw .pipe(errno) }
        shutdown(descriptors[0], Int32(SHUT_WR))
        shutdown(descriptors[1], Int32(SHUT_RD))
        return (descriptors[0], descriptors[1])
    }

    /// A plugin that exits while the relay writes to it must end that write with an error,
    /// not end the relay.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
}
