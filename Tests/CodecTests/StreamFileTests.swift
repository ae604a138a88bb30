import Codec
import Foundation
import Testing
import TestSupport

/// Writes a stream file from values cut into `frameSizes` (empty frames included), the way the
/// spec's `file.hex` vectors are made: frames coded by the reference coder, wrapped by the writer.
func streamFile(_ codebookText: [UInt8], _ values: [UInt32], frameSizes: [Int]) throws -> [UInt8] {
    let codec = StreamCodec(codebook: try Codebook.parse(codebookText))
    let encoded = try codec.encodeFrames(values[...], frameSizes: frameSizes)
    var writer = try StreamFileWriter(codebookText: codebookText, sink: MemorySink())
    var from = 0
    for (size, end) in zip(frameSizes, encoded.frameEnds) {
        try writer.append(FrameRecord(words: encoded.bytes[from..<end], valueCount: size))
        from = end
    }
    try writer.finish()
    return writer.sink.bytes
}

/// Decodes a stream file in memory: values and frame sizes.
func decodeFile(_ bytes: [UInt8], threads: Int = 1, codebook: Codebook? = nil, batchBytes: Int = 4 << 20) throws -> DecodedStream {
    var reader = try StreamFileReader(MemorySource(bytes))
    if let codebook, let field = reader.codebook.codingDifference(from: codebook) {
        throw StreamFileError.codebookDiffers(field: field)
    }
    var values: [UInt32] = []
    var sizes: [Int] = []
    _ = try StreamFileDecoder.decode(&reader, codec: StreamCodec(codebook: reader.codebook), threads: threads,
                                     batchBytes: batchBytes, convert: { $0 }, output: { values += $0; sizes.append($0.count) })
    return DecodedStream(values: values, frameSizes: sizes)
}

@Suite("Stream files (FORMAT.md section 11): conformance, damage, parallel decoding")
struct StreamFileTests {
    static let vectors: [ConformanceVector] = (try? ConformanceVector.all()) ?? []

    @Test("CRC-32C: the check value, and combine agrees with one pass over any split")
    func crc() {
        #expect(CRC32C.checksum(of: Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum(of: [UInt8]()) == 0)
        var random = SeededRandom(seed: 5)
        for _ in 0..<200 {
            let bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let cut = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
            let a = Array(bytes[..<cut]), b = Array(bytes[cut...])
            #expect(CRC32C.combine(CRC32C.checksum(of: a), CRC32C.checksum(of: b), secondLength: b.count) == CRC32C.checksum(of: bytes))
            #expect(CRC32C.update(CRC32C.checksum(of: a), with: b) == CRC32C.checksum(of: bytes))
        }
        // A byte-at-a-time CRC (the definition) agrees with the slicing-by-8 one.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 ^ 0x5A) }
        var register: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            register ^= UInt32(byte)
            for _ in 0..<8 { register = register & 1 != 0 ? (register >> 1) ^ 0x82F6_3B78 : register >> 1 }
        }
        #expect(~register == CRC32C.checksum(of: bytes))
        // The processor's instruction (where used) and the tables agree on every length and alignment.
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 63, 64, 65, 500] where start + length <= bytes.count {
                let piece = bytes[start..<(start + length)]
                let software = piece.withUnsafeBytes { CRC32C.softwareUpdate(0x1234_5678, with: $0) }
                #expect(CRC32C.update(0x1234_5678, with: piece) == software, "start \(start), length \(length)")
            }
        }
    }

    @Test("the writer gives file.hex byte for byte", arguments: vectors)
    func write(_ vector: ConformanceVector) throws {
        #expect(try streamFile(vector.codebookBytes, vector.values, frameSizes: vector.frameSizes) == vector.file)
    }

    @Test("the reader gives values.hex, frames.txt and the codebook text back", arguments: vectors)
    func read(_ vector: ConformanceVector) throws {
        let decoded = try decodeFile(vector.file)
        #expect(decoded.values == vector.values)
        #expect(decoded.frameSizes == vector.frameSizes)
        let reader = try StreamFileReader(MemorySource(vector.file))
        #expect(reader.codebookText == vector.codebookBytes)
    }

    @Test("every cut of a file, at every byte, is an error",
          arguments: vectors.filter { $0.file.count < TestScale.pick(quick: 600, long: 20_000) })
    func everyTruncation(_ vector: ConformanceVector) throws {
        for cut in 0..<vector.file.count {
            #expect(throws: StreamFileError.self, "cut at \(cut)") { try decodeFile(Array(vector.file[..<cut])) }
        }
    }

    @Test("every single-bit flip of a file is an error",
          arguments: vectors.filter { $0.file.count < TestScale.pick(quick: 310, long: 2000) })
    func everyBitFlip(_ vector: ConformanceVector) throws {
        var caught = 0
        for bit in 0..<(vector.file.count * 8) {
            var damaged = vector.file
            damaged[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            do {
                _ = try decodeFile(damaged)
                Issue.record("flip of bit \(bit) decoded without an error")
            } catch {
                caught += 1
            }
        }
        #expect(caught == vector.file.count * 8)
    }

    /// A file of case 05 (bf16, four frames) to damage field by field.
    static func sample() throws -> (ConformanceVector, [UInt8]) {
        let vector = try #require(vectors.first { $0.name.hasPrefix("05") })
        return (vector, vector.file)
    }

    /// Word `i` of `bytes` set to `value`.
    static func setWord(_ bytes: inout [UInt8], _ i: Int, _ value: UInt32) {
        for k in 0..<4 { bytes[4 * i + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(k))) }
    }

    static func word(_ bytes: [UInt8], _ i: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[4 * i + $1]) }
    }

    /// Replaces the file CRC so only the damage under test is left.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        setWord(&out, out.count / 4 - 1, CRC32C.checksum(of: out[..<(out.count - 4)]))
        return out
    }

    struct Damage: CustomTestStringConvertible, Sendable {
        let label: String
        let message: String
        let apply: @Sendable ([UInt8], Int) -> [UInt8]
        var testDescription: String { label }
    }

    /// Each damage of section 11's list, with the message that must name it; `apply` gets the
    /// file and the word index of frame 2's header.
    static let damages: [Damage] = [
        Damage(label: "another magic", message: "not a stream file") { b, _ in var b = b; b[0] = 0x41; return b },
        Damage(label: "another version", message: "version 2 is not supported") { b, _ in var b = b; setWord(&b, 1, 2); return b },
        Damage(label: "a codebook that breaks a rule", message: "stored codebook is invalid") { b, _ in
            // The coder "huffman" -> "huffmam": an unknown coder.
            var b = b
            let key = Array("\"huffman\"".utf8)
            if let i = (0..<(b.count - key.count)).first(where: { Array(b[$0..<($0 + key.count)]) == key }) { b[i + 7] = UInt8(ascii: "m") }
            return resealed(b)
        },
        Damage(label: "a codebook longer than the file", message: "the file ends early, in the codebook") { b, _ in
            var b = b; setWord(&b, 2, 0x0010_0000); return b
        },
        Damage(label: "a frame's CRC", message: "frame 2: its words have CRC-32C") { b, h in var b = b; b[4 * h + 11] ^= 1; return resealed(b) },
        Damage(label: "a frame's words", message: "frame 2: its words have CRC-32C") { b, h in var b = b; b[4 * h + 12] ^= 0x10; return b },
        Damage(label: "a frame's value count one more", message: "frame 2: decodes to 128 values, its header says 129") { b, h in
            var b = b; setWord(&b, h + 1, word(b, h + 1) + 1); return resealed(b)
        },
        Damage(label: "a frame's value count one fewer", message: "frame 2: decodes to more values than the 127") { b, h in
            var b = b; setWord(&b, h + 1, word(b, h + 1) - 1); return resealed(b)
        },
        Damage(label: "a frame's word count one fewer", message: "frame 2") { b, h in var b = b; setWord(&b, h, word(b, h) - 1); return resealed(b) },
        Damage(label: "a frame's word count one more", message: "frame 2") { b, h in var b = b; setWord(&b, h, word(b, h) + 1); return resealed(b) },
        Damage(label: "a frame's word count past the end", message: "the file ends early, in frame 2's words") { b, h in
            var b = b; setWord(&b, h, 1 << 24); return b
        },
        Damage(label: "a frame's word count past the limit", message: "frame 2: 4294967295 words, more than any frame") { b, h in
            var b = b; setWord(&b, h, .max); return b
        },
        Damage(label: "the end word", message: "the file ends early") { b, _ in var b = b; setWord(&b, b.count / 4 - 5, 7); return resealed(b) },
        Damage(label: "the value count", message: "the trailer's value count 504 differs from the frames' 503") { b, _ in
            var b = b; setWord(&b, b.count / 4 - 3, word(b, b.count / 4 - 3) + 1); return resealed(b)
        },
        Damage(label: "the frame count", message: "the trailer's frame count 5 differs from the 4 frame(s)") { b, _ in
            var b = b; setWord(&b, b.count / 4 - 2, 5); return resealed(b)
        },
        Damage(label: "the file CRC", message: "the file CRC-32C is") { b, _ in var b = b; b[b.count - 1] ^= 1; return b },
        Damage(label: "the codebook's provenance (covered by the file CRC)", message: "the file CRC-32C is") { b, _ in
            var b = b
            if let i = (0..<(b.count - 6)).first(where: { Array(b[$0..<($0 + 6)]) == Array("oracle".utf8) }) { b[i] = UInt8(ascii: "O") }
            return b
        },
        Damage(label: "bytes after the file CRC", message: "bytes after the file CRC") { b, _ in b + [0, 0, 0, 0] },
        Damage(label: "the last frame missing (cut at a frame boundary)", message: "the file ends early, in frame 5's header") { b, _ in
            Array(b[..<(b.count - 20)])
        },
    ]

    @Test("each damage of section 11 is an error that names it", arguments: damages)
    func damaged(_ damage: Damage) throws {
        let (_, file) = try Self.sample()
        // Frame 2's header: after the header, the codebook and frame 1.
        let codebookWords = (Int(Self.word(file, 2)) + 3) / 4
        let frame1 = 3 + codebookWords
        let frame2 = frame1 + 3 + Int(Self.word(file, frame1))
        do {
            _ = try decodeFile(damage.apply(file, frame2))
            Issue.record("decoded without an error")
        } catch {
            #expect("\(error)".contains(damage.message), "\(error)")
        }
    }

    @Test("a codebook given to the reader must code the same; name and provenance may differ")
    func codebookCheck() throws {
        let (vector, file) = try Self.sample()
        let stored = try Codebook.parse(vector.codebookBytes)
        var renamed = stored
        renamed.name = "other"
        renamed.provenance = nil
        #expect(try decodeFile(file, codebook: renamed).values == vector.values)
        guard case .huffman(var lengths) = stored.coder else { Issue.record("case 05 is Huffman"); return }
        lengths.swapAt(0, lengths.firstIndex { $0 > 0 && $0 != lengths[0] } ?? 1)
        let reordered = try Codebook(name: "x", coder: .huffman(codeLengths: lengths), layout: stored.layout)
        #expect(throws: StreamFileError.codebookDiffers(field: "codeLengths")) { try decodeFile(file, codebook: reordered) }
        let tans = try Codebook(name: "x", coder: .tans(tableLog: 8, counts: [Int](repeating: 0, count: 256) + [128, 128]), layout: stored.layout)
        #expect(throws: StreamFileError.codebookDiffers(field: "coder")) { try decodeFile(file, codebook: tans) }
    }

    @Test("decoding on 1, 2 and 5 threads gives the same values, over many batches")
    func threads() throws {
        var gen = RandomCodebooks(seed: 11)
        for _ in 0..<8 {
            let book = gen.codebook()
            let values = gen.values(count: 20_000, for: book)
            var sizes: [Int] = []
            var left = values.count
            while left > 0 {
                let n = min(left, Int(gen.random.next() % 700))
                sizes.append(n)
                left -= n
            }
            let file = try streamFile(Array(book.jsonText().utf8), values, frameSizes: sizes)
            let one = try decodeFile(file, threads: 1, batchBytes: 256)
            #expect(one.values == values)
            #expect(one.frameSizes == sizes)
            for threads in [2, 5] { #expect(try decodeFile(file, threads: threads, batchBytes: 256) == one) }
        }
    }

    @Test("StreamEncoder writes the same file as frame-by-frame writing, on any thread count")
    func encoder() throws {
        var gen = RandomCodebooks(seed: 12)
        for round in 0..<6 {
            let book = gen.codebook()
            let text = Array(book.jsonText().utf8)
            let values = gen.values(count: 3000 + round * 777, for: book)
            let frameSize = 1 + Int(gen.random.next() % 500)
            var sizes = Array(repeating: frameSize, count: values.count / frameSize)
            if values.count % frameSize != 0 { sizes.append(values.count % frameSize) }
            let expected = try streamFile(text, values, frameSizes: sizes)
            for threads in [1, 3] {
                let encoder = try StreamEncoder(codec: StreamCodec(codebook: book), frameSize: frameSize, threads: threads,
                                                container: .file(codebookText: text), sink: MemorySink())
                // Chunks that do not line up with frames.
                var start = 0
                while start < values.count {
                    let end = min(values.count, start + 1 + Int(gen.random.next() % 900))
                    try encoder.add(Array(values[start..<end]))
                    start = end
                }
                let summary = try encoder.finish()
                #expect(encoder.sink?.bytes == expected)
                #expect(summary.values == UInt64(values.count) && summary.frames == sizes.count && summary.bytes == UInt64(expected.count))
                let bare = try StreamEncoder(codec: StreamCodec(codebook: book), frameSize: frameSize, threads: threads,
                                             container: .bare, sink: MemorySink())
                try bare.add(values)
                try bare.finish()
                #expect(bare.sink?.bytes == (try StreamCodec(codebook: book).encode(values, frameSizes: sizes)))
            }
        }
    }

    @Test("a bare stream decodes from a source in pieces as it does whole, and a cut one fails")
    func bareSource() throws {
        var gen = RandomCodebooks(seed: 13)
        for _ in 0..<10 {
            let book = gen.codebook()
            let codec = StreamCodec(codebook: book)
            let values = gen.values(count: 5000, for: book)
            let stream = try codec.encode(values, frameSize: 1 + Int(gen.random.next() % 400))
            let whole = try codec.decode(stream)
            var source = TrickleSource(bytes: stream, step: 1 + Int(gen.random.next() % 37))
            var got: [UInt32] = []
            var sizes: [Int] = []
            _ = try StreamFileDecoder.decodeBare(&source, codec: codec) { got += $0; sizes.append($0.count) }
            #expect(got == whole.values && sizes == whole.frameSizes)
            var cut = MemorySource(Array(stream.dropLast(4)))
            #expect(throws: StreamError.self) { try StreamFileDecoder.decodeBare(&cut, codec: codec) { _ in } }
        }
    }

    @Test("a frame whose entries read no bits cannot decode past its value count")
    func valueBomb() throws {
        // Symbol 0 holds 28 of 32 states: most of its states read no bits, so a few words could
        // decode to millions of values.
        let book = try Codebook(name: "z", coder: .tans(tableLog: 5, counts: [28, 0, 2, 2]),
                                layout: ValueLayout(transform: .identity, symbolBits: 1, rawBits: 0))
        let codec = StreamCodec(codebook: book)
        let encoded = try codec.encodeFrames([UInt32](repeating: 0, count: 5000)[...], frameSizes: [5000])
        #expect(encoded.bytes.count < 5000 / 8)
        var writer = try StreamFileWriter(codebookText: Array(book.jsonText().utf8), sink: MemorySink())
        try writer.append(FrameRecord(words: encoded.bytes[...], valueCount: 10))
        try writer.finish()
        #expect(throws: StreamFileError.frame(frame: 1, .moreValues(stored: 10))) { try decodeFile(writer.sink.bytes) }
    }
}

/// A source that hands out at most `step` bytes per read, as a pipe may.
struct TrickleSource: ByteSource {
    let bytes: [UInt8]
    let step: Int
    var offset = 0

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(step, buffer.count, bytes.count - offset)
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
}
