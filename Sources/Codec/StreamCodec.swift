/// Encodes values into a stream of frames and decodes streams, with either coder.
public struct StreamCodec: Sendable {
    public let codebook: Codebook
    private let coder: AnyFrameCoder

    private enum AnyFrameCoder: Sendable {
        case huffman(HuffmanCoder)
        case tans(TANSCoder)
    }

    public init(codebook: Codebook) {
        self.codebook = codebook
        switch codebook.coder {
        case .huffman(let lengths): coder = .huffman(HuffmanCoder(layout: codebook.layout, codeLengths: lengths, lanes: codebook.lanes))
        case .tans(let tableLog, let counts):
            coder = .tans(TANSCoder(layout: codebook.layout, tableLog: tableLog, counts: counts, lanes: codebook.lanes))
        }
    }

    public var layout: ValueLayout { codebook.layout }

    /// Encodes `values` cut into frames of `frameSizes` values each (they must add up to
    /// `values.count`; a 0 is an empty frame).
    /// - Throws: `StreamError.valueTooWide` for a value that does not fit in valueBits.
    public func encode(_ values: [UInt32], frameSizes: [Int]) throws(StreamError) -> [UInt8] {
        try encodeFrames(values[...], frameSizes: frameSizes).bytes
    }

    /// Encodes `values` cut into frames of `frameSizes` values each, and says where each frame
    /// ends in the bytes. `loop` chooses the inner loops (the bytes are the same either way).
    /// - Throws: `StreamError.valueTooWide` for a value that does not fit in valueBits (naming
    ///   its index in `values`), `frameSizesMismatch`, or `frameTooLarge`.
    public func encodeFrames(_ values: ArraySlice<UInt32>, frameSizes: [Int], loop: InnerLoop = .fastest) throws(StreamError) -> EncodedFrames {
        var total = 0
        for size in frameSizes {
            guard size >= 0 else { throw .frameSizesMismatch(values: values.count, total: -1) }
            guard size <= StreamLimits.maxFrameValues else { throw .frameTooLarge(size) }
            total += size
        }
        guard total == values.count else { throw .frameSizesMismatch(values: values.count, total: total) }
        try Self.checkWidth(values, valueBits: layout.valueBits)
        let valueBits = layout.valueBits
        let writer = BitWriter(capacity: values.count * (valueBits / 8 + 1) + 4 * frameSizes.count)
        var starts = [values.startIndex]
        for size in frameSizes { starts.append(starts[starts.count - 1] + size) }
        let frames = frameSizes.indices.map { values[starts[$0]..<starts[$0 + 1]] }
        var ends: [Int] = []
        ends.reserveCapacity(frames.count)
        switch coder {
        case .huffman(let h):
            for frame in frames {
                h.encodeFrame(frame, into: writer)
                ends.append(writer.bitCount / 8)
            }
        case .tans(let t):
            // tANS frames go four at a time in C where it can, else in pairs (one lane:
            // independent state chains overlap).
            var i = 0
            while i < frames.count {
                if loop == .fastest, i + 4 <= frames.count, let four = t.encodeFour(Array(frames[i..<(i + 4)]), into: writer) {
                    ends += four.map { $0 / 8 }
                    i += 4
                    continue
                }
                let firstEnd = t.encodeFrames(frames[i], i + 1 < frames.count ? frames[i + 1] : nil, into: writer)
                ends.append(firstEnd / 8)
                if i + 1 < frames.count { ends.append(writer.bitCount / 8) }
                i += 2
            }
        }
        return EncodedFrames(bytes: writer.finish(), frameEnds: ends)
    }

    /// Encodes `values` in frames of `frameSize` (the last may be shorter; no values: no frame).
    public func encode(_ values: [UInt32], frameSize: Int) throws(StreamError) -> [UInt8] {
        try encode(values, frameSizes: try Self.frameSizes(count: values.count, frameSize: frameSize))
    }

    /// The sizes of frames of `frameSize` values holding `count` values (the last may be
    /// shorter; none for no values).
    public static func frameSizes(count: Int, frameSize: Int) throws(StreamError) -> [Int] {
        guard frameSize > 0 else { throw .invalidFrameSize(frameSize) }
        var sizes = Array(repeating: frameSize, count: count / frameSize)
        if count % frameSize != 0 { sizes.append(count % frameSize) }
        return sizes
    }

    /// Throws `valueTooWide` for the first value of `values` that does not fit in `valueBits`.
    static func checkWidth(_ values: ArraySlice<UInt32>, valueBits: Int) throws(StreamError) {
        guard let bad = firstValueTooWide(values, valueBits: valueBits) else { return }
        throw .valueTooWide(index: bad - values.startIndex, value: values[bad], valueBits: valueBits)
    }

    /// Decodes a whole bare stream: every frame until the bytes end.
    /// - Throws: `StreamError.corruptFrame` naming the frame (counted from 1), the lane and the bit.
    public func decode(_ bytes: [UInt8]) throws(StreamError) -> DecodedStream {
        let outcome = decodeUntilError(bytes)
        if let error = outcome.error { throw error }
        return outcome.decoded
    }

    /// Decodes a bare stream as far as it is good: the values of every frame before an error
    /// and of the damaged frame up to it (`decoded.frameSizes` counts only whole frames), and the
    /// error, if any.
    public func decodeUntilError(_ bytes: [UInt8]) -> (decoded: DecodedStream, error: StreamError?) {
        let stream = PaddedStream(bytes)
        return stream.withReader { (reader: inout BitReader) -> (DecodedStream, StreamError?) in
            var sink = ValueSink(capacity: min(bytes.count, StreamLimits.maxFrameValues))
            defer { sink.release() }
            var frameSizes: [Int] = []
            while reader.remaining > 0 {
                let before = sink.count
                do throws(FrameDecodeError) {
                    try decodeFrame(&reader, into: &sink, limit: before + StreamLimits.maxFrameValues)
                } catch {
                    return (DecodedStream(values: sink.array, frameSizes: frameSizes), .corruptFrame(frame: frameSizes.count + 1, error))
                }
                frameSizes.append(sink.count - before)
            }
            return (DecodedStream(values: sink.array, frameSizes: frameSizes), nil)
        }
    }

    /// Decodes the frame that starts at byte `byteOffset` of `stream` (bare frames, sections
    /// 5-9; the offset is a multiple of 4, where an earlier frame ended).
    /// - Returns: the frame's values and the byte offset just past its padding.
    /// - Throws: `FrameDecodeError` with bit positions counted from the start of `stream`;
    ///   `truncated` when the bytes end inside the frame (with more bytes it may decode).
    public func decodeFrame(at stream: PaddedStream, byteOffset: Int) throws(FrameDecodeError) -> (values: [UInt32], end: Int) {
        try stream.withReader { (reader: inout BitReader) throws(FrameDecodeError) -> ([UInt32], Int) in
            reader.position = min(8 * max(0, byteOffset), reader.bitCount)
            var sink = ValueSink(capacity: min(4096, StreamLimits.maxFrameValues))
            defer { sink.release() }
            try decodeFrame(&reader, into: &sink, limit: StreamLimits.maxFrameValues)
            return (sink.array, reader.position / 8)
        }
    }

    /// Decodes a frame stored with its word count and value count (a stream file's frame,
    /// section 11): it must decode to exactly `valueCount` values, and its EOF and padding must
    /// end exactly at the end of `words`.
    public func decodeStoredFrame(_ words: PaddedStream, valueCount: Int) throws(StoredFrameError) -> [UInt32] {
        // Decoded straight into the array (the fast loops may write up to 256 values past the
        // count before they stop, so it has that much room).
        var failure: StoredFrameError?
        let values = [UInt32](unsafeUninitializedCapacity: valueCount + 256) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            do throws(StoredFrameError) {
                var sink = ValueSink(borrowing: base, capacity: buffer.count)
                defer { sink.release() }
                try decodeStoredFrame(words, valueCount: valueCount, into: &sink)
                if sink.isBorrowing {
                    initialized = sink.count
                } else {
                    failure = .moreValues(stored: valueCount)
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return values
    }

    /// Decodes frames stored with their word and value counts (as `decodeStoredFrame` each),
    /// several at a time where the coder can (one lane: four frames in one loop,
    /// `InterleavedFrames`, in `loop`); per frame its values or its error.
    public func decodeStoredFrames(_ frames: [(words: PaddedStream, valueCount: Int)], loop: InnerLoop = .fastest) -> [Result<[UInt32], StoredFrameError>] {
        let decoded: [[UInt32]?]
        switch coder {
        case .huffman(let huffman) where huffman.lanes == 1 && frames.count >= InterleavedFrames.width:
            decoded = InterleavedFrames.decode(frames, coder: huffman, loop: loop)
        case .tans(let tans) where tans.lanes == 1 && frames.count >= InterleavedFrames.width:
            decoded = InterleavedFrames.decode(frames, coder: tans, loop: loop)
        default:
            return frames.map { frame in Result { () throws(StoredFrameError) -> [UInt32] in try decodeStoredFrame(frame.words, valueCount: frame.valueCount) } }
        }
        return zip(frames, decoded).map { frame, values in
            // A frame the loop could not finish is decoded alone, which names its problem.
            values.map { .success($0) } ?? Result { () throws(StoredFrameError) -> [UInt32] in try decodeStoredFrame(frame.words, valueCount: frame.valueCount) }
        }
    }

    private func decodeStoredFrame(_ words: PaddedStream, valueCount: Int, into sink: inout ValueSink) throws(StoredFrameError) {
        try words.withReader { (reader: inout BitReader) throws(StoredFrameError) in
            do throws(FrameDecodeError) {
                try decodeFrame(&reader, into: &sink, limit: valueCount)
            } catch {
                switch error.root {
                case .truncated(let bit): throw .runsPastWords(bit: bit, words: words.byteCount / 4)
                case .tooManyValues: throw .moreValues(stored: valueCount)
                default: throw .corrupt(error)
                }
            }
            guard sink.count == valueCount else { throw .fewerValues(decoded: sink.count, stored: valueCount) }
            guard reader.position == reader.bitCount else {
                throw .endsBeforeWords(endWord: reader.position / 32, words: reader.bitCount / 32)
            }
        }
    }

    /// Decodes one frame, whichever the coder.
    func decodeFrame(_ reader: inout BitReader, into sink: inout ValueSink, limit: Int) throws(FrameDecodeError) {
        switch coder {
        case .huffman(let h): try h.decodeFrame(&reader, into: &sink, limit: limit)
        case .tans(let t): try t.decodeFrame(&reader, into: &sink, limit: limit)
        }
    }
}

/// Frames encoded back to back, with where each ends.
public struct EncodedFrames: Sendable, Equatable {
    /// The frames' bytes (a whole number of 32-bit words).
    public let bytes: [UInt8]
    /// Per frame, the byte offset just past its padding.
    public let frameEnds: [Int]

    /// The bytes as 32-bit stream words (the first stream bit in bit 31), each with whether it
    /// is the last word of its frame: the beats a decoder core takes and an encoder core writes.
    public var words: [(word: UInt32, endsFrame: Bool)] {
        let ends = Set(frameEnds)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            let high = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16
            return (high | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3]), ends.contains(i + 4))
        }
    }
}

/// The most a frame, a stream file's frame or a codebook may hold: bounds on memory that no
/// file can push past.
public enum StreamLimits {
    /// The frame size of `hwgen encode` and the hardware tANS encoder's MAX_FRAME alike, so the
    /// software and hardware encoders write the same stream by default.
    public static let defaultFrameValues = 4096
    /// Values in one frame (the encoder's frame size is at most this).
    public static let maxFrameValues = 1 << 24
    /// 32-bit words in one stored frame: 16 Mi values of at most 48 bits each fit.
    public static let maxFrameWords = 1 << 25
    /// Bytes of codebook text (a codebook file, or the one a stream file holds).
    public static let maxCodebookBytes = 4 << 20
}

/// The result of decoding a stream.
public struct DecodedStream: Sendable, Equatable {
    public let values: [UInt32]
    /// Values per frame, in order (0 for an empty frame).
    public let frameSizes: [Int]

    public init(values: [UInt32], frameSizes: [Int]) {
        self.values = values
        self.frameSizes = frameSizes
    }
}

/// A stream that cannot be encoded or decoded.
public enum StreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case valueTooWide(index: Int, value: UInt32, valueBits: Int)
    case frameSizesMismatch(values: Int, total: Int)
    case invalidFrameSize(Int)
    case frameTooLarge(Int)
    /// Frame `frame` (counted from 1) is corrupt.
    case corruptFrame(frame: Int, FrameDecodeError)

    public var description: String {
        switch self {
        case .valueTooWide(let index, let value, let bits):
            return "value \(value) at index \(index) does not fit in the codebook's \(bits) value bits"
        case .frameSizesMismatch(let values, let total):
            return "frame sizes add up to \(total) but there are \(values) values"
        case .invalidFrameSize(let size):
            return "frame size must be positive, is \(size)"
        case .frameTooLarge(let size):
            return "a frame of \(size) values is larger than the most a frame may hold (\(StreamLimits.maxFrameValues))"
        case .corruptFrame(let frame, let error):
            return "corrupt stream: frame \(frame): \(error)"
        }
    }
}

extension FrameDecodeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidCode(let bit):
            return "no code starts at bit \(bit) (byte \(bit / 8))"
        case .truncated(let bit):
            return "the stream ends inside the frame (value starting at bit \(bit))"
        case .badFinalState(let bit, let state):
            return "EOF at bit \(bit) left tANS state \(state), not 0"
        case .tooManyValues(let bit, let limit):
            return "the frame goes on past \(limit) values (by bit \(bit))"
        case .inLane(let lane, let entry, let error):
            return "lane \(lane), entry \(entry): \(error)"
        }
    }
}

/// Why a stored frame (word count, value count, words) does not decode as stored.
public enum StoredFrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case corrupt(FrameDecodeError)
    /// The frame's bits run past its words.
    case runsPastWords(bit: Int, words: Int)
    case moreValues(stored: Int)
    case fewerValues(decoded: Int, stored: Int)
    /// EOF and padding end at word `endWord` of `words`.
    case endsBeforeWords(endWord: Int, words: Int)

    public var description: String {
        switch self {
        case .corrupt(let error): return "\(error)"
        case .runsPastWords(let bit, let words): return "the frame runs past its \(words) word(s) (value starting at bit \(bit))"
        case .moreValues(let stored): return "decodes to more values than the \(stored) its header says"
        case .fewerValues(let decoded, let stored): return "decodes to \(decoded) values, its header says \(stored)"
        case .endsBeforeWords(let end, let words): return "its EOF ends the frame after word \(end) of its \(words)"
        }
    }
}
