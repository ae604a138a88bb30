import Codec
import CoreSim
import Cores
import Foundation
import HDL
import HDLBlocks
import Testing
import TestSupport
import Training
import VerilatorBridge

/// The K-lane Huffman encoder at P = K values per beat against the reference encoder: every word
/// and frame end of the lane vectors, random K-lane codebooks over (K, Q), real activations and
/// special tables, with random tvalid/tready, section 10's beat rules on every output beat,
/// resets in mid-frame, Icarus and lint.
@Suite("K-lane Huffman encoder at P = K through Verilator", .serialized)
struct RoundEncoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let values: [UInt32]
        /// Input frames, all non-empty.
        let frameSizes: [Int]
        var wordsPerBeat: Int? = nil
        var isVector = false
        var testDescription: String { "\(codebook.name) K=\(codebook.lanes) Q=\(wordsPerBeat.map(String.init) ?? "default")" }
        func core() throws -> Module { try HuffmanRoundEncoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat) }
        func reference() throws -> [(word: UInt32, endsFrame: Bool)] {
            let stream = try CoreHarness.referenceWords(StreamCodec(codebook: codebook), values, frameSizes: frameSizes)
            return zip(stream.words, stream.last).map { (UInt32($0), $1) }
        }
    }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        for vector in try ConformanceVector.all() where vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            guard case .huffman = book.coder else { continue }
            let c = Case(codebook: book, values: vector.values, frameSizes: vector.frameSizes.filter { $0 > 0 }, isVector: true)
            guard (try? c.core()) != nil else { continue }
            cases.append(c)
        }
        // Real MiniLM activations (layer 4 post-GELU: they escape more than the training data).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*post_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 24_576, long: all.count)))
        let realFrames = Array(repeating: 4096, count: real.count / 4096) + (real.count % 4096 > 0 ? [real.count % 4096] : [])
        let example = try Codebook.load(path: root.appendingPathComponent("examples/minilm_ffn1_huffman_lanes8.json").path)
        cases.append(Case(codebook: example, values: real, frameSizes: realFrames))
        // Random K-lane codebooks; a third with a random Q.
        var gen = RandomCodebooks(seed: 1715)
        var made = 0
        while made < TestScale.pick(quick: 8, long: 110) {
            let base = gen.codebook(coder: "huffman", name: "renc\(made)")
            let k = [2, 3, 4, 5, 8, 16][made % 6]
            guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k) else { continue }
            let values = gen.values(count: 40 + Int(gen.random.next() % 500), for: book)
            let frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 90), random: &gen.random)
            var c = Case(codebook: book, values: values, frameSizes: frames)
            if made % 3 == 1 { c.wordsPerBeat = 1 + Int(gen.random.next() % UInt64(k)) }
            guard (try? c.core()) != nil else { continue }
            cases.append(c)
            made += 1
        }
        // Values of 31 and 32 bits (1 symbol bit, 30 raw bits): most rounds every lane fills a
        // word and opens the next, and a lane holding no bits takes a whole word at once.
        let wide = try Codebook(name: "renc_full_words", coder: .huffman(codeLengths: [1, 2, 3, 3]),
                                layout: ValueLayout(transform: .split, symbolBits: 1, rawBits: 30), lanes: 4)
        let wideValues = gen.values(count: 600, for: wide)
        cases.append(Case(codebook: wide, values: wideValues, frameSizes: CoreHarness.randomFrames(wideValues.count, maxFrame: 50, random: &gen.random)))
        // One-bit values (no raw bits, a 1-bit code): a lane's word stays open for 31 rounds
        // while the other lanes' words queue behind it; and frames of one value (a frame end
        // every two cycles).
        let tiny = try Codebook(name: "renc_one_bit", coder: .huffman(codeLengths: [1, 2, 3, 3]),
                                layout: ValueLayout(transform: .identity, symbolBits: 1, rawBits: 0), lanes: 5)
        let tinyValues = (0..<3000).map { _ in UInt32(gen.random.next() % 8 == 0 ? 1 : 0) }
        cases.append(Case(codebook: tiny, values: tinyValues, frameSizes: CoreHarness.randomFrames(tinyValues.count, maxFrame: 900, random: &gen.random)))
        cases.append(Case(codebook: tiny, values: Array(tinyValues.prefix(300)), frameSizes: Array(repeating: 1, count: 300), wordsPerBeat: 2))
        // A frame whose last word is full before its end is queued: in 2 lanes, lane 0's 17
        // values (15 of 2 bits, 2 of 1) fill its word in the last round, and lane 1's 16 values
        // (29 bits) and EOF (3 bits) fill the newest word; both leave in one beat, which must
        // carry tlast.
        let lane0: [UInt32] = Array(repeating: 1, count: 15) + [0, 0], lane1: [UInt32] = Array(repeating: 1, count: 13) + [0, 0, 0]
        let fullEnd = (0..<17).flatMap { i in i < 16 ? [lane0[i], lane1[i]] : [lane0[i]] }
        let two = try Codebook(name: "renc_ends_full", coder: tiny.coder, layout: tiny.layout, lanes: 2)
        cases.append(Case(codebook: two, values: Array(repeating: fullEnd, count: 12).flatMap { $0 }, frameSizes: Array(repeating: 33, count: 12), wordsPerBeat: 2))
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        // One top per (codebook, Q): cases that share both share a top.
        var seen: Set<String> = []
        var tops: [Module] = []
        for c in try cases.get() where seen.insert(topName(c)).inserted {
            let core = try c.core()
            tops.append(try LaneEncoderCheck.top(core, k: c.codebook.lanes, q: core.port(named: "m_axis_tkeep")?.width ?? 1,
                                                 valueBits: c.codebook.layout.valueBits, name: topName(c)))
        }
        return try SimulationBuilder().build(tops)
    }

    static func topName(_ c: Case) -> String { "\(c.codebook.name)_q\(c.wordsPerBeat ?? 0)_narrow" }

    @Test("the cases cover K = 2 to 16, Q = 1 to K, the lane vectors, and open words held for many rounds")
    func coverage() throws {
        let cases = try Self.cases.get()
        #expect(Set(cases.map(\.codebook.lanes)).isSuperset(of: [2, 3, 4, 5, 8, 16]))
        #expect(cases.filter(\.isVector).count == 4, "vectors 14, 15, 16 and 18 (17's entries are over 32 bits): \(cases.filter(\.isVector).map(\.codebook.name))")
        #expect(cases.contains { $0.wordsPerBeat == 1 } && cases.contains { ($0.wordsPerBeat ?? 0) > 1 })
        // Each lane's FIFO holds the words a lane fills while the oldest word is open.
        let tiny = try #require(cases.first { $0.codebook.name == "renc_one_bit" })
        #expect(try tiny.core().verilogFiles().contains { $0.contents.contains("fifo_mem [0:63]") }, "31 rounds open: 64-deep lane FIFOs")
    }

    @Test("every word and frame end equals the reference stream, beats keep 0..k-1 and end at a frame's end, under random valid/ready",
          arguments: [(100, 100), (60, 70), (90, 25), (15, 100)])
    func encodes(valid: Int, ready: Int) throws {
        let library = try Self.library.get()
        var seed: UInt64 = 31
        for c in try Self.cases.get() {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let sim = try library.simulation(of: Self.topName(c))
            sim.reset()
            let check = LaneEncoderCheck(codebook: c.codebook, validPercent: valid, readyPercent: ready, seed: seed)
            let drive = try check.drive(sim, values: c.values, words: try c.reference(), frameSizes: c.frameSizes)
            #expect(drive.mismatch == nil, "\(c.testDescription) valid \(valid) ready \(ready): \(drive.mismatch ?? "")")
            if drive.mismatch != nil { return }
        }
    }

    @Test("real activations at K = 8: close to 8 values per cycle at full rate")
    func throughput() throws {
        let library = try Self.library.get()
        let c = try #require(try Self.cases.get().first { $0.codebook.name == "minilm_ffn1_lanes8" })
        let sim = try library.simulation(of: Self.topName(c))
        sim.reset()
        let drive = try LaneEncoderCheck(codebook: c.codebook).drive(sim, values: c.values, words: try c.reference(), frameSizes: c.frameSizes)
        #expect(drive.mismatch == nil, "\(drive.mismatch ?? "")")
        let perCycle = Double(c.values.count) / Double(drive.cycles)
        print("K-lane Huffman encoder at P = K, \(c.testDescription): \(c.values.count) values in \(drive.cycles) cycles, \(perCycle) values per cycle")
        // A round a cycle, two cycles a frame more, while Q = 3 words a cycle keep up.
        #expect(perCycle >= 7.5, "\(perCycle) values per cycle")
    }

    @Test("reset in mid-frame: the whole input then encodes exactly, from an empty start")
    func resetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 1717)
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") {
            let sim = try library.simulation(of: Self.topName(c))
            let words = try c.reference()
            for _ in 0..<2 {
                // Cut off after a random number of cycles: lanes hold bits, words wait in the FIFOs.
                sim.reset()
                let cut = try LaneEncoderCheck(codebook: c.codebook, validPercent: 90, readyPercent: 40, seed: random.next())
                    .drive(sim, values: c.values, words: words, frameSizes: c.frameSizes, maxCycles: 3 + Int(random.next() % UInt64(c.values.count / c.codebook.lanes + 8)))
                sim.reset()
                let drive = try LaneEncoderCheck(codebook: c.codebook, validPercent: 90, readyPercent: 80, seed: random.next())
                    .drive(sim, values: c.values, words: words, frameSizes: c.frameSizes)
                #expect(drive.mismatch == nil, "\(c.testDescription): after a reset at cycle \(cut.cycles): \(drive.mismatch ?? "")")
                if drive.mismatch != nil { return }
            }
        }
    }

    @Test("the lane vectors under Icarus: K-value beats in with tkeep and tlast, Q-word beats out checked word by word")
    func icarus() throws {
        for c in try Self.cases.get() where c.isVector {
            let core = try c.core()
            let q = core.port(named: "m_axis_tkeep")?.width ?? 1
            let k = c.codebook.lanes, bits = c.codebook.layout.valueBits
            // Input lines {tkeep, tlast, tdata}: each frame in beats of K values.
            let input = LaneEncoderCheck.beats(values: c.values, frameSizes: c.frameSizes, k: k).map { beat in
                var line = BigBits(width: k * bits + 1 + k)
                for (s, value) in beat.values.enumerated() { line.set(UInt64(value), at: s * bits, width: bits) }
                line.set(beat.last ? 1 : 0, at: k * bits, width: 1)
                line.set(UInt64((1 << beat.values.count) - 1), at: k * bits + 1, width: k)
                return line.hex
            }
            // Expected: one word per line, {tlast, word}.
            let expected = try c.reference().map { String(UInt64($0.endsFrame ? 1 : 0) << 32 | UInt64($0.word), radix: 16) }
            let output = try IcarusBench.run(core, inWidth: k * bits, outWidth: 32 * q, inputLines: input, expectedLines: expected,
                                             defines: ["-DS_KEEP_PORT", "-DS_KEEP=\(k)", "-DHAS_S_LAST", "-DM_KEEP_PORT", "-DM_KEEP=\(q)", "-DM_PART=32",
                                                       "-DHAS_M_LAST", "-DM_STREAM"])
            #expect(output.contains("PASS"), "\(c.testDescription): \(output)")
        }
    }

    @Test("lint-clean under verilator -Wall")
    func lint() throws {
        for c in try Self.cases.get() where c.isVector || c.codebook.name.hasPrefix("renc_") || c.codebook.name.hasPrefix("minilm") {
            try ExternalTools.lint(try c.core())
        }
    }

    @Test("entries over 32 bits, P other than 1 and K, and tANS at P = K are refused by name")
    func refusals() throws {
        let vectors = try ConformanceVector.all()
        let seventeen = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("17-") }).codebookBytes)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: seventeen, decoder: false, encoder: true, valuesPerBeat: seventeen.lanes) }
        let book = try #require(try Self.cases.get().first { $0.codebook.name == "minilm_ffn1_lanes8" }).codebook
        #expect(try CoreGenerator.modules(for: book, decoder: false, encoder: true, valuesPerBeat: 8).first?.port(named: "m_axis_tkeep")?.width == 3)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: false, encoder: true, valuesPerBeat: 4) }
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: false, encoder: true, valuesPerBeat: 8, wordsPerBeat: 9) }
        let tans = try Codebook(name: "t8", coder: .tans(tableLog: 5, counts: [10, 10, 6, 6]), layout: ValueLayout(transform: .identity, symbolBits: 1, rawBits: 0), lanes: 8)
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: tans, decoder: false, encoder: true, valuesPerBeat: 8) }
    }
}
