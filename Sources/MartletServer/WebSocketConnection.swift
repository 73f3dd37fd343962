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
                for frame in frames {
                    let data = ByteBuffer(bytes: frame)
                    try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: data)))
                }
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
}
