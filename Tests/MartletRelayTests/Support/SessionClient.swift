import MartletRelay
import MartletTestSupport

/// One client of a `SessionRelay`: what it sends goes to `RelaySession.receive`, what it
/// reads is what the session queued in its outbox, in order, as the server would write it.
///
/// ```swift
/// let client = relay.connect()
/// let (accepted, message) = try await client.publishAndWait(event)
/// await client.close()
/// ```
final class SessionClient: RelayConversation {
    let session: RelaySession
    private let messages = MessageBox()
    private let draining: Task<Void, Never>

    init(session: RelaySession) {
        self.session = session
        let outbox = session.outbox
        let messages = self.messages
        // The outbox wakes its consumer only after `take` answered `.idle`; the newest wake-up
        // is enough, as each one means "take until idle".
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        outbox.onReady { wake.yield() }
        draining = Task {
            drain: for await _ in wakeUps {
                while true {
                    switch outbox.take() {
                    case .frames(let frames):
                        for frame in frames { await messages.push(Self.text(of: frame)) }
                    case .idle:
                        continue drain
                    case .ended:
                        break drain
                    }
                }
            }
            await messages.close()
        }
    }

    /// The message a frame writes, as the connection's writers write it.
    private static func text(of frame: OutboundFrame) -> String {
        var bytes: [UInt8] = []
        frame.forEachPiece { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    func send(_ text: String) async throws {
        await session.receive(Array(text.utf8))
    }

    func send(bytes: [UInt8]) async throws {
        await session.receive(bytes)
    }

    func next(timeout: Duration) async throws -> ReceivedMessage {
        try await messages.next(timeout: timeout)
    }

    /// Ends the session, as a closed connection does, and waits until its outbox is drained.
    func close() async {
        session.close()
        await draining.value
    }
}
