#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`), which bounds the connections the relay
/// can hold: every connection is a descriptor.
///
/// Most systems start a process with a soft limit of 1,024 and allow far more; 1,100
/// half-open requests once took all 1,024 and locked everyone out. `martlet serve` raises
/// the soft limit to the hard one at start.
///
/// ```swift
/// let limit = FileDescriptorLimit.raiseToHardLimit()   // (soft: 524288, hard: 524288)
/// ```
public enum FileDescriptorLimit {
    /// Sets the soft limit to the hard limit; returns the limits in force afterwards, or nil
    /// when they cannot be read.
    @discardableResult
    public static func raiseToHardLimit() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(resourceNumber, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            #if canImport(Darwin)
            // macOS refuses a soft limit above OPEN_MAX even when the hard limit is unlimited.
            raised.rlim_cur = min(limit.rlim_max, rlim_t(OPEN_MAX))
            #endif
            if setrlimit(resourceNumber, &raised) == 0 { limit = raised }
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    #if canImport(Glibc)
    private static let resourceNumber = __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue))
    #else
    private static let resourceNumber = RLIMIT_NOFILE
    #endif
}
