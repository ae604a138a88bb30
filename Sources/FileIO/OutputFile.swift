#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codec

/// An output that is complete or absent, never partial or clobbered.
///
/// - `-` writes to standard output.
/// - A path is followed through symlinks to the file it names. If that is an existing device,
///   FIFO or socket, it is opened and written through (a `/dev/null` stays a device).
/// - Otherwise the bytes go to a temporary file in the target's folder, renamed over the target
///   by `commit()`; `discard()`, an error, or an interrupting signal (see `TemporaryFiles`)
///   removes the temporary and leaves the target as it was.
/// - `open` refuses, before writing anything, a target that is the same file as one of the
///   command's inputs.
public final class OutputFile: ByteSink {
    public let path: String
    private var descriptor: Int32
    private let temporaryPath: String?
    private let target: String
    private let slot: Int?
    private var buffer: [UInt8] = []
    private var finished = false
    private static let bufferSize = 1 << 20

    private init(path: String, target: String, descriptor: Int32, temporaryPath: String?, slot: Int?) {
        self.path = path
        self.target = target
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.slot = slot
        buffer.reserveCapacity(Self.bufferSize)
    }

    /// Opens an output. `inputs` are the paths the command reads (codebook included): an output
    /// that is one of them is refused.
    public static func open(_ path: String, inputs: [String]) throws(FileIOError) -> OutputFile {
        if path == "-" {
            return OutputFile(path: path, target: path, descriptor: STDOUT_FILENO, temporaryPath: nil, slot: nil)
        }
        guard !path.isEmpty else { throw .cannotWrite(path: path, reason: "the path is empty") }
        try checkLength(path)
        let target = try resolveSymlinks(path)
        try checkLength(target)
        try refuseInputs(target: target, path: path, inputs: inputs)
        var info = stat()
        if stat(target, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { throw .cannotWrite(path: path, reason: "it is a folder") }
            if kind != S_IFREG {
                // A device, FIFO or socket: write through it, never replace it.
                let fd = Glibc.open(target, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw .cannotWrite(path: path, reason: FileIOError.reason(errno)) }
                return OutputFile(path: path, target: target, descriptor: fd, temporaryPath: nil, slot: nil)
            }
        }
        let mode: mode_t = stat(target, &info) == 0 ? info.st_mode & 0o7777 : 0o666
        let (fd, temporary, slot) = try createTemporary(besides: target, mode: mode, reportAs: path)
        return OutputFile(path: path, target: target, descriptor: fd, temporaryPath: temporary, slot: slot)
    }

    deinit {
        if !finished { discard() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try writeChecked(bytes)
    }

    /// `write(_:)` with the typed error.
    public func writeChecked(_ bytes: UnsafeRawBufferPointer) throws(FileIOError) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Writes `bytes`.
    public func write(_ bytes: [UInt8]) throws(FileIOError) {
        try typed { try bytes.withUnsafeBytes { (b) throws in try writeChecked(b) } }
    }

    /// Writes what is buffered, then puts the file in place (renames the temporary over the
    /// target).
    public func commit() throws(FileIOError) {
        guard !finished else { return }
        do {
            try flush()
        } catch {
            discard()
            throw error
        }
        finished = true
        if descriptor != STDOUT_FILENO, close(descriptor) != 0 {
            let code = errno
            if let temporaryPath { unlink(temporaryPath) }
            TemporaryFiles.unregister(slot)
            throw .cannotWrite(path: path, reason: FileIOError.reason(code))
        }
        descriptor = -1
        if let temporaryPath {
            defer { TemporaryFiles.unregister(slot) }
            guard rename(temporaryPath, target) == 0 else {
                let code = errno
                unlink(temporaryPath)
                throw .cannotWrite(path: path, reason: FileIOError.reason(code))
            }
        }
    }

    /// Drops the output: the temporary is removed and the target left as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        if descriptor >= 0, descriptor != STDOUT_FILENO { close(descriptor) }
        descriptor = -1
        if let temporaryPath { unlink(temporaryPath) }
        TemporaryFiles.unregister(slot)
    }

    private func flush() throws(FileIOError) {
        guard !buffer.isEmpty else { return }
        try typed { try buffer.withUnsafeBytes { (b) throws in try writeAll(b) } }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(FileIOError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            #if canImport(Glibc)
            let n = Glibc.write(descriptor, base + done, bytes.count - done)
            #else
            let n = Darwin.write(descriptor, base + done, bytes.count - done)
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: FileIOError.reason(errno))
            }
            done += n
        }
    }

    // MARK: Paths

    /// The path `path` names after following symlinks (the last component may not exist yet; a
    /// dangling link names its target).
    static func resolveSymlinks(_ path: String) throws(FileIOError) -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                let code = errno
                if code == ENOENT { return current }
                throw .cannotWrite(path: path, reason: FileIOError.reason(code))
            }
            guard info.st_mode & S_IFMT == S_IFLNK else { return current }
            var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &link, Int(PATH_MAX))
            guard n >= 0 else { throw .cannotWrite(path: path, reason: FileIOError.reason(errno)) }
            let destination = String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = destination.hasPrefix("/") ? destination : folder(of: current) + "/" + destination
        }
        throw .cannotWrite(path: path, reason: FileIOError.reason(ELOOP))
    }

    /// Refuses a path the system would refuse only at the final rename (a name over 255 bytes).
    static func checkLength(_ path: String) throws(FileIOError) {
        if path.utf8.count >= Int(PATH_MAX) || path.split(separator: "/").contains(where: { $0.utf8.count > Int(NAME_MAX) }) {
            throw .cannotWrite(path: path, reason: FileIOError.reason(ENAMETOOLONG))
        }
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func refuseInputs(target: String, path: String, inputs: [String]) throws(FileIOError) {
        guard let identity = FileIdentity(path: target) else { return }
        for input in inputs where input != "-" {
            if FileIdentity(path: input) == identity { throw .outputIsInput(output: path, input: input) }
        }
    }

    /// A new temporary file in the folder of `target`, registered for removal on a signal.
    static func createTemporary(besides target: String, mode: mode_t, reportAs path: String) throws(FileIOError) -> (Int32, String, Int?) {
        let folder = folder(of: target)
        for attempt in 0..<100 {
            let name = folder + "/.hwgen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(attempt).tmp"
            let slot = TemporaryFiles.register(name)
            let fd = Glibc.open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if fd >= 0 { return (fd, name, slot) }
            let code = errno
            TemporaryFiles.unregister(slot)
            if code != EEXIST { throw .cannotWrite(path: path, reason: FileIOError.reason(code)) }
        }
        throw .cannotWrite(path: path, reason: "no temporary file could be created beside it")
    }
}
