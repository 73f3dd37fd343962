import MartletTestSupport
import NIOCore
import NIOPosix
import NIOWebSocket

/// A TCP connection to the relay driven byte by byte, for what well-behaved clients never
/// do: requests cut short, idle sockets, hand-built WebSocket frames (stray continuations,
/// oversized fragments), pings answered only sometimes. Pings are answered on the event loop
/// the moment they arrive, so whether one is answered never depends on test scheduling.
///
/// ```swift
/// let idle = try await RawConnection.open(port: relay.port)                 // plain TCP
/// let socket = try await RawConnection.webSocket(port: relay.port) { ping in ping % 2 == 1 }
/// try await socket.sendFrame(opcode: .text, payload: Array(#"["REQ","s",{}]"#.utf8))
/// let eose = try await socket.nextFrame()
/// ```
final class RawConnection: Sendable {
    /// A frame from the relay.
    struct Frame: Sendable {
        let fin: Bool
        let opcode: WebSocketOpcode
        let payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        /// The status code of a close frame.
        var closeCode: Int? {
            opcode == .connectionClose && payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil
        }
    }

    struct State {
        var received: [UInt8] = []
        var upgraded = false
        var frames: [Frame] = []
        var pings = 0
        var closed = false
    }

    private let channel: any Channel
    private let state: Locked<State>
    /// A thread of their own for raw clients: a pong is never queued behind the work of the
    /// relays that share the default group in this process.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private init(channel: any Channel, state: Locked<State>) {
        self.channel = channel
        self.state = state
    }

    /// Bytes received (before the upgrade: the HTTP response).
    var receivedText: String { String(decoding: state.value.received, as: UTF8.self) }
    var frames: [Frame] { state.value.frames }
    var pingsReceived: Int { state.value.pings }
    var isUpgraded: Bool { state.value.upgraded }
    /// Whether the relay has closed the connection (or it was closed here).
    var isClosed: Bool { state.value.closed }

    /// Connects and sends `initial`, then only listens.
    static func open(port: Int, sending initial: String = "") async throws -> RawConnection {
        try await open(port: port, sending: initial, expectUpgrade: false, answerPing: { _ in false })
    }

    /// Connects and performs the WebSocket handshake, naming `host` (an attacker's choice
    /// when a test says so) and sending `headers` besides; the relay's `ping` number n (from
    /// 1) is answered when `answerPing(n)`. Waits until the upgrade completes.
    static func webSocket(
        port: Int, host: String? = nil, headers: [(String, String)] = [],
        answerPing: @escaping @Sendable (Int) -> Bool = { _ in true }
    ) async throws -> RawConnection {
        let handshake =
            "GET / HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        let connection = try await open(port: port, sending: handshake, expectUpgrade: true, answerPing: answerPing)
        await waitUntil(timeout: .seconds(30)) { connection.isUpgraded || connection.isClosed }
        guard connection.isUpgraded else { throw TestFailure("upgrade refused: \(connection.receivedText)") }
        return connection
    }

    private static func open(
        port: Int, sending initial: String, expectUpgrade: Bool, answerPing: @escaping @Sendable (Int) -> Bool
    ) async throws -> RawConnection {
        let state = Locked(State())
        let channel = try await ClientBootstrap(group: Self.group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Reader(state: state, expectUpgrade: expectUpgrade, answerPing: answerPing))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        // A refused connection may be closed before this is written; that is for the test to see.
        if !initial.isEmpty { try? await channel.writeAndFlush(ByteBuffer(string: initial)).get() }
        return RawConnection(channel: channel, state: state)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends one masked frame (clients must mask, RFC 6455 §5.3).
    func sendFrame(opcode: WebSocketOpcode, fin: Bool = true, payload: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: Self.maskedFrame(opcode: opcode, fin: fin, payload: payload))).get()
    }

    /// The first frame from `index` on (0: the first received) that is not a ping; waits for it.
    func nextFrame(from index: Int = 0, timeout: Duration = .seconds(30)) async throws -> (frame: Frame, index: Int) {
        var found: (Frame, Int)?
        await waitUntil(timeout: timeout) {
            let frames = frames
            if let position = frames.indices.first(where: { $0 >= index && frames[$0].opcode != .ping }) {
                found = (frames[position], position)
            }
            return found != nil || isClosed
        }
        guard let found else { throw isClosed ? ConnectionClosed() : TimedOut() }
        return found
    }

    func close() async {
        try? await channel.close().get()
    }

    static func maskedFrame(opcode: WebSocketOpcode, fin: Bool, payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | UInt8(webSocketOpcode: opcode)]
        switch payload.count {
        case ..<126: frame.append(0x80 | UInt8(payload.count))
        case ..<65536: frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default: frame += [0x80 | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        let mask: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    /// Collects what the relay sends, splits it into frames after the upgrade, answers pings.
    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let state: Locked<State>
        let expectUpgrade: Bool
        let answerPing: @Sendable (Int) -> Bool
        private var pending: [UInt8] = []
        private var upgraded = false

        init(state: Locked<State>, expectUpgrade: Bool, answerPing: @escaping @Sendable (Int) -> Bool) {
            self.state = state
            self.expectUpgrade = expectUpgrade
            self.answerPing = answerPing
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            guard expectUpgrade else {
                state.withLock { $0.received += bytes }
                return
            }
            pending += bytes
            if !upgraded {
                guard let end = headEnd(pending) else { return }
                let head = Array(pending[..<end])
                pending.removeFirst(end)
                upgraded = String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101")
                state.withLock {
                    $0.received += head
                    $0.upgraded = upgraded
                }
                guard upgraded else { return }
            }
            for frame in takeFrames() {
                var pingNumber: Int?
                state.withLock { state in
                    state.frames.append(frame)
                    if frame.opcode == .ping {
                        state.pings += 1
                        pingNumber = state.pings
                    }
                }
                if let pingNumber, answerPing(pingNumber) {
                    let pong = RawConnection.maskedFrame(opcode: .pong, fin: true, payload: frame.payload)
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: pong)), promise: nil)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        private func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for index in 3..<bytes.count
            where bytes[index - 3] == 0x0d && bytes[index - 2] == 0x0a && bytes[index - 1] == 0x0d && bytes[index] == 0x0a {
                return index + 1
            }
            return nil
        }

        /// Complete frames at the front of `pending` (the relay does not mask).
        private func takeFrames() -> [Frame] {
            var frames: [Frame] = []
            var offset = 0
            while pending.count - offset >= 2 {
                let first = pending[offset]
                let second = pending[offset + 1]
                var length = Int(second & 0x7f)
                var header = 2
                if length == 126 {
                    guard pending.count - offset >= 4 else { break }
                    length = Int(pending[offset + 2]) << 8 | Int(pending[offset + 3])
                    header = 4
                } else if length == 127 {
                    guard pending.count - offset >= 10 else { break }
                    length = (2..<10).reduce(0) { $0 << 8 | Int(pending[offset + $1]) }
                    header = 10
                }
                guard pending.count - offset >= header + length else { break }
                let payload = Array(pending[(offset + header)..<(offset + header + length)])
                frames.append(
                    Frame(fin: first & 0x80 != 0, opcode: WebSocketOpcode(encodedWebSocketOpcode: first & 0x0f)!, payload: payload))
                offset += header + length
            }
            pending.removeFirst(offset)
            return frames
        }
    }
}
