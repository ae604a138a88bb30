/// Where bytes come from: a file, a pipe, memory.
public protocol ByteSource {
    /// Reads up to `buffer.count` bytes into `buffer` and returns how many; 0 only at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where bytes go.
public protocol ByteSink {
    /// Writes all of `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Bytes in memory as a `ByteSource`.
public struct MemorySource: ByteSource {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0, let target = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { target.copyMemory(from: base + offset, byteCount: n) }
        }
        offset += n
        return n
    }
}

/// A growing byte array as a `ByteSink`.
public struct MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
}

/// The stream file of FORMAT.md section 11 (`.hwgs`): magic, version, the codebook text, per frame
/// its word count, value count and CRC-32C then its words, an end word, the value and frame
/// counts and the CRC-32C of everything before it. All fields are big-endian 32-bit words.
public enum StreamFile {
    public static let magic: UInt32 = 0x4857_4753  // "HWGS"
    public static let version: UInt32 = 1
}

/// A frame ready for a stream file: its words, its value count and the CRC-32C of its words
/// (computed here, from the words, so it can be made on any thread).
public struct FrameRecord: Sendable {
    public let words: ArraySlice<UInt8>
    public let valueCount: Int
    public let crc: UInt32

    /// `words` must be a whole, non-zero number of 32-bit words (`StreamCodec` frames are).
    public init(words: ArraySlice<UInt8>, valueCount: Int) {
        self.words = words
        self.valueCount = valueCount
        crc = CRC32C.checksum(of: words)
    }
}

/// Writes a stream file to a sink frame by frame, so memory does not grow with the file.
public struct StreamFileWriter<Sink: ByteSink> {
    public private(set) var sink: Sink
    public private(set) var frameCount = 0
    public private(set) var valueCount: UInt64 = 0
    /// Bytes written so far.
    public private(set) var byteCount = 0
    private var crc: UInt32 = 0
    private var finished = false

    /// Writes the header: magic, version, the codebook text byte for byte, zero bytes to a word.
    public init(codebookText: [UInt8], sink: Sink) throws(StreamFileError) {
        guard codebookText.count <= StreamLimits.maxCodebookBytes else {
            throw .codebookTooLarge(bytes: codebookText.count)
        }
        self.sink = sink
        var header = Self.words([StreamFile.magic, StreamFile.version, UInt32(codebookText.count)])
        header += codebookText
        header += [UInt8](repeating: 0, count: (4 - codebookText.count % 4) % 4)
        try emit(header[...])
    }

    /// Appends one frame: its word count, value count and CRC, then its words.
    public mutating func append(_ frame: FrameRecord) throws(StreamFileError) {
        let words = frame.words.count / 4
        guard frame.words.count % 4 == 0, words > 0, words <= StreamLimits.maxFrameWords else {
            throw .frameWordsInvalid(frame: frameCount + 1, bytes: frame.words.count)
        }
        guard frame.valueCount >= 0, frame.valueCount <= StreamLimits.maxFrameValues else {
            throw .frameValuesTooMany(frame: frameCount + 1, values: frame.valueCount)
        }
        guard frameCount < Int(UInt32.max) else { throw .tooManyFrames }
        try emit(Self.words([UInt32(words), UInt32(frame.valueCount), frame.crc])[...])
        try emit(frame.words, crc: frame.crc)
        frameCount += 1
        valueCount += UInt64(frame.valueCount)
    }

    /// Writes the end word, the value count, the frame count and the file CRC.
    public mutating func finish() throws(StreamFileError) {
        guard !finished else { return }
        try emit(Self.words([0, UInt32(valueCount >> 32), UInt32(truncatingIfNeeded: valueCount), UInt32(frameCount)])[...])
        try emit(Self.words([crc])[...], countsInCRC: false)
        finished = true
    }

    private mutating func emit(_ bytes: ArraySlice<UInt8>, crc known: UInt32? = nil, countsInCRC: Bool = true) throws(StreamFileError) {
        do {
            try bytes.withUnsafeBytes { try sink.write($0) }
        } catch {
            throw .io("\(error)")
        }
        if countsInCRC {
            crc = known.map { CRC32C.combine(crc, $0, secondLength: bytes.count) } ?? CRC32C.update(crc, with: bytes)
        }
        byteCount += bytes.count
    }

    static func words(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { [UInt8($0 >> 24), UInt8(($0 >> 16) & 0xFF), UInt8(($0 >> 8) & 0xFF), UInt8($0 & 0xFF)] }
    }
}

/// A frame read from a stream file, not yet checked against its CRC or decoded.
public struct StoredFrame: Sendable {
    /// Counted from 1.
    public let index: Int
    /// Byte offset of its header in the file.
    public let offset: Int
    public let valueCount: Int
    public let storedCRC: UInt32
    public let words: PaddedStream

    /// Checks the CRC, then decodes: exactly `valueCount` values, EOF ending the words.
    public func decode(with codec: StreamCodec) throws(StreamFileError) -> [UInt32] {
        let computed = words.withBytes { CRC32C.checksum(of: $0) }
        guard computed == storedCRC else { throw .frameCRC(frame: index, stored: storedCRC, computed: computed) }
        do {
            return try codec.decodeStoredFrame(words, valueCount: valueCount)
        } catch {
            throw .frame(frame: index, error)
        }
    }
}

/// Reads a stream file from a source frame by frame.
///
/// The reader checks the file's structure and its file CRC. The words of a frame enter the file
/// CRC through the frame's stored CRC (so they are read once, by whoever decodes them): the file
/// is good only when every frame has also passed `StoredFrame.decode`, which checks the words
/// against that CRC. `StreamFileDecoder` does both.
public struct StreamFileReader<Source: ByteSource> {
    /// The codebook text as stored, byte for byte.
    public let codebookText: [UInt8]
    public let codebook: Codebook
    private var input: BufferedInput<Source>
    private var crc: UInt32 = 0
    public private(set) var frameCount = 0
    public private(set) var valueCount: UInt64 = 0
    private var atEndWord = false
    private var ended = false

    /// Reads and checks the header and the codebook.
    public init(_ source: Source) throws(StreamFileError) {
        input = BufferedInput(source)
        var crc: UInt32 = 0
        let head = try Self.read(&input, 12, "the header", crc: &crc)
        let magic = Self.word(head, 0)
        guard magic == StreamFile.magic else { throw .badMagic(found: magic) }
        let version = Self.word(head, 4)
        guard version == StreamFile.version else { throw .badVersion(found: version) }
        let length = Int(Self.word(head, 8))
        guard length <= StreamLimits.maxCodebookBytes else { throw .codebookTooLarge(bytes: length) }
        let padded = (length + 3) & ~3
        let text = try Self.read(&input, padded, "the codebook", crc: &crc)
        guard text[length...].allSatisfy({ $0 == 0 }) else { throw .codebookPadding }
        codebookText = Array(text[..<length])
        do {
            codebook = try Codebook.parse(codebookText)
        } catch {
            throw .codebook(error)
        }
        self.crc = crc
    }

    /// Bytes read so far.
    public var offset: Int { input.offset }

    /// The next frame, or nil at the end word; then `finish()` checks the trailer.
    public mutating func nextFrame() throws(StreamFileError) -> StoredFrame? {
        guard !atEndWord else { return nil }
        let offset = input.offset
        let frame = frameCount + 1
        let first = try Self.read(&input, 4, "frame \(frame)'s header (or the end word)", crc: &crc)
        let wordCount = Int(Self.word(first, 0))
        guard wordCount != 0 else {
            atEndWord = true
            return nil
        }
        let rest = try Self.read(&input, 8, "frame \(frame)'s header", crc: &crc)
        let values = Int(Self.word(rest, 0))
        let stored = Self.word(rest, 4)
        guard wordCount <= StreamLimits.maxFrameWords else { throw .frameWordsTooMany(frame: frame, words: wordCount) }
        guard values <= StreamLimits.maxFrameValues else { throw .frameValuesTooMany(frame: frame, values: values) }
        let storage = try input.read(count: 4 * wordCount, extra: PaddedStream.padding)
        guard storage.count == 4 * wordCount + PaddedStream.padding else {
            throw .endsEarly(in: "frame \(frame)'s words", offset: input.offset)
        }
        crc = CRC32C.combine(crc, stored, secondLength: 4 * wordCount)
        frameCount = frame
        valueCount += UInt64(values)
        return StoredFrame(index: frame, offset: offset, valueCount: values, storedCRC: stored,
                           words: PaddedStream(paddedStorage: storage))
    }

    /// Reads the rest of the file after the last frame and checks it: the end word, the value
    /// count, the frame count and the file CRC match, and nothing follows.
    public mutating func finish() throws(StreamFileError) {
        guard !ended else { return }
        while try nextFrame() != nil {}
        let counts = try Self.read(&input, 12, "the trailer", crc: &crc)
        let storedValues = UInt64(Self.word(counts, 0)) << 32 | UInt64(Self.word(counts, 4))
        let storedFrames = Int(Self.word(counts, 8))
        var ignored: UInt32 = 0
        let storedCRC = Self.word(try Self.read(&input, 4, "the file CRC", crc: &ignored), 0)
        guard storedValues == valueCount else { throw .valueCountDiffers(stored: storedValues, frames: valueCount) }
        guard storedFrames == frameCount else { throw .frameCountDiffers(stored: storedFrames, found: frameCount) }
        guard storedCRC == crc else { throw .fileCRC(stored: storedCRC, computed: crc) }
        let after = try input.read(count: 1, extra: 0)
        guard after.isEmpty else { throw .bytesAfterEnd(offset: input.offset - 1) }
        ended = true
    }

    private static func read(_ input: inout BufferedInput<Source>, _ count: Int, _ what: String, crc: inout UInt32) throws(StreamFileError) -> [UInt8] {
        let bytes = try input.read(count: count, extra: 0)
        guard bytes.count == count else { throw .endsEarly(in: what, offset: input.offset) }
        crc = CRC32C.update(crc, with: bytes)
        return bytes
    }

    private static func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

/// A source read through a buffer, so small reads (frame headers) do not each cost a call.
struct BufferedInput<Source: ByteSource> {
    private var source: Source
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// Bytes handed out so far.
    private(set) var offset = 0

    init(_ source: Source, bufferSize: Int = 1 << 16) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    /// Up to `count` bytes (fewer only at the end of the source), followed by `extra` zero bytes.
    /// Memory grows with the bytes that arrive, not with `count`.
    mutating func read(count: Int, extra: Int) throws(StreamFileError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(min(count, 1 << 20) + extra)
        while out.count < count {
            if start == end {
                guard !atEnd else { break }
                if count - out.count >= buffer.count {
                    try readDirectly(into: &out, upTo: count)
                } else {
                    try refill()
                }
                continue
            }
            let n = min(count - out.count, end - start)
            out.append(contentsOf: buffer[start..<(start + n)])
            start += n
            offset += n
        }
        if extra > 0 { out.append(contentsOf: [UInt8](repeating: 0, count: extra)) }
        return out
    }

    /// Reads straight into `out` (at most 1 MiB more than it holds, so a count that the source
    /// does not back costs no memory).
    private mutating func readDirectly(into out: inout [UInt8], upTo count: Int) throws(StreamFileError) {
        let have = out.count
        let chunk = min(count - have, max(1 << 20, have))
        out.append(contentsOf: [UInt8](repeating: 0, count: chunk))
        do {
            var got = 0
            while got < chunk {
                let n = try out.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[(have + got)...])) }
                if n == 0 {
                    atEnd = true
                    break
                }
                got += n
            }
            out.removeLast(chunk - got)
            offset += got
        } catch {
            out.removeLast(chunk)
            throw .io("\(error)")
        }
    }

    private mutating func refill() throws(StreamFileError) {
        start = 0
        end = 0
        do {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { atEnd = true }
            end = n
        } catch {
            throw .io("\(error)")
        }
    }
}

/// A stream file that cannot be written or is not what it claims; the message names the frame or
/// the field.
public enum StreamFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String)
    case badMagic(found: UInt32)
    case badVersion(found: UInt32)
    case endsEarly(in: String, offset: Int)
    case codebookTooLarge(bytes: Int)
    case codebookPadding
    case codebook(CodebookError)
    /// The file's codebook codes differently from the one given (`field` differs).
    case codebookDiffers(field: String)
    case frameWordsTooMany(frame: Int, words: Int)
    case frameWordsInvalid(frame: Int, bytes: Int)
    case frameValuesTooMany(frame: Int, values: Int)
    case tooManyFrames
    case frameCRC(frame: Int, stored: UInt32, computed: UInt32)
    case frame(frame: Int, StoredFrameError)
    case valueCountDiffers(stored: UInt64, frames: UInt64)
    case frameCountDiffers(stored: Int, found: Int)
    case fileCRC(stored: UInt32, computed: UInt32)
    case bytesAfterEnd(offset: Int)

    public var description: String {
        func hex(_ v: UInt32) -> String {
            let digits = String(v, radix: 16)
            return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
        }
        switch self {
        case .io(let message): return message
        case .badMagic(let found): return "not a stream file: magic \(hex(found)), expected \(hex(StreamFile.magic)) (\"HWGS\"); for bare frames use --bare"
        case .badVersion(let found): return "stream file version \(found) is not supported (this hwgen reads version \(StreamFile.version))"
        case .endsEarly(let what, let offset): return "the file ends early, in \(what) (after \(offset) bytes)"
        case .codebookTooLarge(let bytes): return "the codebook is \(bytes) bytes, more than the \(StreamLimits.maxCodebookBytes) a codebook may have"
        case .codebookPadding: return "the bytes after the stored codebook text are not zero"
        case .codebook(let error): return "the stored codebook is invalid: \(error)"
        case .codebookDiffers(let field): return "the file's codebook codes differently from the one given ('\(field)' differs)"
        case .frameWordsTooMany(let frame, let words): return "frame \(frame): \(words) words, more than any frame may have (\(StreamLimits.maxFrameWords))"
        case .frameWordsInvalid(let frame, let bytes): return "frame \(frame): \(bytes) bytes is not a positive whole number of words (at most \(StreamLimits.maxFrameWords))"
        case .frameValuesTooMany(let frame, let values): return "frame \(frame): \(values) values, more than any frame may hold (\(StreamLimits.maxFrameValues))"
        case .tooManyFrames: return "more frames than a stream file can count (\(UInt32.max))"
        case .frameCRC(let frame, let stored, let computed): return "frame \(frame): its words have CRC-32C \(hex(computed)), the header says \(hex(stored)) (corrupt frame)"
        case .frame(let frame, let error): return "frame \(frame): \(error)"
        case .valueCountDiffers(let stored, let frames): return "the trailer's value count \(stored) differs from the frames' \(frames)"
        case .frameCountDiffers(let stored, let found): return "the trailer's frame count \(stored) differs from the \(found) frame(s) in the file"
        case .fileCRC(let stored, let computed): return "the file CRC-32C is \(hex(computed)), the trailer says \(hex(stored)) (corrupt file)"
        case .bytesAfterEnd(let offset): return "bytes after the file CRC, from offset \(offset)"
        }
    }
}
