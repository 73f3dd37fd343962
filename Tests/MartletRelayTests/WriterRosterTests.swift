import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// A hosted relay's writers (issue 18): who joins at once, who waits, who is refused, and
/// that a removed writer's authenticated connection may neither write nor read.
@Suite("Hosted relay writers")
struct WriterRosterTests {
    @Test("approval: a request waits until a writer adds it; open: the node is a writer at once")
    func admission() {
        let creator = Author().pubkey
        let node = Author().pubkey
        let approval = WriterRoster(admission: .approval, writers: [creator])
        #expect(approval.requestToJoin(node) == .pending)
        #expect(approval.requestToJoin(node) == .pending)
        #expect(approval.snapshot.pending == [node])
        approval.add(node)
        #expect(approval.isWriter(node) && approval.snapshot.pending.isEmpty)
        #expect(approval.requestToJoin(node) == .writer)

        let open = WriterRoster(admission: .open, writers: [creator])
        #expect(open.requestToJoin(node) == .writer)
        #expect(open.snapshot.writers == [creator, node])
    }

    @Test("a removed writer is refused when it asks again, until a writer adds it back")
    func removal() {
        let node = Author().pubkey
        let roster = WriterRoster(admission: .open, writers: [Author().pubkey, node])
        #expect(roster.remove(node))
        #expect(!roster.isWriter(node) && roster.isRemoved(node))
        #expect(roster.requestToJoin(node) == .refused)
        roster.add(node)
        #expect(roster.isWriter(node) && !roster.isRemoved(node))
    }

    @Test("anyone may ask, so pending requests are bounded: the oldest goes first")
    func pendingIsBounded() {
        let roster = WriterRoster(admission: .approval, writers: [])
        let first = Author().pubkey
        roster.requestToJoin(first)
        for _ in 0..<WriterRoster.maxPending { roster.requestToJoin(Author().pubkey) }
        #expect(roster.snapshot.pending.count == WriterRoster.maxPending)
        #expect(!roster.snapshot.pending.contains(first))
    }

    @Test("open admission admits writers up to its bound; past it a request waits for approval")
    func openWritersAreBounded() {
        let roster = WriterRoster(admission: .open, writers: [])
        for _ in 0..<WriterRoster.maxOpenWriters { #expect(roster.requestToJoin(Author().pubkey) == .writer) }
        let late = Author().pubkey
        #expect(roster.requestToJoin(late) == .pending)
        #expect(roster.snapshot.writers.count == WriterRoster.maxOpenWriters)
        roster.add(late)
        #expect(roster.isWriter(late), "a writer's approval still admits past the bound")
    }

    @Test("NIP-42-authenticated as a removed writer: writes refused restricted:, reads refused and hidden")
    func removedWritersPolicy() async {
        let node = Author().pubkey
        let roster = WriterRoster(admission: .open, writers: [node])
        let policy = RemovedWritersPolicy(roster: roster)
        let note = Author().event()
        let asNode = WriteContext(now: now(), remoteAddress: nil, authenticated: [node])
        let reader = ReadContext(authenticated: [node], remoteAddress: nil)
        #expect(await policy.check(note, context: asNode) == nil)
        #expect(policy.check([Filter()], context: reader) == nil)
        roster.remove(node)
        #expect(await policy.check(note, context: asNode)?.message.hasPrefix("restricted:") == true)
        #expect(policy.check([Filter()], context: reader)?.message.hasPrefix("restricted:") == true)
        #expect(!policy.canSee(note, context: reader))
        // Anyone else, authenticated or not, is not concerned.
        #expect(await policy.check(note, context: WriteContext(now: now(), remoteAddress: nil)) == nil)
        #expect(policy.canSee(note, context: ReadContext(authenticated: [], remoteAddress: nil)))
    }
}
