/// What a whole encode wrote.
public struct EncodeSummary: Sendable, Equatable {
    public var values: UInt64 = 0
    public var frames = 0
    /// Bytes of coded frames (without a stream file's header, frame headers and trailer).
    public var frameBytes: UInt64 = 0
    /// Bytes written in all.
    public var bytes: UInt64 = 0
}

/// Cuts values handed over in chunks into frames of `frameSize` values (the last may be
/// shorter), codes several frames at once on `threads` threads, and writes them in order as a
/// stream file (section 11) or as bare frames (sections 5-9). Memory holds one batch of frames.
public final class StreamEncoder<Sink: ByteSink> {
    /// What to write.
    public enum Container {
        /// A stream file holding this codebook text, byte for byte.
        case file(codebookText: [UInt8])
        /// Frames back to back, as hardware takes them.
        case bare
    }

    public let codec: StreamCodec
    public let frameSize: Int
    public let threads: Int
    private var file: StreamFileWriter<Sink>?
    private var bareSink: Sink?
    private var pending: [UInt32] = []
    private var summary = EncodeSummary()
    private let batchValues: Int

    public init(codec: StreamCodec, frameSize: Int, threads: Int, container: Container, sink: Sink) throws {
        guard frameSize > 0, frameSize <= StreamLimits.maxFrameValues else {
            throw StreamError.frameTooLarge(frameSize)
        }
        self.codec = codec
        self.frameSize = frameSize
        self.threads = max(1, threads)
        // About 1 Mi values per thread per batch, in whole frames.
        batchValues = frameSize * max(1, ((1 << 20) * self.threads) / frameSize)
        switch container {
        case .file(let text): file = try StreamFileWriter(codebookText: text, sink: sink)
        case .bare: bareSink = sink
        }
        pending.reserveCapacity(batchValues)
    }

    /// Adds values; whole batches of frames are coded and written as they fill.
    /// - Throws: `StreamError.valueTooWide` naming the value's index among all values added.
    public func add(_ values: [UInt32]) throws {
        var start = 0
        while start < values.count {
            let take = min(values.count - start, batchValues - pending.count)
            pending.append(contentsOf: values[start..<(start + take)])
            start += take
            if pending.count == batchValues { try flush() }
        }
    }

    /// Codes what is left (the last frame may be shorter), writes the stream file's trailer.
    @discardableResult
    public func finish() throws -> EncodeSummary {
        try flush()
        if var writer = file {
            file = nil
            try writer.finish()
            summary.bytes = UInt64(writer.byteCount)
            file = writer
        } else {
            summary.bytes = summary.frameBytes
        }
        return summary
    }

    /// The sink, after `finish`.
    public var sink: Sink? { file?.sink ?? bareSink }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        let values = pending
        let frameSize = frameSize
        let frames = (values.count + frameSize - 1) / frameSize
        // Consecutive frames per worker: a group's frames are coded in one call.
        let groups = min(threads, frames)
        let perGroup = (frames + groups - 1) / groups
        let codec = codec
        let base = summary.values
        let coded = try ParallelBatch.map(count: groups, threads: threads) { (g: Int) throws(StreamError) -> [FrameRecord] in
            let first = g * perGroup, last = min(frames, first + perGroup)
            guard first < last else { return [] }
            let start = first * frameSize, end = min(values.count, last * frameSize)
            var sizes = [Int](repeating: frameSize, count: last - first)
            sizes[sizes.count - 1] = end - (last - 1) * frameSize
            let encoded: EncodedFrames
            do throws(StreamError) {
                encoded = try codec.encodeFrames(values[start..<end], frameSizes: sizes)
            } catch {
                if case .valueTooWide(let index, let value, let bits) = error {
                    throw .valueTooWide(index: Int(base) + start + index, value: value, valueBits: bits)
                }
                throw error
            }
            var records: [FrameRecord] = []
            var from = 0
            for (i, to) in encoded.frameEnds.enumerated() {
                records.append(FrameRecord(words: encoded.bytes[from..<to], valueCount: sizes[i]))
                from = to
            }
            return records
        }
        for record in coded.joined() {
            // Taken out while written to, so a value-type sink is not copied.
            if var writer = file {
                file = nil
                try writer.append(record)
                file = writer
            } else if var sink = bareSink {
                bareSink = nil
                try record.words.withUnsafeBytes { try sink.write($0) }
                bareSink = sink
            }
            summary.frames += 1
            summary.values += UInt64(record.valueCount)
            summary.frameBytes += UInt64(record.words.count)
        }
        pending.removeAll(keepingCapacity: true)
    }
}
