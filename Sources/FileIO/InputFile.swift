#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codec

/// A file opened for reading, or standard input for `-`: sequential reads (a `ByteSource`) and,
/// for regular files, reads at an offset. Closed when the last copy goes away.
public final class InputFile: ByteSource, @unchecked Sendable {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// The size of a regular file; nil for pipes, terminals and devices.
    public let size: Int?

    /// Opens `path` (`-`: standard input).
    public init(path: String) throws(FileIOError) {
        self.path = path
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotRead(path: path, reason: FileIOError.reason(errno)) }
            descriptor = fd
            ownsDescriptor = true
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            if ownsDescriptor { close(descriptor) }
            throw .cannotRead(path: path, reason: FileIOError.reason(code))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if ownsDescriptor { close(descriptor) }
            throw .cannotRead(path: path, reason: "it is a folder")
        }
        size = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Whether reads at an offset work (a regular file).
    public var isSeekable: Bool { size != nil }

    /// Reads up to `buffer.count` bytes from the current position; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try readChecked(into: buffer)
    }

    /// `read(into:)` with the typed error.
    public func readChecked(into buffer: UnsafeMutableRawBufferPointer) throws(FileIOError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            #if canImport(Glibc)
            let n = Glibc.read(descriptor, base, buffer.count)
            #else
            let n = Darwin.read(descriptor, base, buffer.count)
            #endif
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .cannotRead(path: path, reason: FileIOError.reason(errno))
        }
    }

    /// Fills `buffer` from byte `offset` of a regular file; returns the bytes read (fewer only at
    /// the end of the file).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileIOError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: FileIOError.reason(errno))
            }
            done += n
        }
        return done
    }

    /// `count` bytes from byte `offset`, or fewer at the end of the file.
    public func bytes(at offset: Int, count: Int) throws(FileIOError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try typed { try out.withUnsafeMutableBytes { (b) throws -> Int in try read(into: b, at: offset) } }
        out.removeLast(count - n)
        return out
    }

    /// The file's device and inode, to tell whether two paths name one file.
    public var identity: FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// A file's device and inode number: two paths with the same identity are one file.
public struct FileIdentity: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64

    /// The identity of what `path` names (following symlinks), or nil if it does not exist.
    public init?(path: String) {
        var info = stat()
        guard path != "-", stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}
