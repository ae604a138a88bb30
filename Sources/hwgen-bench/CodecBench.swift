import Codec
import Foundation
import Training

/// huff0 and FSE figures from `../shared/peers` (built there by `cc`, never copied): M symbols/s.
struct PeerFigures {
    var huffmanEncode = 0.0, huffmanDecode = 0.0, tansEncode = 0.0, tansDecode = 0.0
    var huffmanBits = 0.0, tansBits = 0.0

    /// Builds `entropy_bench` into `buildDirectory` and runs it on `symbols` (one byte each).
    static func measure(symbols: [UInt8], peers: String, buildDirectory: String) throws -> PeerFigures {
        try FileManager.default.createDirectory(atPath: buildDirectory, withIntermediateDirectories: true)
        let lib = peers + "/FiniteStateEntropy/lib"
        let binary = buildDirectory + "/entropy_bench"
        let sources = ["huf_compress", "huf_decompress", "fse_compress", "fse_decompress", "entropy_common", "hist"].map { "\(lib)/\($0).c" }
        try run("/usr/bin/env", ["cc", "-O3", "-march=native", "-DNDEBUG", "-I", lib, peers + "/entropy_bench.c"] + sources + ["-o", binary])
        let input = buildDirectory + "/exponents.bin"
        try Data(symbols).write(to: URL(fileURLWithPath: input))
        let output = try run(binary, [input, "65536"])
        var figures = PeerFigures()
        for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            switch parts[0] {
            case "huf_enc": figures.huffmanEncode = value
            case "huf_dec": figures.huffmanDecode = value
            case "huf_bits_per_symbol": figures.huffmanBits = value
            case "fse_enc": figures.tansEncode = value
            case "fse_dec": figures.tansDecode = value
            case "fse_bits_per_symbol": figures.tansBits = value
            default: break
            }
        }
        return figures
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TrainingError.invalidOption("\(tool) \(arguments.prefix(3).joined(separator: " ")) ... failed (exit \(process.terminationStatus))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `values` coded in frames of 65,536 as a stream file stores them: each frame's words and value count.
func storedFrames(_ values: [UInt32], codec: StreamCodec) throws -> [(words: PaddedStream, valueCount: Int)] {
    var frames: [(words: PaddedStream, valueCount: Int)] = []
    var start = 0
    for size in try StreamCodec.frameSizes(count: values.count, frameSize: 65536) {
        frames.append((PaddedStream(try codec.encode(Array(values[start..<(start + size)]), frameSizes: [size])), size))
        start += size
    }
    return frames
}

/// The best of 9 timings of decoding `frames` four at a time in `loop`; throws unless they
/// decode to `values` values.
func timeStoredFrames(_ frames: [(words: PaddedStream, valueCount: Int)], codec: StreamCodec, loop: InnerLoop, values: Int) throws -> Double {
    var decoded = 0
    let time = try bestOf(9) {
        decoded = 0
        for result in codec.decodeStoredFrames(frames, loop: loop) { decoded += try result.get().count }
    }
    guard decoded == values else { throw TrainingError.invalidOption("stored frames decoded to \(decoded) values, not \(values)") }
    return time
}

/// Reference-coder speed on real bf16 tensors, one core, against huff0 and FSE run on the
/// exponent bytes of the same values in the same run, for K = 1, 2, 4, 8, 16 lanes; then the
/// whole decode of a stream file (frames read, checked, decoded, turned into bytes) on one thread.
///
/// `coders`, `laneCounts` and `parts` narrow the run (`--coder huffman --lanes 4 --part bare`,
/// for profiling one loop; parts: bare, stored, bytes, file).
func codecBench(dataDirectory: String?, coders: [TrainingOptions.CoderKind] = [.huffman, .tans], laneCounts: [Int] = [1, 2, 4, 8, 16],
                parts: Set<String> = ["bare", "stored", "bytes", "file"]) throws {
    let dir = dataDirectory ?? "../shared/data"
    let path = dir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors"
    let values = try TensorValues.load(path: path, tensors: "layer\\.1\\..*pre_gelu").all
    let n = Double(values.count)
    print("codec: \(values.count) bf16 values (MiniLM layer 1 FFN1 pre-GELU), frames of 65,536, one core, best of 9 runs")
    let peers = try PeerFigures.measure(symbols: values.map { UInt8(($0 >> 7) & 0xFF) },
                                        peers: URL(fileURLWithPath: dir).deletingLastPathComponent().appendingPathComponent("peers").path,
                                        buildDirectory: "build/bench")
    print(String(format: "peers on the exponent bytes: huff0 encode %.0f, decode %.0f M symbols/s (%.3f bits); FSE encode %.0f, decode %.0f (%.3f bits)",
                 peers.huffmanEncode, peers.huffmanDecode, peers.huffmanBits, peers.tansEncode, peers.tansDecode, peers.tansBits))
    print("hwgen codes whole bf16 values (exponent coded, sign and mantissa carried, 16-bit values rebuilt); the peers code the exponent bytes only")

    for coder in coders where parts.contains("bare") {
        let trained = try Trainer.train(values, valueBits: 16, options: TrainingOptions(name: "bench", coder: coder)).best.codebook
        let peerEncode = coder == .huffman ? peers.huffmanEncode : peers.tansEncode
        let peerDecode = coder == .huffman ? peers.huffmanDecode : peers.tansDecode
        let (encodeTarget, decodeTarget) = coder == .huffman ? (0.5, 0.5) : (1.0, 1.0)
        for lanes in laneCounts {
            var book = trained
            book.lanes = lanes
            let codec = StreamCodec(codebook: book)
            var stream: [UInt8] = []
            let encode = try bestOf(9) { stream = try codec.encode(values, frameSize: 65536) }
            var decoded: DecodedStream? = nil
            let decode = try bestOf(Int(ProcessInfo.processInfo.environment["HWGEN_BENCH_RUNS"] ?? "") ?? 9) { decoded = try codec.decode(stream) }
            guard decoded?.values == values else { throw TrainingError.invalidOption("\(coder) K=\(lanes) round trip failed in the benchmark") }
            let e = n / encode / 1e6, d = n / decode / 1e6
            report("\(coder.rawValue) K=\(lanes) (\(String(format: "%.4f", Double(stream.count * 8) / n)) bits/value)",
                   String(format: "encode %7.1f (%.2f x peer, target %.1f)  decode %7.1f M values/s (%.2f x peer, target %.1f)",
                          e, e / peerEncode, encodeTarget, d, d / peerDecode, decodeTarget))
        }
    }

    // Stored frames (a stream file's, CRC aside) decoded one at a time and, where the codec
    // can, four at a time in one loop (`decodeStoredFrames`), for K = 1.
    for coder in coders where laneCounts.contains(1) && parts.contains("stored") {
        let book = try Trainer.train(values, valueBits: 16, options: TrainingOptions(name: "bench", coder: coder)).best.codebook
        let codec = StreamCodec(codebook: book)
        let frames = try storedFrames(values, codec: codec)
        var decoded = 0
        let alone = try bestOf(9) {
            decoded = 0
            for frame in frames { decoded += try codec.decodeStoredFrame(frame.words, valueCount: frame.valueCount).count }
        }
        guard decoded == values.count else { throw TrainingError.invalidOption("stored frames decoded to \(decoded) values, not \(values.count)") }
        let swiftLoop = try timeStoredFrames(frames, codec: codec, loop: .swift, values: values.count)
        let together = try timeStoredFrames(frames, codec: codec, loop: .fastest, values: values.count)
        report("stored frames, \(coder.rawValue) K=1: one / four at a time",
               String(format: "%7.1f / %7.1f M values/s (%.2f x; the Swift loop %.1f, %.2f x peer; fastest %.2f x peer)", n / alone / 1e6, n / together / 1e6, alone / together,
                      n / swiftLoop / 1e6, n / swiftLoop / 1e6 / (coder == .huffman ? peers.huffmanDecode : peers.tansDecode),
                      n / together / 1e6 / (coder == .huffman ? peers.huffmanDecode : peers.tansDecode)))
    }

    // The peers' own task: the exponent bytes alone (an identity codebook, 8-bit symbols, no raw
    // bits), stored frames four at a time (Huffman: two symbols a lookup where the codes allow).
    for coder in coders where laneCounts.contains(1) && parts.contains("bytes") {
        let bytes = values.map { ($0 >> 7) & 0xFF }
        let book = try Trainer.train(bytes, valueBits: 8, options: TrainingOptions(name: "bytes", coder: coder, transform: .fixed(.identity, symbolBits: 8))).best.codebook
        let codec = StreamCodec(codebook: book)
        let frames = try storedFrames(bytes, codec: codec)
        let swiftLoop = try timeStoredFrames(frames, codec: codec, loop: .swift, values: bytes.count)
        let time = try timeStoredFrames(frames, codec: codec, loop: .fastest, values: bytes.count)
        let sizes = try StreamCodec.frameSizes(count: bytes.count, frameSize: 65536)
        let swiftEncode = try bestOf(9) { _ = try codec.encodeFrames(bytes[...], frameSizes: sizes, loop: .swift) }
        let encode = try bestOf(9) { _ = try codec.encodeFrames(bytes[...], frameSizes: sizes) }
        let d = n / time / 1e6, e = n / encode / 1e6
        let (peerEncode, peerDecode, peer) = coder == .huffman ? (peers.huffmanEncode, peers.huffmanDecode, "huff0") : (peers.tansEncode, peers.tansDecode, "FSE")
        report("exponent bytes alone, \(coder.rawValue) (as the peers)",
               String(format: "encode %7.1f (%.2f x %@; the Swift loop %.1f, %.2f x)  decode four at a time %7.1f M symbols/s (%.2f x %@; the Swift loop %.1f, %.2f x)",
                      e, e / peerEncode, peer, n / swiftEncode / 1e6, n / swiftEncode / 1e6 / peerEncode,
                      d, d / peerDecode, peer, n / swiftLoop / 1e6, n / swiftLoop / 1e6 / peerDecode))
    }

    // End to end on one thread: a stream file of the values, decoded to bytes as `hwgen decode`
    // does (read, CRC-32C, decode, little-endian bytes), for both coders at K = 1 and 8.
    for coder in coders where parts.contains("file") {
        let trained = try Trainer.train(values, valueBits: 16, options: TrainingOptions(name: "bench", coder: coder)).best.codebook
        for lanes in [1, 8] where laneCounts.contains(lanes) {
            var book = trained
            book.lanes = lanes
            let encoder = try StreamEncoder(codec: StreamCodec(codebook: book), frameSize: 65536, threads: 1,
                                            container: .file(codebookText: Array(book.jsonText().utf8)), sink: MemorySink())
            try encoder.add(values)
            try encoder.finish()
            let file = encoder.sink?.bytes ?? []
            var rates: [Double] = []
            for threads in [1, 2] {
                var outputBytes = 0
                let time = try bestOf(9) {
                    var reader = try StreamFileReader(MemorySource(file))
                    outputBytes = 0
                    _ = try StreamFileDecoder.decode(&reader, codec: StreamCodec(codebook: reader.codebook), threads: threads,
                                                     convert: { RawValues.packed($0, valueBits: 16) }, output: { outputBytes += $0.byteCount })
                }
                rates.append(Double(outputBytes) / time / 1e6)
            }
            report("end to end: decode a stream file, \(coder.rawValue) K=\(lanes)",
                   String(format: "%7.0f MB/s of bf16 output on one thread (target >= 1,000), %7.0f on two (%.2f x)", rates[0], rates[1], rates[1] / rates[0]))
        }
    }
}
