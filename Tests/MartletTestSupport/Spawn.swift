public import Foundation
import Synchronization

/// Starts `process` while no other test is starting one. Under `make test`'s parallel run,
/// Foundation's `Process.run()` crashed once in its own copying (a bad read in memmove)
/// while other tests started children at the same moment; starts are rare and quick, so
/// one at a time costs nothing.
///
/// ```swift
/// try spawn(process)
/// ```
public func spawn(_ process: Process) throws {
    try starting.withLock { _ in try process.run() }
}

private let starting = Mutex(())
