#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files and folders a command has open, removed if it is interrupted.
///
/// Outputs are written to a temporary file beside their target and renamed into place when
/// complete. `installSignalHandlers()` makes SIGINT, SIGTERM, SIGHUP and SIGQUIT remove every
/// registered temporary before the process dies with that signal, so an interrupted write
/// leaves neither a partial output nor a hidden temporary behind. The handler only calls
/// `unlink`, `rmdir`, `signal` and `raise`, which are async-signal-safe; paths are kept as C
/// strings made when they are registered.
public enum TemporaryFiles {
    static let capacity = 64
    /// Registered paths (C strings owned here), nil where free. Written only by the main flow of
    /// the command; read by the signal handler.
    nonisolated(unsafe) static var slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) static var isFolder = UnsafeMutablePointer<Bool>.allocate(capacity: capacity)
    nonisolated(unsafe) static var initialized = false

    private static func setUp() {
        guard !initialized else { return }
        slots.initialize(repeating: nil, count: capacity)
        isFolder.initialize(repeating: false, count: capacity)
        initialized = true
    }

    /// Removes registered temporaries, then lets `signal` end the process as it would have.
    public static func installSignalHandlers() {
        setUp()
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { received in
                TemporaryFiles.removeAllNow()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
        // A closed pipe on standard output is a write error (EPIPE) reported as such, not a
        // silent death.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Registers `path`; returns the slot to pass to `unregister`.
    static func register(_ path: String, folder: Bool = false) -> Int? {
        setUp()
        guard let copy = strdup(path) else { return nil }
        for i in 0..<capacity where slots[i] == nil {
            isFolder[i] = folder
            slots[i] = copy
            return i
        }
        free(copy)
        return nil
    }

    static func unregister(_ slot: Int?) {
        guard let slot, let path = slots[slot] else { return }
        slots[slot] = nil
        free(path)
    }

    /// Signal-handler work: unlink every registered path (folders after files).
    static func removeAllNow() {
        guard initialized else { return }
        for pass in 0..<2 {
            for i in 0..<capacity {
                guard let path = slots[i] else { continue }
                if pass == 0, !isFolder[i] { unlink(path) }
                if pass == 1, isFolder[i] { rmdir(path) }
            }
        }
    }
}
