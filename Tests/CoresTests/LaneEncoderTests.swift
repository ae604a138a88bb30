import Codec
@testable import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// The K-lane encoders (P = Q = 1, Huffman and tANS) against the reference encoder: every word and
/// frame end of the lane vectors, random K-lane codebooks and real activations, under random
/// backpressure, with resets in mid-frame, Icarus and lint; and the reorder buffer's bound against
/// a model of the words lanes open.
@Suite("K-lane encoders (P = 1, Huffman and tANS) through Verilator", .serialized)
struct LaneEncoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let values: [UInt32]
        /// Input frames, all non-empty (a hardware encoder cannot be asked for an empty one).
        let frameSizes: [Int]
        var maxFrame = TANSEncoderCore.defaultMaxFrame
        var isVector = false
        var moduleName: String { "\(codebook.name)_encoder" }
        var testDescription: String { "\(codebook.name) K=\(codebook.lanes)" }
        /// The frames of the stream: input frames cut at MAX_FRAME (tANS).
        var codedFrames: [Int] {
            guard case .tans = codebook.coder else { return frameSizes }
            return frameSizes.flatMap { size in stride(from: 0, to: size, by: maxFrame).map { min(maxFrame, size - $0) } }
        }
        func module() throws -> Module { try TestEncoders.module(codebook, maxFrame: maxFrame) }
    }

    enum TestEncoders {
        static func module(_ book: Codebook, maxFrame: Int) throws -> Module {
            guard let module = try CoreGenerator.modules(for: book, decoder: false, encoder: true, maxFrame: maxFrame).first else {
                throw CoreError.unsupported("no encoder for \(book.name)")
            }
            return module
        }
    }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        for vector in try ConformanceVector.all() where vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            let c = Case(codebook: book, values: vector.values, frameSizes: vector.frameSizes.filter { $0 > 0 }, isVector: true)
            guard (try? c.module()) != nil else { continue }
            cases.append(c)
        }
        // Real MiniLM activations (layer 4 post-GELU) through the example tables in lanes.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*post_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 16_384, long: all.count)))
        let realFrames = Array(repeating: 4096, count: real.count / 4096) + (real.count % 4096 > 0 ? [real.count % 4096] : [])
        for (file, k) in [("minilm_ffn1_huffman", 8), ("minilm_ffn1_huffman", 2), ("minilm_ffn1_tans", 2), ("minilm_ffn1_tans", 4)] {
            let example = try Codebook.load(path: root.appendingPathComponent("examples/\(file).json").path)
            let book = try Codebook(name: "\(file)_enc_lanes\(k)", coder: example.coder, layout: example.layout, lanes: k)
            cases.append(Case(codebook: book, values: real, frameSizes: realFrames))
        }
        for coder in ["huffman", "tans"] {
            var gen = RandomCodebooks(seed: coder == "huffman" ? 1615 : 1616)
            var made = 0, tried = 0
            while made < TestScale.pick(quick: 10, long: 110) && tried < 2000 {
                tried += 1
                let base = gen.codebook(coder: coder, name: "le\(coder)\(made)")
                let k = [2, 3, 4, 5, 8, 16, 32][made % 7]
                guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k) else { continue }
                let values = gen.values(count: 40 + Int(gen.random.next() % 500), for: book)
                let frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 90), random: &gen.random)
                var c = Case(codebook: book, values: values, frameSizes: frames)
                if coder == "tans" && made % 3 == 0 { c.maxFrame = 1 + Int(gen.random.next() % 40) }
                guard (try? c.module()) != nil else { continue }
                cases.append(c)
                made += 1
            }
        }
        // EOF in 22 of 32 states (often nb = 0): frames whose last chunks add no word, in 3 lanes.
        var gen = RandomCodebooks(seed: 1617)
        let heavy = try CoreHarness.eofHeavyTANS(name: "le_eof_heavy")
        let heavy3 = try Codebook(name: heavy.name, coder: heavy.coder, layout: heavy.layout, lanes: 3)
        let heavyValues = gen.values(count: 400, for: heavy3)
        cases.append(Case(codebook: heavy3, values: heavyValues, frameSizes: CoreHarness.randomFrames(heavyValues.count, maxFrame: 7, random: &gen.random)))
        // Frames whose lanes all end on a word boundary just before EOF, whose chunk then has no
        // bits (EOF holds 22 of 32 states and is coded first, from X = T): the frame's last word
        // is full before EOF arrives, and must still wait for it to carry tlast. Symbol 0 (count
        // 8: 2 state bits) with 25 raw bits after a lane's 5 state bits fills exactly one word.
        let boundary = try Codebook(name: "le_eof_on_boundary", coder: .tans(tableLog: 5, counts: [8, 1, 1, 22]),
                                    layout: ValueLayout(transform: .split, symbolBits: 1, rawBits: 25), lanes: 2)
        let boundaryValues = (0..<200).map { _ in boundary.layout.value(symbol: 0, raw: UInt32(truncatingIfNeeded: gen.random.next()) & 0x1FF_FFFF) }
        cases.append(Case(codebook: boundary, values: boundaryValues, frameSizes: Array(repeating: 2, count: 100)))
        // Vector 12's table (1 symbol bit, 31 raw bits) in 3 lanes: tANS chunks of up to 36 bits.
        let twelve = try Codebook.parse(try #require(try ConformanceVector.all().first { $0.name.hasPrefix("12-") }).codebookBytes)
        let wide = try Codebook(name: "le_wide_tans", coder: twelve.coder, layout: twelve.layout, lanes: 3)
        let wideValues = gen.values(count: 300, for: wide)
        cases.append(Case(codebook: wide, values: wideValues, frameSizes: CoreHarness.randomFrames(wideValues.count, maxFrame: 40, random: &gen.random)))
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map { try $0.module() })
    }

    static func run(_ sim: Simulation, _ c: Case, values: [UInt32]? = nil, frames: [Int]? = nil, expected: Int?, valid: Int = 1000, ready: Int = 1000,
                    seed: UInt64 = 1, maxCycles: UInt64? = nil) throws -> StreamResult {
        let input = values ?? c.values
        var job = StreamJob(input: input.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: frames ?? c.frameSizes), expectedOutputs: expected)
        job.validPerMille = valid
        job.readyPerMille = ready
        job.seed = seed
        job.outputCapacity = (expected ?? 0) + 64 * input.count + 1024
        job.maxCycles = maxCycles ?? UInt64(100_000 + 100 * input.count + 4 * (expected ?? 64 * input.count))
        return try sim.stream(job)
    }

    @Test("every word and frame end equals the reference stream: lane vectors, random K-lane codebooks, real data, under random backpressure")
    func encodes() throws {
        let library = try Self.library.get()
        let cases = try Self.cases.get()
        // Vectors 14-18 (Huffman; 17's entries of up to 44 bits go into their lanes in two pieces), 19, 20 and 21 (tANS).
        #expect(cases.filter(\.isVector).map(\.codebook.lanes).count == 8, "lane vectors: \(cases.filter(\.isVector).map(\.codebook.name))")
        #expect(cases.filter { $0.codebook.name.hasPrefix("le") && !$0.codebook.name.hasPrefix("le_") }.count == 2 * TestScale.pick(quick: 10, long: 110))
        #expect(Set(cases.filter { $0.codebook.coder.name == "huffman" }.map(\.codebook.lanes)).isSuperset(of: [2, 3, 4, 5, 8, 16, 32]))
        #expect(Set(cases.filter { $0.codebook.coder.name == "tans" }.map(\.codebook.lanes)).isSuperset(of: [2, 3, 4, 5, 8, 16, 32]))
        var random = SeededRandom(seed: 88)
        for c in cases {
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), c.values, frameSizes: c.codedFrames)
            for (valid, ready) in [(1000, 1000), (600, 700), (900, 250), (150, 1000)] {
                let sim = try library.simulation(of: c.moduleName)
                sim.reset()
                let result = try Self.run(sim, c, expected: expected.words.count, valid: valid, ready: ready, seed: random.next())
                #expect(result.stop == .done, "\(c.testDescription): stopped \(result.stop) after \(result.outputs.count) of \(expected.words.count) words")
                #expect(result.protocolErrors == 0)
                let same = result.outputs == expected.words, lastSame = result.outputLast == expected.last
                let difference = zip(result.outputs, expected.words).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(same, "\(c.testDescription) valid \(valid) ready \(ready): \(result.outputs.count) words, first difference at \(difference ?? min(result.outputs.count, expected.words.count))")
                #expect(lastSame, "\(c.testDescription) tlast")
                if !same || !lastSame { return }
            }
        }
    }

    @Test("one value per cycle at full rate on real data, less the per-frame overhead")
    func throughput() throws {
        let library = try Self.library.get()
        for c in try Self.cases.get() where c.codebook.name.hasPrefix("minilm") {
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), c.values, frameSizes: c.codedFrames)
            let sim = try library.simulation(of: c.moduleName)
            sim.reset()
            let result = try Self.run(sim, c, expected: expected.words.count)
            #expect(result.outputs == expected.words, "\(c.testDescription): \(result.outputs.count) of \(expected.words.count) words, not the reference's")
            let perCycle = Double(c.values.count) / Double(result.cycles)
            print("K-lane encoder \(c.testDescription): \(c.values.count) values in \(result.cycles) cycles, \(perCycle) values per cycle")
            let frames = c.codedFrames.count, k = c.codebook.lanes
            // Per frame: EOF and the K lanes' last words (tANS: also the K state chunks); filling at the end.
            let perFrame = 2 * k + 4
            let filling = c.codebook.coder.name == "tans" ? 2 * 4096 + 64 : 64
            #expect(result.cycles <= c.values.count + frames * perFrame + filling, "\(c.testDescription): \(result.cycles) cycles")
        }
    }

    @Test("reset in mid-frame: the whole input then encodes exactly, from an empty start")
    func resetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 505)
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") && c.values.count > 8 {
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), c.values, frameSizes: c.codedFrames)
            let sim = try library.simulation(of: c.moduleName)
            for _ in 0..<2 {
                // Cut off after a random number of cycles: lanes hold bits, words wait in the reorder buffer.
                sim.reset()
                let cut = try Self.run(sim, c, expected: nil, ready: 400, seed: random.next(), maxCycles: 4 + random.next() % UInt64(2 * c.values.count))
                sim.reset()
                let result = try Self.run(sim, c, expected: expected.words.count, seed: random.next())
                let same = result.outputs == expected.words, lastSame = result.outputLast == expected.last
                #expect(same, "\(c.testDescription): after a reset at cycle \(cut.cycles)")
                #expect(lastSame, "\(c.testDescription): tlast after a reset at cycle \(cut.cycles)")
                if !same || !lastSame { return }
            }
        }
    }

    @Test("the lane vectors under Icarus")
    func icarus() throws {
        for c in try Self.cases.get() where c.isVector {
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: c.codebook), c.values, frameSizes: c.codedFrames)
            let last = CoreHarness.lastFlags(frameSizes: c.frameSizes)
            let output = try IcarusBench.run(try c.module(), inWidth: c.codebook.layout.valueBits, outWidth: 32,
                                             input: zip(c.values.map(UInt64.init), last).map { ($0, $1) },
                                             expected: zip(expected.words, expected.last).map { ($0, $1) }, sLast: true, mLast: true)
            #expect(output.contains("PASS"), "\(c.testDescription): \(output)")
        }
    }

    @Test("lint-clean under verilator -Wall")
    func lint() throws {
        for c in try Self.cases.get() where c.isVector {
            try ExternalTools.lint(try c.module())
        }
    }

    @Test("the reorder buffer's depth covers every word lanes open while an older one is open (adversarial chunk lengths)")
    func reorderBound() throws {
        var random = SeededRandom(seed: 606)
        var tight = 0
        for k in [2, 3, 4, 5, 8, 16, 32] {
            for (shortest, longest) in [(1, 32), (1, 9), (2, 24), (9, 24), (17, 32), (32, 32), (1, 44), (9, 48), (33, 64)] {
                let open = LaneReorder.openSlots(lanes: k, shortestChunk: shortest, longestChunk: longest)
                // The worst: one lane's chunks at the shortest, the others at the longest; and random mixes.
                for trial in 0..<20 {
                    let lengths = (0..<(64 * k)).map { j in
                        trial == 0 ? (j % k == 0 ? shortest : longest) : shortest + Int(random.next() % UInt64(longest - shortest + 1))
                    }
                    let widest = LaneReorder.widestWindow(lanes: k, lengths: lengths, stays: lengths.map { _ in false })
                    #expect(widest <= open, "K \(k), chunks \(shortest)-\(longest): \(widest) slots open, bound \(open)")
                    if trial == 0 && widest * 2 > open { tight += 1 }
                }
                #expect(LaneReorder.depth(lanes: k, shortestChunk: shortest, longestChunk: longest) > open)
            }
        }
        // The bound is not loose by more than a factor of two in most worst cases.
        #expect(tight >= 21, "only \(tight) of \(7 * 9) worst cases within a factor of two of the bound")
        // tANS: chunks of no bits are bounded by the frame instead.
        let framed = LaneReorder.openSlots(lanes: 4, shortestChunk: 0, longestChunk: 20, extraChunks: 4, framedChunks: 104)
        let lengths = (0..<104).map { $0 % 4 == 0 ? 0 : 20 }
        #expect(LaneReorder.widestWindow(lanes: 4, lengths: lengths, stays: lengths.map { _ in false }) <= framed)
    }

    @Test("entries over 32 bits: the encoders take them in two pieces (vector 17, vector 12's table in lanes); P other than 1 and K and Q > 1 at P = 1 are refused by name")
    func longEntriesAndRefusals() throws {
        let vectors = try ConformanceVector.all()
        let seventeen = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("17-") }).codebookBytes)
        #expect(try CoreGenerator.modules(for: seventeen, decoder: false, encoder: true).count == 1)
        // Its decoder still refuses them (a step takes at most one word).
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: seventeen, decoder: true, encoder: false, valuesPerBeat: 1) }
        #expect(try Self.cases.get().contains { $0.codebook.name == "le_wide_tans" })
        let book = try #require(try Self.cases.get().first { $0.isVector }).codebook
        // P other than 1 and K (the Huffman encoder also takes P = K: RoundEncoderTests).
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: false, encoder: true, valuesPerBeat: book.lanes + 1) }
        #expect(throws: CoreError.self) { try CoreGenerator.modules(for: book, decoder: false, encoder: true, wordsPerBeat: 2) }
    }
}

/// A model of the words `LaneWordPacker` opens, to hold `LaneReorder`'s bound against.
extension LaneReorder {
    /// The most slots opened while an earlier word of the same frame is still open, for lane
    /// chunks of `lengths` in entry order (lane j mod K, one ring step per entry): what `depth`
    /// must cover. Stays (chunks that keep the lane) are given by `stays`; chunks of more than 32
    /// bits go in as two pieces, as `LaneWordPacker` takes them.
    static func widestWindow(lanes k: Int, lengths: [Int], stays: [Bool]) -> Int {
        var have = [Int](repeating: 0, count: k)
        var openedAt = [Int?](repeating: nil, count: k)  // the allocation number of each lane's open word
        var allocated = 0, widest = 0, lane = 0
        // A chunk of more than 32 bits goes in as two pieces, the first keeping the lane.
        let pieces = zip(lengths, stays).flatMap { n, stay in n > 32 ? [(32, true), (n - 32, stay)] : [(n, stay)] }
        for (n, stay) in pieces {
            let wasOpen = have[lane] > 0
            var total = have[lane] + n
            if !wasOpen && n > 0 { openedAt[lane] = allocated; allocated += 1 }
            if total >= 32 {
                total -= 32
                if total > 0 { openedAt[lane] = allocated; allocated += 1 } else { openedAt[lane] = nil }
            }
            have[lane] = total
            if let oldest = openedAt.compactMap({ $0 }).min() { widest = max(widest, allocated - oldest) }
            if !stay { lane = (lane + 1) % k }
        }
        return widest
    }
}
