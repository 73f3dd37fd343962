import HummingbirdWebSocket
import Logging
import MartletRelay
import NostrCore
import NIOCore
import NIOWebSocket

/// Carries one WebSocket between the network and a `RelaySession`: one task reads
/// messages into the session, another writes the session's outbox to the socket.
///
/// Text frames are assembled into byte arrays without going through `String`: the relay's
/// decoder checks UTF-8 itself and answers invalid input with a reason.
struct WebSocketConnection {
    let session: RelaySession
    /// The upgraded channel, written to directly so that a batch of frames costs one
    /// event-loop hop and one flush (see `writeBatch`).
    let channel: any Channel
    let maxMessageLength: Int
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        // One line when a connection opens and one when it closes, with why; nothing per message.
        let remote = session.remoteAddress ?? "unknown"
        logger.info("connection opened", metadata: ["session": "\(session.id)", "remote": "\(remote)"])
        let reason = await withTaskGroup(of: String?.self) { group -> String in
            group.addTask { await writeOutbox(to: outbound) }
            let closedBy = await readMessages(from: inbound)
            session.close()
            let writerReason = await group.next() ?? nil
            return writerReason ?? closedBy
        }
        logger.info(
            "connection closed", metadata: ["session": "\(session.id)", "remote": "\(remote)", "reason": "\(reason)"])
    }

    /// Feeds every message to the session; returns why reading stopped.
    private func readMessages(from inbound: WebSocketInboundStream) async -> String {
        var message = [UInt8]()
        var oversized = false
        do {
            for try await frame in inbound {
                if frame.opcode != .continuation {
                    message.removeAll(keepingCapacity: message.capacity <= 64 * 1024)
                    oversized = false
                }
                if !oversized {
                    if message.count + frame.data.readableBytes > maxMessageLength {
                        oversized = true
                        message.removeAll()
                    } else {
                        message.append(contentsOf: frame.data.readableBytesView)
                    }
                }
                guard frame.fin else { continue }
                if oversized {
                    session.outbox.send(.notice("invalid: message is larger than \(maxMessageLength) bytes"))
                    continue
                }
                await session.receive(message)
                if session.outbox.ending != nil { return "outbox ended" }
            }
            return "client closed"
        } catch {
            return "read error: \(error)"
        }
    }

    /// Writes queued frames until the outbox ends; returns a reason when the connection
    /// must be closed from this side.
    private func writeOutbox(to outbound: WebSocketOutboundWriter) async -> String? {
        while let frames = await session.outbox.nextBatch() {
            do {
                try await writeBatch(frames)
            } catch {
                session.close()
                return "write error: \(error)"
            }
        }
        if session.outbox.ending == .overflow {
            let notice = RelayMessage.notice("error: connection closed because it could not keep up with its events")
            try? await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: notice.encoded()))))
            try? await outbound.close(.policyViolation, reason: "slow consumer")
            return "slow consumer"
        }
        return nil
    }

    /// Writes a batch of text frames with one hop to the event loop and one flush, then
    /// waits until the batch has reached the socket. Measured on the duplicates bench, a
    /// write-and-flush per frame through the WebSocket writer spent most of the relay's time
    /// in event-loop hops and `write` system calls; one flush per batch lets the kernel take
    /// a window of replies in one `writev`. Waiting for the batch is the back-pressure: at
    /// most one batch is in NIO's buffers, the rest waits in the bounded outbox.
    private func writeBatch(_ frames: [[UInt8]]) async throws {
        let channel = self.channel
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for (index, frame) in frames.enumerated() {
                var data = channel.allocator.buffer(capacity: frame.count)
                data.writeBytes(frame)
                let webSocketFrame = WebSocketFrame(fin: true, opcode: .text, data: data)
                channel.write(webSocketFrame, promise: index == frames.count - 1 ? written : nil)
            }
            channel.flush()
        }
        try await written.futureResult.get()
    }
}
