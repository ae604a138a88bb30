// libFuzzer harness for every parser of untrusted input (`make fuzz`): codebook JSON, bare
// streams, stream files, safetensors files, raw value files, the training histograms, .npy
// files and histogram files.
// Built against the Codec, FileIO and Training modules compiled with coverage (see the Makefile).
//
// The first byte of an input picks the target, the rest is that target's input. Nothing may
// crash, hang, read out of bounds (AddressSanitizer), decode a value wider than the codebook's
// value bits, or accept a raw value that does not fit the declared width.

import Codec
import FileIO
import Foundation
import Training

let layouts = [
    ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0),
    ValueLayout(transform: .split, symbolBits: 4, rawBits: 3),
    ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8),
    ValueLayout(transform: .split, symbolBits: 1, rawBits: 31),
]

func makeBooks() -> [Codebook] {
    var books: [Codebook] = []
    do {
        books.append(try Codebook(name: "h1", coder: .huffman(codeLengths: [1, 2, 0, 0, 3, 3]), layout: layouts[0]))
        books.append(try Codebook(name: "t1", coder: .tans(tableLog: 5, counts: [12, 9, 0, 0, 6, 5]), layout: layouts[0]))
        // Incomplete code, escapes.
        books.append(try Codebook(name: "h2", coder: .huffman(codeLengths: [2, 3, 3, 4, 4, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6]), layout: layouts[1]))
        // A count above T/2: states that read no bits.
        books.append(try Codebook(name: "t2", coder: .tans(tableLog: 5, counts: [20, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4]), layout: layouts[1]))
        var lengths = [Int](repeating: 0, count: 258)
        for (i, s) in (112...127).enumerated() { lengths[s] = 2 + min(i, 12) }
        lengths[256] = 4
        lengths[257] = 14
        books.append(try Codebook(name: "h3", coder: .huffman(codeLengths: lengths), layout: layouts[2]))
        books.append(try Codebook(name: "t3", coder: .tans(tableLog: 6, counts: [40, 20, 3, 1]), layout: layouts[3]))
        // The same tables with lanes (section 9): K-lane word order, per-lane states.
        for (i, lanes) in [3, 5, 2, 8, 4, 32].enumerated() {
            var book = books[i]
            book.name += "_k\(lanes)"
            book.lanes = lanes
            books.append(book)
        }
    } catch {
        fatalError("fuzz codebooks are invalid: \(error)")
    }
    return books
}

let books = makeBooks()
let codecs = books.map { StreamCodec(codebook: $0) }
/// A private scratch file for the targets that read paths (safetensors, raw files).
let scratch = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()) + "/hwgen-fuzz-\(getpid())"

func fits(_ values: [UInt32], _ bits: Int) -> Bool { bits == 32 || values.allSatisfy { $0 >> UInt32(bits) == 0 } }

/// Codebook JSON: parse; a codebook that parses must code a few values both ways (with its lanes).
func fuzzCodebook(_ bytes: [UInt8]) {
    guard let book = try? Codebook.parse(bytes) else { return }
    precondition((try? Codebook.parse(Array(book.jsonText().utf8))) == book, "jsonText does not parse back to the codebook")
    guard book.symbolCount <= 1 << 8 else { return }  // keep iterations fast
    let codec = StreamCodec(codebook: book)
    let values = (0..<40).map { UInt32($0 * 2_654_435_761 & 0xFFFF_FFFF) >> UInt32(32 - book.layout.valueBits) }
    guard let stream = try? codec.encode(values, frameSize: 7) else { preconditionFailure("encode failed") }
    precondition((try? codec.decode(stream))?.values == values, "round trip failed for a parsed codebook")
    // (Six frames: one-lane tANS codes the first four in C; the Swift loops give the same bytes.)
    let sizes = [7, 7, 7, 7, 7, 5]
    precondition((try? codec.encodeFrames(values[...], frameSizes: sizes, loop: .swift))?.bytes == stream, "the Swift and C encode loops disagree")
}

/// Bare frames with one of the fixed codecs: an error, or values that fit and re-encode.
func fuzzBare(_ bytes: [UInt8]) {
    guard let selector = bytes.first else { return }
    let codec = codecs[Int(selector) % codecs.count]
    let stream = Array(bytes.dropFirst())
    if let decoded = try? codec.decode(stream) {
        precondition(fits(decoded.values, codec.layout.valueBits), "decoded a value wider than the value bits")
        precondition(decoded.frameSizes.reduce(0, +) == decoded.values.count)
        if let again = try? codec.encode(decoded.values, frameSizes: decoded.frameSizes) {
            precondition((try? codec.decode(again)) == decoded, "re-encoded stream decodes differently")
        }
    }
    fuzzStoredFrames(codec, stream, pieces: 4 + Int(selector) % 2)
    // The same bytes through the streaming bare decoder: the same outcome.
    var source = MemorySource(stream)
    var values: [UInt32] = []
    let streamed = try? StreamFileDecoder.decodeBare(&source, codec: codec) { values += $0 }
    precondition((streamed != nil) == ((try? codec.decode(stream)) != nil), "streaming and whole bare decoding disagree")
}

/// The same bytes cut into four or five stored frames (word-aligned pieces, each with the value
/// count it decodes to alone, or a count from its bytes): decoded four at a time
/// (`decodeStoredFrames`) exactly as one at a time, values or error.
func fuzzStoredFrames(_ codec: StreamCodec, _ stream: [UInt8], pieces: Int) {
    let words = stream.count / 4
    guard words >= pieces else { return }
    let per = words / pieces
    let frames = (0..<pieces).map { p -> (words: PaddedStream, valueCount: Int) in
        let piece = PaddedStream(Array(stream[(4 * p * per)..<(p == pieces - 1 ? 4 * words : 4 * (p + 1) * per)]))
        let alone = try? codec.decodeFrame(at: piece, byteOffset: 0)
        return (piece, alone?.values.count ?? 3 * Int(stream[4 * p * per]))
    }
    for (frame, together) in zip(frames, codec.decodeStoredFrames(frames)) {
        let alone = Result { () throws(StoredFrameError) -> [UInt32] in try codec.decodeStoredFrame(frame.words, valueCount: frame.valueCount) }
        switch (together, alone) {
        case (.success(let a), .success(let b)): precondition(a == b, "four at a time decoded other values than one at a time")
        case (.failure(let a), .failure(let b)): precondition(a == b, "four at a time failed otherwise than one at a time")
        default: preconditionFailure("four at a time and one at a time disagree on whether a frame decodes")
        }
    }
}

/// A stream file: every frame checked and decoded on two threads, or an error.
func fuzzStreamFile(_ bytes: [UInt8]) {
    guard var reader = try? StreamFileReader(MemorySource(bytes)) else { return }
    let codec = StreamCodec(codebook: reader.codebook)
    var values: [UInt32] = []
    guard (try? StreamFileDecoder.decode(&reader, codec: codec, threads: 2, batchBytes: 64, convert: { $0 }, output: { values += $0 })) != nil else { return }
    precondition(fits(values, codec.layout.valueBits), "a stream file decoded a value wider than the value bits")
}

func withScratch(_ bytes: ArraySlice<UInt8>, suffix: String, _ body: (String) -> Void) {
    let path = scratch + suffix
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    defer { unlink(path) }
    body(path)
}

/// A safetensors file: header checks, then every selected tensor read in small chunks.
func fuzzSafetensors(_ bytes: [UInt8]) {
    withScratch(bytes[...], suffix: ".safetensors") { path in
        guard let input = try? TensorInput.open(path: path) else { return }
        var total = 0
        var statistics = HistogramAccumulator(valueBits: min(input.valueBits, 16),
                                              layouts: [ValueLayout(transform: .split, symbolBits: 1, rawBits: min(input.valueBits, 16) - 1)])
        _ = try? input.forEachChunk(97) { part, values in
            precondition(fits(values, input.valueBits), "a tensor gave a value wider than its dtype")
            total += values.count
            if input.valueBits <= 16 { try statistics.add(values) }
        }
        precondition(total <= input.parts.reduce(0) { $0 + ($1.count ?? 0) }, "more values than the shapes hold")
    }
}

/// A raw value file at a width picked by the second byte: values that do not fit are an error
/// unless masked, and then they fit.
func fuzzRaw(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let bits = 1 + Int(bytes[0]) % 32
    let mask = bytes[1] & 1 == 1
    withScratch(bytes[2...], suffix: ".raw") { path in
        guard let input = try? TensorInput.open(path: path, raw: RawInputOptions(valueBits: bits, maskWideValues: mask)) else { return }
        _ = try? input.forEachChunk(13) { _, values in precondition(fits(values, bits), "a raw value wider than --value-bits got through") }
    }
}

/// Histograms and training on values of a width picked by the first byte.
func fuzzTraining(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let bits = 1 + Int(first) % 12
    var values: [UInt32] = []
    var i = 1
    while i + 2 <= bytes.count {
        values.append(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8)
        i += 2
    }
    let coder: TrainingOptions.CoderKind = first & 0x80 == 0 ? .huffman : .tans
    let options = TrainingOptions(name: "f", coder: coder, transform: .auto, maxCodeLength: 1 + Int(first) % 16, tableLog: 5 + Int(first) % 4, shardSize: 1 + values.count / 3)
    guard var statistics = try? Trainer.accumulator(valueBits: bits, options: options) else { return }
    do {
        try statistics.add(values)
    } catch {
        precondition(!fits(values, bits), "values that fit were refused")
        return
    }
    guard let trained = try? Trainer.train(statistics, options: options) else { return }
    let codec = StreamCodec(codebook: trained.best.codebook)
    guard let stream = try? codec.encode(values, frameSize: 5) else { preconditionFailure("a trained codebook cannot encode its training values") }
    precondition((try? codec.decode(stream))?.values == values, "a trained codebook does not round-trip its training values")
}

/// NumPy files: the header parsed, the data read as values of its dtype, which must fit it.
func fuzzNpy(_ bytes: [UInt8]) {
    withScratch(bytes[...], suffix: ".npy") { path in
        guard let input = try? TensorInput.open(path: path) else { return }
        var seen = 0
        _ = try? input.forEachChunk(7) { _, values in
            precondition(fits(values, input.valueBits), "an .npy value wider than its dtype got through")
            seen += values.count
        }
        precondition(input.parts.first?.count.map { $0 == seen } ?? true, "an .npy file gave another number of values than its shape says")
    }
}

/// Histogram files: a file that parses trains (or fails with an error) and merges with itself.
func fuzzHistogramFile(_ bytes: [UInt8]) {
    guard let file = try? HistogramFile.parse(bytes, path: "fuzz") else { return }
    var doubled = file
    try? doubled.merge(file, path: "fuzz")
    precondition(doubled.values == 2 * file.values, "a histogram merged with itself does not double")
    guard file.valueBits <= 12, let layouts = try? Trainer.candidateLayouts(valueBits: file.valueBits, choice: .auto),
          let statistics = try? file.accumulator(for: layouts) else { return }
    _ = try? Trainer.train(statistics, options: TrainingOptions(name: "f", coder: file.values % 2 == 0 ? .huffman : .tans, transform: .auto))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let target = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch target % 8 {
    case 0: fuzzCodebook(rest)
    case 1: fuzzBare(rest)
    case 2: fuzzStreamFile(rest)
    case 3: fuzzSafetensors(rest)
    case 4: fuzzRaw(rest)
    case 5: fuzzTraining(rest)
    case 6: fuzzNpy(rest)
    default: fuzzHistogramFile(rest)
    }
    return 0
}
