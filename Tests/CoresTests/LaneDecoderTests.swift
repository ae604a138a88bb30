import Codec
import CoreSim
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// The K-lane Huffman decoder (P = K values per beat) against the reference coder: the lane
/// conformance vectors and random K-lane codebooks, with random tvalid/tready, beats of random
/// word counts (a frame may start anywhere in a beat), empty frames, and a check of the
/// section 10 beat rules on every output beat.
@Suite("K-lane Huffman decoder through Verilator")
struct LaneDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let words: [UInt32]
        let values: [UInt32]
        let frameSizes: [Int]
        var testDescription: String { "\(codebook.name) K=\(codebook.lanes)" }
    }

    static func words(_ bytes: [UInt8]) -> [UInt32] { CoreHarness.words(bytes).map { UInt32($0) } }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        for vector in try ConformanceVector.all() where vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            guard book.coder.name == "huffman", (try? HuffmanLaneDecoderCore.module(codebook: book)) != nil else { continue }
            cases.append(Case(codebook: book, words: Self.words(vector.stream), values: vector.values, frameSizes: vector.frameSizes))
        }
        // Real MiniLM activations (layer 4 post-GELU, not what the codebook was trained on, so
        // escapes occur) through the example Huffman code split into 8 lanes.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try Codebook.load(path: root.appendingPathComponent("examples/minilm_ffn1_huffman.json").path)
        let lanes8 = try Codebook(name: "minilm_ffn1_lanes8", coder: example.coder, layout: example.layout, lanes: 8)
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*post_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 24_576, long: all.count)))
        let realFrames = Array(repeating: 4096, count: real.count / 4096) + (real.count % 4096 > 0 ? [real.count % 4096] : [])
        cases.append(Case(codebook: lanes8, words: Self.words(try StreamCodec(codebook: lanes8).encode(real, frameSizes: realFrames)),
                          values: real, frameSizes: realFrames))
        var gen = RandomCodebooks(seed: 915)
        var made = 0
        while made < TestScale.pick(quick: 8, long: 200) {
            let base = gen.codebook(coder: "huffman", name: "lanes\(made)")
            let k = [2, 3, 4, 5, 8, 16][made % 6]
            guard base.layout.valueBits * k <= 32 * 16,
                  let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k),
                  (try? HuffmanLaneDecoderCore.module(codebook: book)) != nil else { continue }
            let values = gen.values(count: 40 + Int(gen.random.next() % 500), for: book)
            var frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 90), random: &gen.random)
            if made % 2 == 0 { frames.insert(0, at: Int(gen.random.next() % UInt64(frames.count))) }
            let stream = try StreamCodec(codebook: book).encode(values, frameSizes: frames)
            cases.append(Case(codebook: book, words: Self.words(stream), values: values, frameSizes: frames))
            made += 1
        }
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        let tops = try cases.get().map { c in
            let core = try HuffmanLaneDecoderCore.module(codebook: c.codebook)
            return try LaneDecoderCheck.top(core, q: core.port(named: "s_axis_tkeep")?.width ?? 1, k: c.codebook.lanes, valueBits: c.codebook.layout.valueBits)
        }
        return try SimulationBuilder().build(tops)
    }

    @Test("Q by default: the words K values of the code's implied average length need, at most what K of the longest need")
    func defaultWordsPerBeat() throws {
        // Lengths 1, 2, 3, 3 (symbols 0 and 1, ESC, EOF), 4 raw bits, ESC 8 bits in all:
        // implied average (0.5 x 5 + 0.25 x 6 + 0.125 x 8) / 0.875 = 5.71 bits.
        let lengths = [1, 2, 3, 3]
        let q = { (k: Int) in HuffmanLaneDecoderCore.defaultWordsPerBeat(lanes: k, lengths: lengths, rawBits: 4, escBits: 8, longest: 8) }
        #expect(q(2) == 1)
        #expect(q(8) == 2)   // 8 x 5.71 = 45.7 bits
        #expect(q(16) == 3)  // 91.4 bits
        // Never more than K of the longest entries need: 4 x 8 bits = 1 word.
        #expect(q(4) == 1)
        let book = try Codebook.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/minilm_ffn1_huffman_lanes8.json").path)
        let core = try HuffmanLaneDecoderCore.module(codebook: book)
        #expect(core.port(named: "s_axis_tdata")?.width == 96 && core.port(named: "m_axis_tdata")?.width == 128)
    }

    @Test("the lane vectors' decoders pass verilator --lint-only -Wall")
    func lint() throws {
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("lanes") {
            try ExternalTools.lint(try HuffmanLaneDecoderCore.module(codebook: c.codebook))
        }
    }

    @Test("the lane vectors: entries over 32 bits are refused by name")
    func refusesLongEntries() throws {
        let vector = try ConformanceVector.all().first { $0.name.hasPrefix("17-") }
        let book = try Codebook.parse(try #require(vector).codebookBytes)
        #expect(throws: CoreError.self) { try HuffmanLaneDecoderCore.module(codebook: book) }
    }

    @Test("values and frame ends match the reference decode, under random valid/ready", arguments: [(1000, 1000), (600, 450)])
    func decodes(validPerMille: Int, readyPerMille: Int) throws {
        let library = try Self.library.get()
        for c in try Self.cases.get() {
            try run(c, library: library, valid: validPerMille, ready: readyPerMille)
        }
    }

    @Test("real activations at K = 8: close to 8 values per cycle at full rate with full input beats")
    func throughput() throws {
        let library = try Self.library.get()
        let c = try #require(try Self.cases.get().first { $0.codebook.name == "minilm_ffn1_lanes8" })
        let cycles = try run(c, library: library, valid: 1000, ready: 1000, fullBeats: true)
        let perCycle = Double(c.values.count) / Double(cycles)
        print("K-lane Huffman decoder, \(c.testDescription): \(c.values.count) values in \(cycles) cycles, \(perCycle) values per cycle")
        #expect(perCycle >= 7, "\(perCycle) values per cycle")
    }

    @discardableResult
    func run(_ c: Case, library: SimulationLibrary, valid: Int, ready: Int, fullBeats: Bool = false) throws -> Int {
        let k = c.codebook.lanes
        let sim = try library.simulation(of: "\(c.codebook.name)_decoder_narrow")
        let q = (0..<16).filter { (try? sim.port("in_w\($0)")) != nil }.count
        let inWords = try (0..<q).map { try sim.port("in_w\($0)") }
        let outValues = try (0..<k).map { try sim.port("out_v\($0)") }
        let (inKeep, inValid, inReady) = (try sim.port("in_keep"), try sim.port("in_valid"), try sim.port("in_ready"))
        let (outKeep, outValid, outLast, outReady, error) = (try sim.port("out_keep"), try sim.port("out_valid"), try sim.port("out_last"), try sim.port("out_ready"), try sim.port("error"))
        sim.reset()
        var random = SeededRandom(seed: UInt64(c.words.count * 31 + valid))
        var expectedLast = Set<Int>()
        var total = 0
        for size in c.frameSizes where size > 0 { total += size; expectedLast.insert(total - 1) }
        var received: [UInt32] = []
        var lastAt: [Int] = []
        var position = 0
        var beat: [UInt32]? = nil
        var cycles = 0
        while received.count < c.values.count && cycles < 20 * (c.words.count + c.values.count) + 200 {
            cycles += 1
            if beat == nil, position < c.words.count, Int(random.next() % 1000) < valid {
                let most = min(q, c.words.count - position)
                let count = fullBeats ? most : 1 + Int(random.next() % UInt64(most))
                beat = Array(c.words[position..<(position + count)])
            }
            for (i, port) in inWords.enumerated() { sim.poke(port, UInt64(beat.map { i < $0.count ? $0[i] : 0xDEAD_BEEF } ?? 0)) }
            sim.poke(inKeep, UInt64((1 << (beat?.count ?? 0)) - 1))
            sim.poke(inValid, beat == nil ? 0 : 1)
            let take = Int(random.next() % 1000) < ready
            sim.poke(outReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(error) != 0 { Issue.record("\(c.testDescription): error raised"); return cycles }
            if sim.peek(outValid) == 1 && take {
                let keep = sim.peek(outKeep)
                let kept = (0..<k).filter { keep >> UInt64($0) & 1 == 1 }.count
                #expect(keep == (UInt64(1) << UInt64(kept)) - 1 && kept >= 1, "\(c.testDescription): tkeep \(keep) is not 0..k-1")
                if kept < k { #expect(sim.peek(outLast) == 1, "\(c.testDescription): a partial beat without tlast") }
                for s in 0..<kept { received.append(UInt32(sim.peek(outValues[s]))) }
                if sim.peek(outLast) == 1 { lastAt.append(received.count - 1) }
            }
            let fired = beat != nil && sim.peek(inReady) == 1
            sim.tick()
            if fired, let b = beat { position += b.count; beat = nil }
        }
        let same = received == c.values
        #expect(same, "\(c.testDescription): \(received.count) of \(c.values.count) values, first difference at \(received.indices.first { $0 >= c.values.count || received[$0] != c.values[$0] } ?? received.count)")
        #expect(Set(lastAt) == expectedLast && lastAt.count == expectedLast.count, "\(c.testDescription): tlast after values \(lastAt.prefix(8)), expected \(expectedLast.sorted().prefix(8))")
        return cycles
    }
}

extension LaneDecoderTests {
    @Test("the lane vectors under Icarus: beats of Q words in, K-value beats out with tkeep and tlast")
    func icarus() throws {
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("lanes") && c.codebook.name != "minilm_ffn1_lanes8" {
            let core = try HuffmanLaneDecoderCore.module(codebook: c.codebook)
            let q = core.port(named: "s_axis_tkeep")?.width ?? 1
            let k = c.codebook.lanes, bits = c.codebook.layout.valueBits
            // Input beats of 1 to Q words, cycling, so frames start anywhere in a beat. A line is
            // {tkeep, tlast, tdata} (tlast unused by a decoder).
            var input: [String] = [], position = 0, size = 1
            while position < c.words.count {
                let count = min(size, c.words.count - position)
                var line = BigBits(width: 32 * q + 1 + q)
                for i in 0..<count { line.set(UInt64(c.words[position + i]), at: 32 * i, width: 32) }
                line.set(UInt64((1 << count) - 1), at: 32 * q + 1, width: q)
                input.append(line.hex)
                position += count
                size = size % q + 1
            }
            // Output beats: per frame, K values per beat, the last beat partial, with tlast.
            var expected: [String] = []
            var start = 0
            for frame in c.frameSizes where frame > 0 {
                var offset = 0
                while offset < frame {
                    let kept = min(k, frame - offset)
                    var line = BigBits(width: k * bits + 1 + k)
                    for s in 0..<kept { line.set(UInt64(c.values[start + offset + s]), at: s * bits, width: bits) }
                    line.set(offset + kept == frame ? 1 : 0, at: k * bits, width: 1)
                    line.set(UInt64((1 << kept) - 1), at: k * bits + 1, width: k)
                    expected.append(line.hex)
                    offset += kept
                }
                start += frame
            }
            let output = try IcarusBench.run(core, inWidth: 32 * q, outWidth: k * bits, inputLines: input, expectedLines: expected,
                                             defines: ["-DS_KEEP_PORT", "-DS_KEEP=\(q)", "-DM_KEEP_PORT", "-DM_KEEP=\(k)", "-DM_PART=\(bits)", "-DHAS_M_LAST"])
            #expect(output.contains("PASS"), "\(c.testDescription): \(output)")
        }
    }
}

/// A bit vector of any width, written as hex (most significant digit first, whole digits).
struct BigBits {
    var bits: [Bool]
    init(width: Int) { bits = Array(repeating: false, count: width) }
    mutating func set(_ value: UInt64, at low: Int, width: Int) {
        for i in 0..<width { bits[low + i] = (value >> UInt64(i)) & 1 == 1 }
    }
    var hex: String {
        let digits = (bits.count + 3) / 4
        return String((0..<digits).reversed().map { d -> Character in
            var v = 0
            for b in 0..<4 where 4 * d + b < bits.count && bits[4 * d + b] { v |= 1 << b }
            return Character(String(v, radix: 16))
        })
    }
}
