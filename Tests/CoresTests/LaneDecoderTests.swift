import Codec
import CoreSim
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// The K-lane decoders at P = K values per beat (Huffman and tANS) against the reference coder:
/// the lane conformance vectors, random K-lane codebooks and real activations, with random
/// tvalid/tready, beats of random word counts (a frame may start anywhere in a beat), empty
/// frames, a check of the section 10 beat rules on every output beat, bit flips and resets in
/// mid-frame.
@Suite("K-lane decoders at P = K (Huffman and tANS) through Verilator", .serialized)
struct LaneDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let stream: [UInt8]
        let values: [UInt32]
        let frameSizes: [Int]
        var isVector = false
        var words: [UInt32] { LaneDecoderTests.words(stream) }
        var testDescription: String { "\(codebook.name) (\(codebook.coder.name)) K=\(codebook.lanes)" }
    }

    static func words(_ bytes: [UInt8]) -> [UInt32] { CoreHarness.words(bytes).map { UInt32($0) } }

    static func core(_ book: Codebook) throws -> Module { try CoreGenerator.fullRateLaneDecoder(book) }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        for vector in try ConformanceVector.all() where vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            guard (try? core(book)) != nil else { continue }
            cases.append(Case(codebook: book, stream: vector.stream, values: vector.values, frameSizes: vector.frameSizes, isVector: true))
        }
        // Real MiniLM activations (layer 4 post-GELU, not what the codebooks were trained on, so
        // escapes occur) through the example codes split into 8 lanes.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*post_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 24_576, long: all.count)))
        let realFrames = Array(repeating: 4096, count: real.count / 4096) + (real.count % 4096 > 0 ? [real.count % 4096] : [])
        for (file, name) in [("minilm_ffn1_huffman", "minilm_ffn1_lanes8"), ("minilm_ffn1_tans", "minilm_ffn1_tans_lanes8")] {
            let example = try Codebook.load(path: root.appendingPathComponent("examples/\(file).json").path)
            let book = try Codebook(name: name, coder: example.coder, layout: example.layout, lanes: 8)
            cases.append(Case(codebook: book, stream: try StreamCodec(codebook: book).encode(real, frameSizes: realFrames), values: real, frameSizes: realFrames))
        }
        for coder in ["huffman", "tans"] {
            var gen = RandomCodebooks(seed: coder == "huffman" ? 915 : 916)
            var made = 0
            while made < TestScale.pick(quick: 8, long: 110) {
                let base = gen.codebook(coder: coder, name: coder == "huffman" ? "lanes\(made)" : "tlanes\(made)")
                let k = [2, 3, 4, 5, 8, 16][made % 6]
                guard base.layout.valueBits * k <= 32 * 16,
                      let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k),
                      (try? core(book)) != nil else { continue }
                let values = gen.values(count: 40 + Int(gen.random.next() % 500), for: book)
                var frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 90), random: &gen.random)
                if made % 2 == 0 { frames.insert(0, at: Int(gen.random.next() % UInt64(frames.count))) }
                cases.append(Case(codebook: book, stream: try StreamCodec(codebook: book).encode(values, frameSizes: frames), values: values, frameSizes: frames))
                made += 1
            }
        }
        // tANS: EOF in 22 of 32 states (frames that end in any lane, often in the lanes' starts),
        // in 3 lanes; and 20 raw bits behind a 10-bit state, so that a lane's first entry often
        // reads past its first word (the start's spare word).
        var gen = RandomCodebooks(seed: 917)
        let heavy = try CoreHarness.eofHeavyTANS(name: "tlanes_eof_heavy")
        let heavy3 = try Codebook(name: heavy.name, coder: heavy.coder, layout: heavy.layout, lanes: 3)
        let heavyValues = gen.values(count: 300, for: heavy3)
        let heavyFrames = CoreHarness.randomFrames(heavyValues.count, maxFrame: 7, random: &gen.random)
        cases.append(Case(codebook: heavy3, stream: try StreamCodec(codebook: heavy3).encode(heavyValues, frameSizes: heavyFrames),
                          values: heavyValues, frameSizes: heavyFrames))
        let spare = try Codebook(name: "tlanes_spare", coder: .tans(tableLog: 10, counts: [500, 200, 100, 60, 40, 20, 10, 4, 60, 30]),
                                 layout: ValueLayout(transform: .split, symbolBits: 3, rawBits: 19), lanes: 4)
        let spareValues = gen.values(count: 400, for: spare)
        let spareFrames = CoreHarness.randomFrames(spareValues.count, maxFrame: 20, random: &gen.random)
        cases.append(Case(codebook: spare, stream: try StreamCodec(codebook: spare).encode(spareValues, frameSizes: spareFrames),
                          values: spareValues, frameSizes: spareFrames))
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        let tops = try cases.get().map { c in
            let core = try core(c.codebook)
            return try LaneDecoderCheck.top(core, q: core.port(named: "s_axis_tkeep")?.width ?? 1, k: c.codebook.lanes, valueBits: c.codebook.layout.valueBits)
        }
        return try SimulationBuilder().build(tops)
    }

    @Test("the cases cover both coders, K = 2 to 32, and the tANS decoder's start cases")
    func coverage() throws {
        let cases = try Self.cases.get()
        for coder in ["huffman", "tans"] {
            let lanes = Set(cases.filter { $0.codebook.coder.name == coder }.map(\.codebook.lanes))
            #expect(lanes.isSuperset(of: [2, 3, 4, 5, 8, 16]), "\(coder): K = \(lanes.sorted())")
        }
        #expect(cases.contains { $0.codebook.lanes == 32 && $0.codebook.coder.name == "tans" }, "vector 21 (32 lanes)")
        // The spare case: lane 0's first entry reads past its first word in some frame.
        let spare = try #require(cases.first { $0.codebook.name == "tlanes_spare" })
        guard case .tans(let r, let counts) = spare.codebook.coder else { return }
        let tables = TANSTables(tableLog: r, counts: counts)
        let firstWords = LaneDecoderTests.frameStarts(spare).map { $0 >> UInt32(32 - r) }
        let n = spare.codebook.layout.symbolCount
        let crossing = firstWords.filter { u in
            let entry = Int(tables.symbol[Int(u)])
            let extra = entry == n ? spare.codebook.layout.symbolBits + spare.codebook.layout.rawBits : entry == n + 1 ? 0 : spare.codebook.layout.rawBits
            return Int(tables.bitCount[Int(u)]) + extra > 32 - r
        }
        #expect(!crossing.isEmpty, "no frame's lane 0 reads past its first word")
    }

    /// The first word of each non-empty frame (lane 0's first word, where its state is).
    static func frameStarts(_ c: Case) -> [UInt32] {
        var starts: [UInt32] = []
        var offset = 0
        let codec = StreamCodec(codebook: c.codebook)
        for size in c.frameSizes where size > 0 {
            let start = c.values[offset..<(offset + size)]
            if let frame = try? codec.encode(Array(start), frameSizes: [size]), frame.count >= 4 { starts.append(words(Array(frame.prefix(4)))[0]) }
            offset += size
        }
        return starts
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
        for c in try Self.cases.get() where c.isVector || c.codebook.name.hasPrefix("tlanes_") {
            try ExternalTools.lint(try Self.core(c.codebook))
        }
    }

    @Test("entries over 32 bits and one-lane codebooks are refused by name")
    func refusesLongEntries() throws {
        // Vector 17 (Huffman, 3 lanes): ESC entries of 44 bits; vector 12's table (1 symbol
        // bit, 31 raw bits) in 2 lanes: tANS entries of up to 38 bits.
        let vectors = try ConformanceVector.all()
        let book17 = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("17-") }).codebookBytes)
        #expect(throws: CoreError.self) { try Self.core(book17) }
        let one = try Codebook.parse(try #require(vectors.first { $0.name.hasPrefix("12-") }).codebookBytes)
        let two = try Codebook(name: "wide", coder: one.coder, layout: one.layout, lanes: 2)
        #expect(throws: CoreError.self) { try TANSLaneDecoderCore.module(codebook: two) }
        #expect(throws: CoreError.self) { try TANSLaneDecoderCore.module(codebook: one) }
        #expect(throws: CoreError.self) { try TANSLaneDecoderCore.module(codebook: book17) }
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
        for name in ["minilm_ffn1_lanes8", "minilm_ffn1_tans_lanes8"] {
            let c = try #require(try Self.cases.get().first { $0.codebook.name == name })
            let cycles = try run(c, library: library, valid: 1000, ready: 1000, fullBeats: true)
            let perCycle = Double(c.values.count) / Double(cycles)
            print("K-lane decoder at P = K, \(c.testDescription): \(c.values.count) values in \(cycles) cycles, \(perCycle) values per cycle")
            // A round per cycle while Q words a cycle keep up (tANS: less a start of up to K + 1
            // cycles a frame); the real data escape more than the training data, so Q is tight.
            #expect(perCycle >= 7.4, "\(c.testDescription): \(perCycle) values per cycle")
        }
    }

    /// What a run of a decoder showed: the values, the indexes of the values with `tlast`,
    /// whether `error` rose, and the cycles.
    struct Run { var values: [UInt32] = [], lastAt: [Int] = [], error = false, cycles = 0 }

    /// Drives `words` into the decoder in beats of up to Q words (all Q with `fullBeats`) under
    /// random valid/ready until `expected` values are out, `error` rises, or `maxCycles` pass;
    /// checks section 10's beat rules on every output beat.
    func drive(_ sim: Simulation, _ c: Case, words: [UInt32], expected: Int, valid: Int, ready: Int, seed: UInt64,
               fullBeats: Bool = false, maxCycles: Int? = nil) throws -> Run {
        let k = c.codebook.lanes
        let q = (0..<16).filter { (try? sim.port("in_w\($0)")) != nil }.count
        let inWords = try (0..<q).map { try sim.port("in_w\($0)") }
        let outValues = try (0..<k).map { try sim.port("out_v\($0)") }
        let (inKeep, inValid, inReady) = (try sim.port("in_keep"), try sim.port("in_valid"), try sim.port("in_ready"))
        let (outKeep, outValid, outLast, outReady, error) = (try sim.port("out_keep"), try sim.port("out_valid"), try sim.port("out_last"), try sim.port("out_ready"), try sim.port("error"))
        var random = SeededRandom(seed: seed)
        var run = Run()
        var position = 0
        var beat: [UInt32]? = nil
        let limit = maxCycles ?? 20 * (words.count + expected) + 200
        while run.values.count < expected && run.cycles < limit {
            run.cycles += 1
            if beat == nil, position < words.count, Int(random.next() % 1000) < valid {
                let most = min(q, words.count - position)
                let count = fullBeats ? most : 1 + Int(random.next() % UInt64(most))
                beat = Array(words[position..<(position + count)])
            }
            for (i, port) in inWords.enumerated() { sim.poke(port, UInt64(beat.map { i < $0.count ? $0[i] : 0xDEAD_BEEF } ?? 0)) }
            sim.poke(inKeep, UInt64((1 << (beat?.count ?? 0)) - 1))
            sim.poke(inValid, beat == nil ? 0 : 1)
            let take = Int(random.next() % 1000) < ready
            sim.poke(outReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(error) != 0 { run.error = true; return run }
            if sim.peek(outValid) == 1 && take {
                let keep = sim.peek(outKeep)
                let kept = (0..<k).filter { keep >> UInt64($0) & 1 == 1 }.count
                #expect(keep == (UInt64(1) << UInt64(kept)) - 1 && kept >= 1, "\(c.testDescription): tkeep \(keep) is not 0..k-1")
                if kept < k { #expect(sim.peek(outLast) == 1, "\(c.testDescription): a partial beat without tlast") }
                for s in 0..<kept { run.values.append(UInt32(sim.peek(outValues[s]))) }
                if sim.peek(outLast) == 1 { run.lastAt.append(run.values.count - 1) }
            }
            let fired = beat != nil && sim.peek(inReady) == 1
            sim.tick()
            if fired, let b = beat { position += b.count; beat = nil }
        }
        return run
    }

    /// The indexes of the values that end a frame.
    static func lastIndexes(_ c: Case) -> [Int] {
        let last = CoreHarness.lastFlags(frameSizes: c.frameSizes)
        return last.indices.filter { last[$0] }
    }

    @discardableResult
    func run(_ c: Case, library: SimulationLibrary, valid: Int, ready: Int, fullBeats: Bool = false) throws -> Int {
        let sim = try library.simulation(of: "\(c.codebook.name)_decoder_narrow")
        sim.reset()
        let run = try drive(sim, c, words: c.words, expected: c.values.count, valid: valid, ready: ready,
                            seed: UInt64(c.stream.count * 31 + valid), fullBeats: fullBeats)
        if run.error { Issue.record("\(c.testDescription): error raised") }
        let received = run.values
        #expect(received == c.values, "\(c.testDescription): \(received.count) of \(c.values.count) values, first difference at \(received.indices.first { $0 >= c.values.count || received[$0] != c.values[$0] } ?? received.count)")
        #expect(run.lastAt == Self.lastIndexes(c), "\(c.testDescription): tlast after values \(run.lastAt.prefix(8)), expected \(Self.lastIndexes(c).prefix(8))")
        return run.cycles
    }

    @Test("bit flips: error exactly where the reference reports a corrupt frame, else the reference's values")
    func bitFlips() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 505)
        var corrupt = 0, decoded = 0
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") && !c.stream.isEmpty {
            let codec = StreamCodec(codebook: c.codebook)
            let sim = try library.simulation(of: "\(c.codebook.name)_decoder_narrow")
            for _ in 0..<TestScale.pick(quick: 4, long: 20) {
                var stream = c.stream
                let bit = Int(random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                let words = Self.words(stream)
                sim.reset()
                // A flipped bit can make entries that read no bits: the bench takes a bounded number.
                let idle = 40 * words.count + 400
                switch TANSCorruptStreamTests.reference(codec, stream) {
                case .decoded(let values):
                    decoded += 1
                    let run = try drive(sim, c, words: words, expected: values.count, valid: 800, ready: 700, seed: random.next())
                    #expect(!run.error, "\(c.testDescription) bit \(bit): error, but the reference decodes the stream")
                    #expect(run.values == values, "\(c.testDescription) bit \(bit)")
                case .corrupt:
                    corrupt += 1
                    let run = try drive(sim, c, words: words, expected: 64 * stream.count + 1024, valid: 800, ready: 700, seed: random.next(), maxCycles: idle)
                    #expect(run.error, "\(c.testDescription) bit \(bit): the reference reports a corrupt frame, error stayed low")
                case .truncated:
                    let run = try drive(sim, c, words: words, expected: 64 * stream.count + 1024, valid: 800, ready: 700, seed: random.next(), maxCycles: idle)
                    #expect(!run.error, "\(c.testDescription) bit \(bit): a truncated stream is not an error in hardware")
                }
            }
        }
        #expect(corrupt > 0 && decoded > 0, "corrupt \(corrupt), decoded \(decoded)")
    }

    @Test("reset in mid-frame: the whole stream then decodes exactly, from an empty start")
    func resetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 606)
        for c in try Self.cases.get() where !c.codebook.name.hasPrefix("minilm") && c.values.count > 8 {
            let sim = try library.simulation(of: "\(c.codebook.name)_decoder_narrow")
            for _ in 0..<2 {
                // Cut off after a random number of cycles: lanes hold bits, states, a start or a round.
                sim.reset()
                let cut = try drive(sim, c, words: c.words, expected: c.values.count, valid: 900, ready: 500, seed: random.next(),
                                    maxCycles: 3 + Int(random.next() % UInt64(c.values.count / c.codebook.lanes + 8)))
                sim.reset()
                let run = try drive(sim, c, words: c.words, expected: c.values.count, valid: 900, ready: 800, seed: random.next())
                #expect(!run.error && run.values == c.values, "\(c.testDescription): after a reset at cycle \(cut.cycles)")
                #expect(run.lastAt == Self.lastIndexes(c), "\(c.testDescription): tlast after a reset")
            }
        }
    }
}

extension LaneDecoderTests {
    @Test("the lane vectors under Icarus: beats of Q words in, K-value beats out with tkeep and tlast")
    func icarus() throws {
        for c in try Self.cases.get() where c.isVector {
            let core = try Self.core(c.codebook)
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
