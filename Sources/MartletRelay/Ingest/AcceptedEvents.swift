public import NostrCore
import Synchronization

/// Something told of every event the relay accepts: stored, or ephemeral and fanned out.
///
/// Duplicates and refusals are never told. That is what keeps replication between relays
/// from looping: an event that comes back is a duplicate and goes no further.
///
/// ```swift
/// final class Echo: AcceptedEventObserver {
///     func accepted(_ event: Event, from origin: IngestOrigin) { print(event.id, origin) }
/// }
/// relay.acceptedEvents.add(echo)
/// ```
public protocol AcceptedEventObserver: AnyObject, Sendable {
    /// Called on the ingest path after the commit and the local fan-out: it must not wait.
    func accepted(_ event: Event, from origin: IngestOrigin)
}

/// The observers of one relay's accepted events, added and removed at run time.
///
/// ```swift
/// relay.acceptedEvents.add(mesh)
/// defer { relay.acceptedEvents.remove(mesh) }
/// ```
public final class AcceptedEvents: Sendable {
    private let observers = Mutex<[any AcceptedEventObserver]>([])
    /// Checked before the lock, so that a relay nobody observes pays one atomic load per event.
    private let observed = Atomic<Bool>(false)

    public init() {}

    public func add(_ observer: any AcceptedEventObserver) {
        observers.withLock { observers in
            observers.append(observer)
            observed.store(true, ordering: .releasing)
        }
    }

    public func remove(_ observer: any AcceptedEventObserver) {
        observers.withLock { observers in
            observers.removeAll { $0 === observer }
            observed.store(!observers.isEmpty, ordering: .releasing)
        }
    }

    func notify(_ event: Event, from origin: IngestOrigin) {
        guard observed.load(ordering: .acquiring) else { return }
        for observer in observers.withLock({ $0 }) {
            observer.accepted(event, from: origin)
        }
    }
}
