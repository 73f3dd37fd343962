import Foundation

/// The lines of a file (or of standard input for `-`) as byte arrays, read in large chunks
/// so that a file of millions of events is never held in memory at once.
///
/// A line longer than `maxLineLength` is not read whole either: only its first
/// `maxLineLength + 1` bytes are kept, enough for the reader of the line to see that it is
/// too long, and the rest is skipped up to the next line break. So memory stays within one
/// chunk plus one line, however long a line of the file is.
///
/// ```swift
/// for line in LineReader(path: "events.jsonl", maxLineLength: 524_288)! {
///     if line.count > 524_288 { /* refuse it */ } else { handle(line) }
/// }
/// ```
public struct LineReader: Sequence, IteratorProtocol {
    private let handle: FileHandle
    private let maxLineLength: Int
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// How far `buffer` is known to hold no line break, from `start`.
    private var scanned = 0
    private var atEnd = false

    public init?(path: String, maxLineLength: Int = .max, chunkSize: Int = 1 << 20) {
        if path == "-" {
            handle = .standardInput
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            self.handle = handle
        }
        self.maxLineLength = Swift.max(0, maxLineLength)
        self.chunkSize = Swift.max(1, chunkSize)
    }

    public mutating func next() -> [UInt8]? {
        // The kept head of a line too long to hold, while its tail is skipped.
        var overlong: [UInt8]?
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0a) {
                defer { start = newline + 1; scanned = start }
                return overlong ?? clipped(buffer[start..<newline])
            }
            if atEnd {
                guard start < buffer.count || overlong != nil else { return nil }
                defer { start = buffer.count; scanned = start }
                return overlong ?? clipped(buffer[start...])
            }
            if overlong == nil && buffer.count - start > maxLineLength {
                overlong = clipped(buffer[start...])
            }
            if overlong != nil { start = buffer.count }
            buffer.removeFirst(start)
            start = 0
            scanned = buffer.count
            let chunk = handle.readData(ofLength: chunkSize)
            if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private func clipped(_ line: ArraySlice<UInt8>) -> [UInt8] {
        line.count > maxLineLength ? Array(line.prefix(maxLineLength + 1)) : Array(line)
    }
}
