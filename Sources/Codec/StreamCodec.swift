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
        case .huffman(let lengths): coder = .huffman(HuffmanCoder(layout: codebook.layout, codeLengths: lengths))
        case .tans(let tableLog, let counts): coder = .tans(TANSCoder(layout: codebook.layout, tableLog: tableLog, counts: counts))
        }
    }

    public var layout: ValueLayout { codebook.layout }

    /// Encodes `values` cut into frames of `frameSizes` values each (they must add up to
    /// `values.count`; a 0 is an empty frame).
    /// - Throws: `StreamError.valueTooWide` for a value that does not fit in valueBits.
    public func encode(_ values: [UInt32], frameSizes: [Int]) throws(StreamError) -> [UInt8] {
        guard frameSizes.allSatisfy({ $0 >= 0 }), frameSizes.reduce(0, +) == values.count else {
            throw .frameSizesMismatch(values: values.count, total: frameSizes.reduce(0, +))
        }
        let valueBits = layout.valueBits
        // One vectorisable pass; the index is looked for only when some value is too wide.
        if valueBits < 32, values.reduce(0, |) >> UInt32(valueBits) != 0,
           let bad = values.firstIndex(where: { $0 >> UInt32(valueBits) != 0 }) {
            throw .valueTooWide(index: bad, value: values[bad], valueBits: valueBits)
        }
        let writer = BitWriter(capacity: values.count * (valueBits / 8 + 1) + 4 * frameSizes.count)
        var starts = [0]
        for size in frameSizes { starts.append(starts[starts.count - 1] + size) }
        let frames = frameSizes.indices.map { values[starts[$0]..<starts[$0 + 1]] }
        switch coder {
        case .huffman(let h):
            for frame in frames { h.encodeFrame(frame, into: writer) }
        case .tans(let t):
            // tANS frames go in pairs, so two independent state chains overlap.
            var i = 0
            while i < frames.count {
                t.encodeFrames(frames[i], i + 1 < frames.count ? frames[i + 1] : nil, into: writer)
                i += 2
            }
        }
        return writer.finish()
    }

    /// Encodes `values` in frames of `frameSize` (the last may be shorter; no values: no frame).
    public func encode(_ values: [UInt32], frameSize: Int) throws(StreamError) -> [UInt8] {
        guard frameSize > 0 else { throw .invalidFrameSize(frameSize) }
        var sizes = Array(repeating: frameSize, count: values.count / frameSize)
        if values.count % frameSize != 0 { sizes.append(values.count % frameSize) }
        return try encode(values, frameSizes: sizes)
    }

    /// Decodes a whole stream: every frame until the bytes end.
    /// - Throws: `StreamError.corruptFrame` naming the frame (counted from 1) and the bit.
    public func decode(_ bytes: [UInt8]) throws(StreamError) -> DecodedStream {
        let stream = PaddedStream(bytes)
        return try stream.withReader { (reader: inout BitReader) throws(StreamError) -> DecodedStream in
            var sink = ValueSink(capacity: bytes.count)
            defer { sink.release() }
            var frameSizes: [Int] = []
            while reader.remaining > 0 {
                let before = sink.count
                do throws(FrameDecodeError) {
                    switch coder {
                    case .huffman(let h): try h.decodeFrame(&reader, into: &sink)
                    case .tans(let t): try t.decodeFrame(&reader, into: &sink)
                    }
                } catch {
                    throw .corruptFrame(frame: frameSizes.count + 1, error)
                }
                frameSizes.append(sink.count - before)
            }
            return DecodedStream(values: sink.array, frameSizes: frameSizes)
        }
    }
}

/// The result of decoding a stream.
public struct DecodedStream: Sendable, Equatable {
    public let values: [UInt32]
    /// Values per frame, in order (0 for an empty frame).
    public let frameSizes: [Int]
}

/// A stream that cannot be encoded or decoded.
public enum StreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case valueTooWide(index: Int, value: UInt32, valueBits: Int)
    case frameSizesMismatch(values: Int, total: Int)
    case invalidFrameSize(Int)
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
        case .corruptFrame(let frame, let error):
            switch error {
            case .invalidCode(let bit):
                return "corrupt stream: frame \(frame): no code starts at bit \(bit) (byte \(bit / 8))"
            case .truncated(let bit):
                return "corrupt stream: frame \(frame): the stream ends inside the frame (value starting at bit \(bit))"
            case .badFinalState(let bit, let state):
                return "corrupt stream: frame \(frame): EOF at bit \(bit) left tANS state \(state), not 0"
            }
        }
    }
}
