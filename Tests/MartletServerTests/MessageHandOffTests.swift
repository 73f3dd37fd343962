@testable import MartletServer
import NIOCore
import NIOPosix
import Testing

/// What the reading loop decides per message without decoding it: which messages stay in
/// the connection's task (`JSONMessageHead`), how frames become messages
/// (`MessageAssembly`), and where the tasks run (`EventLoopTaskExecutor`); the real
/// server's behaviour is in `WebSocketFramingTests`.
@Suite("Message hand-off in the reading loop")
struct MessageHandOffTests {
    @Test("an EVENT is told from the other verbs by its opening bytes, whitespace allowed")
    func eventHead() {
        #expect(JSONMessageHead.isEvent(Array(#"["EVENT",{"id":"00"}]"#.utf8)))
        #expect(JSONMessageHead.isEvent(Array(" \n[\t \"EVENT\" ,{}]".utf8)))
        for other in [#"["REQ","s",{}]"#, #"["COUNT","s",{}]"#, #"["CLOSE","s"]"#, #"["AUTH",{}]"#, #"["EVENTS",{}]"#] {
            #expect(!JSONMessageHead.isEvent(Array(other.utf8)), "\(other)")
        }
        for malformed in ["", "[", #"{"EVENT":1}"#, #""EVENT""#, "[EVENT]", #"["EVEN"#] {
            #expect(!JSONMessageHead.isEvent(Array(malformed.utf8)), "\(malformed)")
        }
    }

    @Test("fragments make one message at the final frame; the next message starts afresh")
    func fragmentsAssemble() {
        var assembly = MessageAssembly(readLimit: 100)
        #expect(assembly.add(continuing: false, payload: ByteBuffer(string: #"["REQ","#), fin: false) == .partial)
        #expect(
            assembly.add(continuing: true, payload: ByteBuffer(string: #""s",{}]"#), fin: true)
                == .complete(Array(#"["REQ","s",{}]"#.utf8)))
        #expect(assembly.add(continuing: false, payload: ByteBuffer(string: "[]"), fin: true) == .complete(Array("[]".utf8)))
    }

    @Test("a message past the read limit is reported once, at its final frame, and the next one is read afresh")
    func oversized() {
        var assembly = MessageAssembly(readLimit: 8)
        #expect(assembly.add(continuing: false, payload: ByteBuffer(string: "12345"), fin: false) == .partial)
        #expect(assembly.add(continuing: true, payload: ByteBuffer(string: "67890"), fin: false) == .partial)
        #expect(assembly.add(continuing: true, payload: ByteBuffer(string: "1"), fin: true) == .oversized)
        #expect(
            assembly.add(continuing: false, payload: ByteBuffer(string: "12345678"), fin: true)
                == .complete(Array("12345678".utf8)))
    }

    @Test("broken fragmentation is reported with the reason the close carries")
    func brokenFragmentation() {
        var orphan = MessageAssembly(readLimit: 100)
        #expect(
            orphan.add(continuing: true, payload: ByteBuffer(string: "x"), fin: true)
                == .broken("continuation frame without a message to continue"))
        var interrupted = MessageAssembly(readLimit: 100)
        #expect(interrupted.add(continuing: false, payload: ByteBuffer(string: "x"), fin: false) == .partial)
        #expect(
            interrupted.add(continuing: false, payload: ByteBuffer(string: "y"), fin: true)
                == .broken("new message before the previous one ended"))
    }

    @Test("a task that prefers a connection's event loop runs on that loop, before and after it suspends")
    func tasksRunOnTheEventLoop() async throws {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = loops.next()
        let executor = EventLoopTaskExecutor(loop)
        let reading = await Task(executorPreference: executor) { () async -> [Bool] in
            let atStart = loop.inEventLoop
            await Task.yield()
            let afterYielding = loop.inEventLoop
            // Off to an actor on the cooperative pool and back, as a REQ waits for a reader.
            _ = await Elsewhere().identity(1)
            // The message's own task, as `receiveInTaskOfItsOwn` starts it.
            let message = await Task.immediate(executorPreference: executor) { () async -> Bool in
                await Task.yield()
                return loop.inEventLoop
            }.value
            return [atStart, afterYielding, loop.inEventLoop, message]
        }.value
        try await loops.shutdownGracefully()
        #expect(reading == [true, true, true, true])
    }
}

/// An actor of its own, so that calling it leaves the event loop.
private actor Elsewhere {
    func identity(_ value: Int) -> Int { value }
}
