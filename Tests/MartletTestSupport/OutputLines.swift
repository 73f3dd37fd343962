public import Foundation
import Synchronization

extension Pipe {
    /// What a child process writes into this pipe, line by line (without the newline); the
    /// stream ends when the process closes its end. Set it up before the process runs.
    ///
    /// ```swift
    /// let output = Pipe()
    /// process.standardOutput = output
    /// let lines = output.lines()
    /// try process.run()
    /// for await line in lines where line.contains("listening") { break }
    /// ```
    public func lines() -> AsyncStream<String> {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Mutex<[UInt8]>([])
        fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer += chunk
                var found: [String] = []
                while let newline = buffer.firstIndex(of: 0x0a) {
                    found.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return found
            }
            for line in complete { continuation.yield(line) }
        }
        return lines
    }
}
