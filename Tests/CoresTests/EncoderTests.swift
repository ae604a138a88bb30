import Codec
import Cores
import HDL
import Testing
import TestSupport
import VerilatorBridge

/// A design under test: a codebook, its encoder module, and values in frames.
struct EncoderCase: Sendable {
    let codebook: Codebook
    let module: Module
    let values: [UInt32]
    /// The input frames (tlast on each one's last value).
    let frameSizes: [Int]
    /// The encoder's MAX_FRAME, where it is small enough to cut the input frames.
    var maxFrame: Int? = nil

    /// The frames of the stream: input frames cut at MAX_FRAME.
    var codedFrames: [Int] {
        guard let maxFrame else { return frameSizes }
        return frameSizes.flatMap { size in stride(from: 0, to: size, by: maxFrame).map { min(maxFrame, size - $0) } }
    }

    /// A random codebook rather than a conformance vector.
    var isRandom: Bool { codebook.name.hasPrefix("ehuffman") || codebook.name.hasPrefix("etans") || codebook.name == "ecut" }
    /// The one-lane tANS encoder with two frames in flight (`TANSPairEncoderCore`).
    var isPair: Bool { module.name.hasSuffix("_pair_encoder") }
}

/// Encoder cases of both coders: every conformance vector and random codebooks, all built into
/// one Verilator library (one link for all).
enum EncoderLibrary {
    static func encoder(_ book: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame) throws -> Module {
        guard let module = try CoreGenerator.modules(for: book, decoder: false, encoder: true, maxFrame: maxFrame).first else {
            throw CoreError.unsupported("no encoder for \(book.name)")
        }
        return module
    }

    /// The one-lane tANS encoder with two frames in flight, named apart from the one-frame encoder.
    static func pairEncoder(_ book: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame) throws -> Module {
        try TANSPairEncoderCore.module(codebook: book, maxFrame: maxFrame).renamed("\(book.name)_pair_encoder")
    }

    static let cases: Result<[EncoderCase], Error> = Result {
        var cases: [EncoderCase] = []
        for vector in try ConformanceVector.all() where !vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            // A hardware encoder cannot be asked for an empty frame (FORMAT.md section 8).
            cases.append(EncoderCase(codebook: book, module: try encoder(book),
                                     values: vector.values, frameSizes: vector.frameSizes.filter { $0 > 0 }))
        }
        for coder in ["huffman", "tans"] {
            var gen = RandomCodebooks(seed: coder == "huffman" ? 4242 : 4243)
            for i in 0..<TestScale.pick(quick: 12, long: 220) {
                let book = gen.codebook(coder: coder, name: "e\(coder)\(i)")
                let values = gen.values(count: 50 + Int(gen.random.next() % 600), for: book)
                let frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 200), random: &gen.random)
                cases.append(EncoderCase(codebook: book, module: try encoder(book), values: values, frameSizes: frames))
            }
        }
        // EOF's chunk often has no bits: a frame's last word is then the one before it (and must
        // still carry tlast).
        let eofHeavy = try CoreHarness.eofHeavyTANS(name: "etans_eof_heavy")
        var heavyGen = RandomCodebooks(seed: 780)
        let heavyValues = heavyGen.values(count: 1500, for: eofHeavy)
        cases.append(EncoderCase(codebook: eofHeavy, module: try encoder(eofHeavy), values: heavyValues,
                                 frameSizes: CoreHarness.randomFrames(heavyValues.count, maxFrame: 8, random: &heavyGen.random)))
        // A small MAX_FRAME: input frames longer than it are cut into frames of MAX_FRAME values.
        var gen = RandomCodebooks(seed: 99)
        let book = gen.codebook(coder: "tans", name: "ecut")
        let values = gen.values(count: 300, for: book)
        cases.append(EncoderCase(codebook: book, module: try encoder(book, maxFrame: 16), values: values, frameSizes: [1, 40, 16, 17, 226],
                                 maxFrame: 16))
        // Every one-lane tANS case again through the encoder with two frames in flight.
        cases += try cases.filter { $0.codebook.coder.name == "tans" && $0.codebook.lanes == 1 }.map { c in
            EncoderCase(codebook: c.codebook, module: try pairEncoder(c.codebook, maxFrame: c.maxFrame ?? TANSEncoderCore.defaultMaxFrame),
                        values: c.values, frameSizes: c.frameSizes, maxFrame: c.maxFrame)
        }
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map(\.module))
    }
}

@Suite("Encoder cores (Huffman and tANS), bit-exact against the reference encoder")
struct EncoderTests {
    @Test("conformance vectors and random codebooks: every word equals the reference stream, under random backpressure")
    func bitExact() throws {
        let library = try EncoderLibrary.library.get()
        var random = SeededRandom(seed: 17)
        for c in try EncoderLibrary.cases.get() {
            let codec = StreamCodec(codebook: c.codebook)
            let expected = try CoreHarness.referenceWords(codec, c.values, frameSizes: c.codedFrames)
            for (valid, ready) in [(1000, 1000), (700, 500), (300, 900)] {
                let sim = try library.simulation(of: c.module.name)
                sim.reset()
                var job = StreamJob(input: c.values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: c.frameSizes),
                                    expectedOutputs: expected.words.count)
                job.validPerMille = valid
                job.readyPerMille = ready
                job.seed = random.next()
                job.maxCycles = UInt64(100 * (c.values.count + expected.words.count) + 1000)
                let result = try sim.stream(job)
                #expect(result.stop == .done, "\(c.module.name): stopped \(result.stop) after \(result.outputs.count) of \(expected.words.count) words")
                #expect(result.protocolErrors == 0, "\(c.module.name)")
                #expect(result.outputs == expected.words, "\(c.module.name) valid \(valid) ready \(ready)")
                #expect(result.outputLast == expected.last, "\(c.module.name) tlast")
                if result.outputs != expected.words { return }
            }
        }
    }

    @Test("frames of one or two values back to back: each frame keeps its own state and EOF")
    func tinyFrames() throws {
        // The tANS encoder keeps a frame's final state and EOF chunk beside the chunk buffer
        // until the frame is written; with one-value frames the coding side runs two frames
        // ahead of the writing side, so those must not be overwritten early.
        let library = try EncoderLibrary.library.get()
        var random = SeededRandom(seed: 43)
        for c in try EncoderLibrary.cases.get() where c.isRandom && c.maxFrame == nil {
            let values = Array(c.values.prefix(60))
            var frames: [Int] = [], framed = 0
            while framed < values.count {
                frames.append(min(1 + Int(random.next() % 4 / 3), values.count - framed))
                framed += frames[frames.count - 1]
            }
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), values, frameSizes: frames)
            for (valid, ready) in [(1000, 1000), (1000, 300)] {
                let sim = try library.simulation(of: c.module.name)
                sim.reset()
                var job = StreamJob(input: values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: frames),
                                    expectedOutputs: expected.words.count)
                job.validPerMille = valid
                job.readyPerMille = ready
                job.maxCycles = UInt64(100 * (values.count + expected.words.count) + 1000)
                let result = try sim.stream(job)
                #expect(result.outputs == expected.words, "\(c.module.name) valid \(valid) ready \(ready)")
                #expect(result.outputLast == expected.last, "\(c.module.name) tlast")
                if result.outputs != expected.words { return }
            }
        }
    }

    @Test("full rate: one value per cycle in steady state on the bf16 vectors (Huffman and tANS)")
    func throughput() throws {
        let library = try EncoderLibrary.library.get()
        let bf16 = try EncoderLibrary.cases.get().filter { !$0.isRandom && $0.codebook.layout.transform == .bf16Exponent }
        #expect(Set(bf16.map(\.codebook.coder.name)) == ["huffman", "tans"])
        #expect(bf16.contains { $0.isPair })
        for c in bf16 {
            let sim = try library.simulation(of: c.module.name)
            sim.reset()
            let values = (0..<(20 * 512)).map { c.values[$0 % c.values.count] }
            // Frames of 512 values: the tANS encoder holds a frame before coding it, so the
            // first frame's words leave after about one frame time, then one value per cycle.
            let frames = [Int](repeating: 512, count: values.count / 512)
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), values, frameSizes: frames)
            let result = try sim.stream(StreamJob(input: values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: frames),
                                                  expectedOutputs: expected.words.count))
            #expect(result.outputs == expected.words)
            // Two frames in flight: the last frame alone codes at half a value per cycle (a frame more).
            let bound = Double(values.count) * 1.02 + Double(c.isPair ? 3 : 2) * 512 + 100
            #expect(Double(result.cycles) <= bound, "\(c.module.name): \(result.cycles) cycles for \(values.count) values")
        }
    }
}
