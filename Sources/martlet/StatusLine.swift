import Foundation

/// Progress on stderr: on a terminal one status line rewritten in place, otherwise one line
/// per update; other lines (rejections) always get lines of their own.
final class StatusLine: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) != 0

    func update(_ text: String) {
        // Erasing the rest of the line keeps a shorter status from showing a longer one's tail.
        write(isTerminal ? "\r" + text + "\u{1B}[K" : text + "\n")
    }

    func line(_ text: String) {
        write(isTerminal ? "\r" + text + "\u{1B}[K\n" : text + "\n")
    }

    func finish() {
        if isTerminal { write("\n") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
