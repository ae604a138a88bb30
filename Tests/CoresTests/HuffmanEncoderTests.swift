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
    let frameSizes: [Int]
}

/// All encoder cases are built into one Verilator library (one link for all).
enum EncoderLibrary {
    static let cases: Result<[EncoderCase], Error> = Result {
        var cases: [EncoderCase] = []
        for vector in try ConformanceVector.all() {
            let book = try Codebook.parse(vector.codebookBytes)
            guard case .huffman = book.coder else { continue }
            // A hardware encoder cannot be asked for an empty frame (FORMAT.md section 8).
            cases.append(EncoderCase(codebook: book, module: try HuffmanEncoderCore.module(codebook: book),
                                     values: vector.values, frameSizes: vector.frameSizes.filter { $0 > 0 }))
        }
        var gen = RandomCodebooks(seed: 4242)
        for i in 0..<TestScale.pick(quick: 12, long: 220) {
            let book = gen.codebook(coder: "huffman", name: "rand\(i)")
            let values = gen.values(count: 50 + Int(gen.random.next() % 600), for: book)
            let frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 200), random: &gen.random)
            cases.append(EncoderCase(codebook: book, module: try HuffmanEncoderCore.module(codebook: book), values: values, frameSizes: frames))
        }
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map(\.module))
    }
}

@Suite("Huffman encoder core, bit-exact against the reference encoder")
struct HuffmanEncoderTests {
    @Test("conformance vectors and random codebooks: every word equals the reference stream, under random backpressure")
    func bitExact() throws {
        let library = try EncoderLibrary.library.get()
        var random = SeededRandom(seed: 17)
        for c in try EncoderLibrary.cases.get() {
            let codec = StreamCodec(codebook: c.codebook)
            let expected = try CoreHarness.referenceWords(codec, c.values, frameSizes: c.frameSizes)
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

    @Test("full rate: one value per cycle in steady state for the bf16 vector")
    func throughput() throws {
        let library = try EncoderLibrary.library.get()
        guard let c = try EncoderLibrary.cases.get().first(where: { $0.codebook.layout.transform == .bf16Exponent }) else {
            Issue.record("no bf16 case")
            return
        }
        let sim = try library.simulation(of: c.module.name)
        sim.reset()
        let values = Array(repeating: c.values, count: 20).flatMap { $0 }
        let frames = [values.count]
        let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), values, frameSizes: frames)
        let result = try sim.stream(StreamJob(input: values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: frames),
                                              expectedOutputs: expected.words.count))
        #expect(result.outputs == expected.words)
        #expect(Double(result.cycles) <= Double(values.count) * 1.01 + 20, "\(result.cycles) cycles for \(values.count) values")
    }
}
