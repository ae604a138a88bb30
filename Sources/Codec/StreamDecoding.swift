import Dispatch

/// What a whole decode saw.
public struct DecodeSummary: Sendable, Equatable {
    public var frames = 0
    public var values: UInt64 = 0
    public init() {}
}

/// Runs work over the items of a batch on up to `threads` threads and keeps results in item order.
enum ParallelBatch {
    /// `work(i)` for every i in 0 ..< count; results in order, or the error of the lowest i that failed.
    static func map<T, E: Error>(count: Int, threads: Int, _ work: @Sendable (Int) throws(E) -> T) throws(E) -> [T] {
        let results = ResultSlots<T, E>(count: count)
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { results.set(i, Result { () throws(E) -> T in try work(i) }) }
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < count {
                    results.set(i, Result { () throws(E) -> T in try work(i) })
                    i += workers
                }
            }
        }
        return try results.collect()
    }
}

/// One slot per item, each written by exactly one worker before `collect`.
private final class ResultSlots<T, E: Error>: @unchecked Sendable {
    private var slots: [Result<T, E>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<T, E>) { slots[i] = r }
    func collect() throws(E) -> [T] {
        var out: [T] = []
        out.reserveCapacity(slots.count)
        for slot in slots {
            guard let slot else { continue }
            out.append(try slot.get())
        }
        return out
    }
}

/// Decodes stream files (section 11) with their frames spread over threads, and bare streams
/// (sections 5-9) frame by frame; both in bounded memory, handing each frame's result on in order.
public enum StreamFileDecoder {
    /// Decodes every frame of `reader`'s file on `threads` threads, then checks the trailer.
    /// Frames are gathered into batches of about `batchBytes` of words (or `batchValues`
    /// values) per thread. `convert` runs on the worker with each frame's values (to turn them
    /// into output bytes, say); `output` gets the results in frame order on the calling thread.
    /// Nothing is handed to `output` for a frame that fails, nor for any frame after it.
    public static func decode<Source: ByteSource, T>(
        _ reader: inout StreamFileReader<Source>, codec: StreamCodec, threads: Int,
        batchBytes: Int = 4 << 20, batchValues: Int = 4 << 20,
        convert: @escaping @Sendable (consuming [UInt32]) -> T, output: (T) throws -> Void
    ) throws -> DecodeSummary {
        var summary = DecodeSummary()
        let threads = max(1, threads)
        var done = false
        while !done {
            var batch: [StoredFrame] = []
            var bytes = 0, values = 0
            var readError: StreamFileError?
            while bytes < batchBytes * threads, values < batchValues * threads {
                do throws(StreamFileError) {
                    guard let frame = try reader.nextFrame() else {
                        done = true
                        break
                    }
                    bytes += frame.words.byteCount
                    values += frame.valueCount
                    batch.append(frame)
                } catch {
                    // The frames read before a damaged header are checked first: the damage
                    // may be theirs (a word count that took the next header's bytes).
                    readError = error
                    break
                }
            }
            // Groups of frames per work item: a one-lane codec decodes a group's frames
            // in one loop (`StreamCodec.decodeStoredFrames`).
            let frames = batch
            let group = InterleavedFrames.width
            let groups = (frames.count + group - 1) / group
            let results = ParallelBatch.map(count: groups, threads: threads) { (g: Int) -> [Result<T, StreamFileError>] in
                decodeGroup(frames[(g * group)..<min(frames.count, (g + 1) * group)], codec: codec, convert: convert)
            }
            // The first frame that failed, then a damaged header, before any output.
            var decoded: [T] = []
            decoded.reserveCapacity(frames.count)
            for result in results.joined() { decoded.append(try result.get()) }
            if let readError { throw readError }
            for (frame, values) in zip(frames, decoded) {
                try output(values)
                summary.frames += 1
                summary.values += UInt64(frame.valueCount)
            }
        }
        try reader.finish()
        return summary
    }

    /// The frames' values (converted), each checked against its CRC first; per frame its
    /// result, in order.
    static func decodeGroup<T>(_ frames: ArraySlice<StoredFrame>, codec: StreamCodec, convert: @Sendable (consuming [UInt32]) -> T) -> [Result<T, StreamFileError>] {
        let checked = frames.map { frame -> StreamFileError? in
            let computed = frame.words.withBytes { CRC32C.checksum(of: $0) }
            return computed == frame.storedCRC ? nil : .frameCRC(frame: frame.index, stored: frame.storedCRC, computed: computed)
        }
        let good = zip(frames, checked).filter { $0.1 == nil }.map(\.0)
        var decoded = codec.decodeStoredFrames(good.map { ($0.words, $0.valueCount) })
        var next = 0
        return zip(frames, checked).map { frame, crcError in
            if let crcError { return .failure(crcError) }
            guard next < decoded.count else { return .failure(.frame(frame: frame.index, .fewerValues(decoded: 0, stored: frame.valueCount))) }
            // Taken out of `decoded`, so `convert` gets the only reference to the values and
            // can reuse their storage (a shared array would be copied first).
            let result = decoded[next]
            decoded[next] = .success([])
            next += 1
            switch consume result {
            case .success(let values): return .success(convert(values))
            case .failure(let error): return .failure(.frame(frame: frame.index, error))
            }
        }
    }

    /// Decodes bare frames read from `source` one by one (they have no headers to find them by,
    /// so on one thread), handing each frame's values to `output`. The buffer holds a few MiB of
    /// stream, more only while one frame is longer than that.
    public static func decodeBare<Source: ByteSource>(
        _ source: inout Source, codec: StreamCodec, output: ([UInt32]) throws -> Void
    ) throws -> DecodeSummary {
        var summary = DecodeSummary()
        var pending: [UInt8] = []
        var atEnd = false
        let chunk = 4 << 20
        var consumedBits = 0  // stream bit position of pending[0], for messages
        var block = [UInt8](repeating: 0, count: 1 << 16)
        /// Reads up to `chunk` more bytes (until the source ends or they are there).
        func more() throws {
            var got = 0
            while got < chunk {
                let n = try block.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 {
                    atEnd = true
                    break
                }
                pending.append(contentsOf: block[0..<n])
                got += n
            }
        }
        while !(atEnd && pending.isEmpty) {
            if !atEnd && pending.count < chunk { try more() }
            let stream = PaddedStream(pending)
            var offset = 0
            var needMore = false
            while offset < stream.byteCount {
                let decoded: (values: [UInt32], end: Int)
                do throws(FrameDecodeError) {
                    decoded = try codec.decodeFrame(at: stream, byteOffset: offset)
                } catch {
                    if case .truncated = error.root, !atEnd, stream.byteCount - offset <= 4 * StreamLimits.maxFrameWords {
                        needMore = true
                        break
                    }
                    throw StreamError.corruptFrame(frame: summary.frames + 1, error.shifted(by: consumedBits))
                }
                try output(decoded.values)
                summary.frames += 1
                summary.values += UInt64(decoded.values.count)
                offset = decoded.end
            }
            pending.removeFirst(offset)
            consumedBits += 8 * offset
            if needMore { try more() }
        }
        return summary
    }
}

extension FrameDecodeError {
    /// The same error with its bit position moved by `bits` (a frame decoded from a buffer that
    /// starts `bits` into the stream).
    func shifted(by bits: Int) -> FrameDecodeError {
        switch self {
        case .invalidCode(let bit): return .invalidCode(bit: bit + bits)
        case .truncated(let bit): return .truncated(bit: bit + bits)
        case .badFinalState(let bit, let state): return .badFinalState(bit: bit + bits, state: state)
        case .tooManyValues(let bit, let limit): return .tooManyValues(bit: bit + bits, limit: limit)
        case .inLane(let lane, let entry, let inner): return .inLane(lane: lane, entry: entry, inner.shifted(by: bits))
        }
    }
}
