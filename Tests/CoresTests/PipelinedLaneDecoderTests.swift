import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// The pipelined K-lane decoders (P = Q = 1, Huffman and tANS) against the reference coder: the
/// lane vectors, random K-lane codebooks and real activations, under random backpressure, with
/// bit flips, resets in mid-frame, Icarus and lint.
@Suite("Pipelined K-lane decoders (P = 1, Huffman and tANS) through Verilator", .serialized)
struct PipelinedLaneDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let stream: [UInt8]
        let values: [UInt32]
        let frameSizes: [Int]
        var isVector = false
        var moduleName: String { "\(codebook.name)_decoder" }
        var last: [Bool] { CoreHarness.lastFlags(frameSizes: frameSizes.filter { $0 > 0 }) }
        var testDescription: String { "\(codebook.name) K=\(codebook.lanes)" }
    }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        for vector in try ConformanceVector.all() where vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            guard (try? PipelinedLaneDecoderCore.module(codebook: book)) != nil else { continue }
            cases.append(Case(codebook: book, stream: vector.stream, values: vector.values, frameSizes: vector.frameSizes, isVector: true))
        }
        // Real MiniLM activations (layer 4 post-GELU) through the example tables in 2 and 4 lanes.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*post_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 24_576, long: all.count)))
        let realFrames = Array(repeating: 4096, count: real.count / 4096) + (real.count % 4096 > 0 ? [real.count % 4096] : [])
        for (file, k) in [("minilm_ffn1_tans", 2), ("minilm_ffn1_tans", 4), ("minilm_ffn1_huffman", 2)] {
            let example = try Codebook.load(path: root.appendingPathComponent("examples/\(file).json").path)
            let book = try Codebook(name: "\(file)_p1_lanes\(k)", coder: example.coder, layout: example.layout, lanes: k)
            cases.append(Case(codebook: book, stream: try StreamCodec(codebook: book).encode(real, frameSizes: realFrames), values: real, frameSizes: realFrames))
        }
        for coder in ["tans", "huffman"] {
            var gen = RandomCodebooks(seed: coder == "tans" ? 1515 : 1516)
            var made = 0
            while made < TestScale.pick(quick: 10, long: 100) {
                let base = gen.codebook(coder: coder, name: "p1\(coder)\(made)")
                let k = [2, 3, 4, 5, 8, 32][made % 6]
                guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k),
                      (try? PipelinedLaneDecoderCore.module(codebook: book)) != nil else { continue }
                let values = gen.values(count: 40 + Int(gen.random.next() % 500), for: book)
                var frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 90), random: &gen.random)
                if made % 2 == 0 { frames.insert(0, at: Int(gen.random.next() % UInt64(frames.count))) }
                cases.append(Case(codebook: book, stream: try StreamCodec(codebook: book).encode(values, frameSizes: frames), values: values, frameSizes: frames))
                made += 1
            }
        }
        var gen = RandomCodebooks(seed: 1517)
        // EOF in 22 of 32 states (often nb = 0): frames whose bits end on a word boundary before
        // their last steps, in 3 lanes.
        let heavy = try CoreHarness.eofHeavyTANS(name: "tlanes_eof_heavy")
        let heavy3 = try Codebook(name: heavy.name, coder: heavy.coder, layout: heavy.layout, lanes: 3)
        let heavyValues = gen.values(count: 400, for: heavy3)
        let heavyFrames = CoreHarness.randomFrames(heavyValues.count, maxFrame: 7, random: &gen.random)
        cases.append(Case(codebook: heavy3, stream: try StreamCodec(codebook: heavy3).encode(heavyValues, frameSizes: heavyFrames),
                          values: heavyValues, frameSizes: heavyFrames))
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map { try PipelinedLaneDecoderCore.module(codebook: $0.codebook) })
    }

    static func run(_ sim: Simulation, _ stream: [UInt8], expected: Int? = nil, valid: Int = 1000, ready: Int = 1000, seed: UInt64 = 1,
                    maxCycles: UInt64? = nil) throws -> StreamResult {
        var job = StreamJob(input: CoreHarness.words(stream), expectedOutputs: expected)
        job.validPerMille = valid
        job.readyPerMille = ready
        job.seed = seed
        job.stopPort = "error"
        job.outputCapacity = expected.map { $0 + 64 } ?? (64 * stream.count + 1024)
        job.maxCycles = maxCycles ?? UInt64(200_000 + 100 * stream.count + 4 * (expected ?? 64 * stream.count))
        return try sim.stream(job)
    }

    @Test("every value and frame end of the lane vectors, random K-lane codebooks and real data, under random backpressure")
    func decodes() throws {
        let library = try Self.library.get()
        let cases = try Self.cases.get()
        // Vectors 14, 15, 16 and 18 (Huffman; 17 has entries over 32 bits), 19, 20 and 21 (tANS).
        #expect(cases.filter(\.isVector).count == 7, "lane vectors: \(cases.filter(\.isVector).map(\.codebook.name))")
        #expect(Set(cases.map(\.codebook.lanes)).isSuperset(of: [2, 3, 4, 5, 8, 32]))
        var random = SeededRandom(seed: 77)
        for c in cases {
            for (valid, ready) in [(1000, 1000), (600, 700), (900, 250), (150, 1000)] {
                let sim = try library.simulation(of: c.moduleName)
                sim.reset()
                let result = try Self.run(sim, c.stream, expected: c.values.count, valid: valid, ready: ready, seed: random.next())
                #expect(result.stop == .done, "\(c.testDescription): stopped \(result.stop) after \(result.outputs.count) of \(c.values.count)")
                #expect(result.protocolErrors == 0)
                let same = result.outputs == c.values.map(UInt64.init), lastSame = result.outputLast == c.last
                let difference = zip(result.outputs, c.values).enumerated().first { $0.element.0 != UInt64($0.element.1) }?.offset
                #expect(same, "\(c.testDescription) valid \(valid) ready \(ready): \(result.outputs.count) values, first difference at \(difference ?? min(result.outputs.count, c.values.count))")
                #expect(lastSame, "\(c.testDescription) tlast")
                if !same || !lastSame { return }
            }
        }
    }

    @Test("one value per cycle at full rate on real data, less the per-frame overhead")
    func throughput() throws {
        let library = try Self.library.get()
        for c in try Self.cases.get() where c.codebook.name.hasPrefix("minilm") {
            let sim = try library.simulation(of: c.moduleName)
            sim.reset()
            let result = try Self.run(sim, c.stream, expected: c.values.count)
            #expect(result.outputs == c.values.map(UInt64.init))
            let frames = c.frameSizes.count, k = c.codebook.lanes
            let perCycle = Double(c.values.count) / Double(result.cycles)
            print("Pipelined K-lane decoder \(c.testDescription): \(c.values.count) values in \(result.cycles) cycles, \(perCycle) values per cycle")
            // Per frame: EOF, the flushed step, (tANS) each lane's start and bubble; a few cycles to fill.
            let perFrame = c.codebook.coder.name == "tans" ? 2 * k + 3 : 3
            #expect(result.cycles <= c.values.count + frames * perFrame + 30, "\(c.testDescription): \(result.cycles) cycles")
        }
    }

    @Test("bit flips: error exactly where the reference reports a corrupt frame, else the reference's values")
    func bitFlips() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 303)
        var corrupt = 0, decoded = 0
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") && !c.stream.isEmpty {
            let codec = StreamCodec(codebook: c.codebook)
            let sim = try library.simulation(of: c.moduleName)
            for _ in 0..<TestScale.pick(quick: 6, long: 30) {
                var stream = c.stream
                let bit = Int(random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                sim.reset()
                switch TANSCorruptStreamTests.reference(codec, stream) {
                case .decoded(let values):
                    decoded += 1
                    let result = try Self.run(sim, stream, expected: values.count, ready: 700)
                    #expect(try sim.peek(sim.port("error")) == 0, "\(c.testDescription) bit \(bit): error, but the reference decodes the stream")
                    #expect(result.outputs == values.map(UInt64.init), "\(c.testDescription) bit \(bit)")
                case .corrupt:
                    corrupt += 1
                    _ = try Self.run(sim, stream, ready: 700)
                    #expect(try sim.peek(sim.port("error")) == 1, "\(c.testDescription) bit \(bit): the reference reports a corrupt frame, error stayed low")
                case .truncated:
                    _ = try Self.run(sim, stream, ready: 700)
                    #expect(try sim.peek(sim.port("error")) == 0, "\(c.testDescription) bit \(bit): a truncated stream is not an error in hardware")
                }
            }
        }
        #expect(corrupt > 0 && decoded > 0, "corrupt \(corrupt), decoded \(decoded)")
    }

    @Test("reset in mid-frame: the whole stream then decodes exactly, from an empty start")
    func resetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 404)
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") && c.values.count > 8 {
            let sim = try library.simulation(of: c.moduleName)
            for _ in 0..<3 {
                // Cut off after a random number of cycles: lanes hold bits and states, a value waits.
                sim.reset()
                let cut = try Self.run(sim, c.stream, ready: 500, seed: random.next(), maxCycles: 4 + random.next() % UInt64(2 * c.values.count))
                sim.reset()
                let result = try Self.run(sim, c.stream, expected: c.values.count, seed: random.next())
                #expect(result.outputs == c.values.map(UInt64.init), "\(c.testDescription): after a reset at cycle \(cut.cycles)")
                #expect(result.outputLast == c.last)
            }
        }
    }

    @Test("the lane vectors under Icarus")
    func icarus() throws {
        for c in try Self.cases.get() where c.isVector {
            let core = try PipelinedLaneDecoderCore.module(codebook: c.codebook)
            let words = CoreHarness.words(c.stream)
            let output = try IcarusBench.run(core, inWidth: 32, outWidth: c.codebook.layout.valueBits, input: words.map { ($0, false) },
                                             expected: zip(c.values.map(UInt64.init), c.last).map { ($0, $1) }, sLast: false, mLast: true)
            #expect(output.contains("PASS"), "\(c.testDescription): \(output)")
        }
    }

    @Test("lint-clean under verilator -Wall")
    func lint() throws {
        for c in try Self.cases.get() where c.isVector {
            try ExternalTools.lint(try PipelinedLaneDecoderCore.module(codebook: c.codebook))
        }
    }

    @Test("entries over 32 bits, one-lane codebooks and other beat widths are refused by name")
    func refuses() throws {
        // Vector 12's table (1 symbol bit, 31 raw bits) in 2 lanes: entries of up to 38 bits;
        // vector 17 (Huffman, 3 lanes): ESC entries of 44 bits.
        let vectors = try ConformanceVector.all()
        let one = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("12-") }).codebookBytes)
        let two = try Codebook(name: "wide", coder: one.coder, layout: one.layout, lanes: 2)
        #expect(throws: CoreError.self) { try PipelinedLaneDecoderCore.module(codebook: two) }
        #expect(throws: CoreError.self) { try PipelinedLaneDecoderCore.module(codebook: one) }
        let seventeen = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("17-") }).codebookBytes)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: seventeen, decoder: true, encoder: false, valuesPerBeat: 1) }
        let book = try #require(try Self.cases.get().first { $0.isVector && $0.codebook.coder.name == "tans" }).codebook
        // P other than 1 and K is refused (K = 2 here: P = 2 is the P = K decoder).
        #expect(book.lanes == 2)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: true, encoder: false, valuesPerBeat: 3) }
        #expect(try CoreGenerator.modules(for: book, decoder: true, encoder: false, valuesPerBeat: 2).first?.port(named: "m_axis_tkeep")?.width == 2)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: true, encoder: false, wordsPerBeat: 2) }
        // Both cores of a K-lane codebook: the pipelined decoder and the K-lane encoder.
        #expect(try CoreGenerator.modules(for: book, decoder: true, encoder: true).map(\.name) == ["\(book.name)_decoder", "\(book.name)_encoder"])
    }
}
