import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// Decoders with N frame engines (FORMAT.md section 12) against the reference coder, under Icarus
/// (four-state, X on inputs not offered and on unkept words) and Verilator on the same stimulus:
/// the vectors (one lane and K) at N = 1, 2, 3, 8, random codebooks with random N, P, Q and buffers
/// smaller than some frames, empty frames, real activations; and the frame check: a `tlast`
/// early or late raises `error` after the frames before it have left whole.
@Suite("Decoders with frame engines: every value in stream order, the frame check, in Icarus and Verilator", .serialized)
struct FrameEngineDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let values: [UInt32]
        /// Frames, empty ones included.
        let frameSizes: [Int]
        let engines: Int
        var valuesPerBeat: Int? = nil
        var wordsPerBeat: Int? = nil
        /// Buffers shared by the engines (banks) or one per engine; nil: the generator's choice.
        var sharedBuffers: Bool? = nil
        /// The frame size the buffers are sized for (frames may be longer).
        var maxFrame = 4096
        var testDescription: String {
            "\(codebook.name) (\(codebook.coder.name)) N = \(engines) P = \(valuesPerBeat.map(String.init) ?? "N") Q = \(wordsPerBeat.map(String.init) ?? "default") \(sharedBuffers.map { $0 ? "shared buffers" : "buffers per engine" } ?? "buffers by block RAMs") buffers for \(maxFrame) values"
        }
        var topName: String { "\(codebook.name)_n\(engines)_p\(valuesPerBeat ?? 0)_q\(wordsPerBeat ?? 0)_f\(maxFrame)_s\(sharedBuffers.map { $0 ? "1" : "0" } ?? "a")_dec" }

        func module() throws -> Module {
            try CoreGenerator.module(for: codebook, CoreRequest(role: .decoder, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat,
                                                                engines: engines, maxFrame: maxFrame, sharedBuffers: sharedBuffers))
        }

        /// The reference stream's words, each word's tlast (it ends its frame), each frame's word
        /// count, and the word index just past each frame.
        func stream() throws -> (words: [UInt64], last: [Bool], frameWords: [Int], ends: [Int]) {
            let encoded = try StreamCodec(codebook: codebook).encodeFrames(values[...], frameSizes: frameSizes)
            let ends = encoded.frameEnds.map { $0 / 4 }
            let starts = [0] + ends.dropLast()
            return (encoded.words.map { UInt64($0.word) }, encoded.words.map(\.endsFrame), zip(starts, ends).map { $1 - $0 }, ends)
        }

        func run(_ module: Module) throws -> AxisBenchRun {
            let input = try AxisSide(module, "s_axis")
            let (words, _, frameWords, _) = try stream()
            let last = CoreHarness.lastFlags(frameSizes: frameSizes.filter { $0 > 0 })
            return try AxisBenchRun(module, beats: AxisBeat.framed(words, frameSizes: frameWords, width: input.parts),
                                    expected: .elements(zip(values, last).map { (UInt64($0), $1) }))
        }
    }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        var random = SeededRandom(seed: 2729)
        // The vectors, single-lane and lanes (empty frames included), at N = 1, 2, 3 and 8 in
        // turn, with buffers for 64 values, so longer frames wait for room. (A lane vector whose
        // entries pass 32 bits, 17, has no P = 1 lane decoder to be an engine.)
        for (i, vector) in try ConformanceVector.all().enumerated() {
            let book = try Codebook.parse(vector.codebookBytes)
            guard !vector.values.isEmpty else { continue }
            var c = Case(codebook: book, values: Array(vector.values), frameSizes: vector.frameSizes, engines: [1, 2, 3, 8][i % 4], maxFrame: 64)
            c.sharedBuffers = [true, false, nil][i % 3]
            if (try? c.module()) != nil { cases.append(c) }
        }
        // Random one-lane codebooks with random N, P, Q and buffer sizes; frames from empty to
        // several hundred values, so a long frame holds one engine while the others finish short ones.
        var gen = RandomCodebooks(seed: 2730)
        var made = 0, tried = 0
        while made < TestScale.pick(quick: 8, long: 60) && tried < 2000 {
            tried += 1
            let base = gen.codebook(name: "dec\(made)")
            if case .tans(let log, _) = base.coder, log > 12 { continue }
            let k = made % 3 == 2 ? 2 + Int(gen.random.next() % 4) : 1
            guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k) else { continue }
            let values = gen.values(count: 200 + Int(gen.random.next() % 1200), for: book)
            var frames: [Int] = []
            var left = values.count
            while left > 0 {
                let pick = random.next() % 6
                let size = pick == 0 ? 0 : min(left, pick == 1 ? 1 + Int(random.next() % 5) : 1 + Int(random.next() % 400))
                frames.append(size)
                left -= size
            }
            if made % 2 == 0 { frames.insert(0, at: 0) }
            let n = [1, 2, 3, 4, 8][made % 5]
            var c = Case(codebook: book, values: values, frameSizes: frames, engines: n)
            if made % 2 == 1 { c.valuesPerBeat = 1 + Int(random.next() % UInt64(2 * n)) }
            if made % 3 == 1 { c.wordsPerBeat = 1 + Int(random.next() % UInt64(c.valuesPerBeat ?? n)) }
            c.maxFrame = 16 + Int(random.next() % 400)
            c.sharedBuffers = [true, false, nil][(made / 2) % 3]
            guard (try? c.module()) != nil else { continue }
            cases.append(c)
            made += 1
        }
        // Real activations (layer 4 pre-GELU) through the bundled one-lane books at N = 8.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let all = try TensorValues.load(path: dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors", tensors: "layer\\.4\\..*pre_gelu").all
        let real = Array(all.prefix(TestScale.pick(quick: 6 * 1024 + 300, long: 40 * 1024 + 300)))
        let realFrames = Array(repeating: 1024, count: real.count / 1024) + [real.count % 1024]
        for (file, shared) in [("minilm_ffn1_huffman", true), ("minilm_ffn1_tans", false), ("minilm_ffn1_tans_lanes2", nil)] {
            let book = try Codebook.load(path: root.appendingPathComponent("examples/\(file).json").path)
            var c = Case(codebook: book, values: real, frameSizes: realFrames, engines: 8, maxFrame: 1024)
            c.sharedBuffers = shared
            cases.append(c)
        }
        return cases
    }

    /// Cores for the frame check: P = Q = 1 (section 8's ports and `s_axis_tlast`), N = 3.
    static let checkCases: Result<[Case], Error> = Result {
        var gen = RandomCodebooks(seed: 2731)
        var random = SeededRandom(seed: 2732)
        var cases: [Case] = []
        var tried = 0
        while cases.count < 6 && tried < 500 {
            tried += 1
            let base = gen.codebook(name: "chk\(cases.count)")
            if case .tans(let log, _) = base.coder, log > 12 { continue }
            // Cases 4 and 5 (one per coder) have lanes.
            let k = cases.count >= 4 ? 2 + cases.count % 2 : 1
            guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k) else { continue }
            // Huffman and tANS in turn.
            if book.isHuffmanBook != (cases.count % 2 == 0) { continue }
            let values = gen.values(count: 600, for: book)
            let frames = CoreHarness.randomFrames(values.count, maxFrame: 120, random: &random)
            var c = Case(codebook: book, values: values, frameSizes: frames, engines: 3, valuesPerBeat: 1, wordsPerBeat: 1, maxFrame: 64)
            c.sharedBuffers = (cases.count / 2) % 2 == 0    // both coders with both buffers
            guard (try? c.module()) != nil, frames.count >= 6 else { continue }
            cases.append(c)
        }
        return cases
    }

    /// The encoder with the same engines as a check case (N = 3, P = Q = 1, MAX_FRAME 64).
    static func encoder(_ c: Case) throws -> Module {
        try CoreGenerator.module(for: c.codebook, CoreRequest(role: .encoder, valuesPerBeat: 1, wordsPerBeat: 1, engines: c.engines, maxFrame: c.maxFrame,
                                                                sharedBuffers: c.sharedBuffers))
            .renamed(c.topName + "_enc")
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        let tops = try cases.get().map { try FourStateBench.verilatorTop(try $0.module(), name: $0.topName) }
        let checks = try checkCases.get().map { try $0.module().renamed($0.topName) }
        let encoders = try checkCases.get().map { try encoder($0) }
        return try SimulationBuilder().build(tops + checks + encoders)
    }

    @Test("the cases cover N = 1, 2, 3 and 8, both coders, empty frames, frames longer than the buffers, P and Q other than the defaults")
    func coverage() throws {
        let cases = try Self.cases.get()
        #expect(Set(cases.map(\.engines)).isSuperset(of: [1, 2, 3, 8]))
        for coder in ["huffman", "tans"] {
            #expect(cases.contains { $0.codebook.coder.name == coder && $0.codebook.lanes == 1 }, "\(coder), one lane")
            #expect(cases.contains { $0.codebook.coder.name == coder && $0.codebook.lanes > 1 }, "\(coder), K lanes")
        }
        #expect(cases.contains { $0.frameSizes.contains(0) }, "an empty frame")
        #expect(cases.contains { c in c.frameSizes.contains { $0 > c.maxFrame } }, "a frame longer than the buffers")
        #expect(cases.contains { $0.valuesPerBeat != nil } && cases.contains { $0.wordsPerBeat != nil })
        #expect(try Self.checkCases.get().count == 6)
        // Both kinds of buffer on each side: banks shared by the engines, and a FIFO per engine.
        let headers = try cases.filter { $0.engines >= 2 }.map { try $0.module().comments.joined(separator: " ") }
        for side in ["words in through one buffer", "values out through one buffer"] {
            #expect(headers.contains { $0.contains(side) } && headers.contains { !$0.contains(side) }, "\(side): both kinds")
        }
        let checkHeaders = try Self.checkCases.get().map { try $0.module().comments.joined(separator: " ") }
        #expect(checkHeaders.contains { $0.contains("words in through one buffer") } && checkHeaders.contains { !$0.contains("words in through one buffer") },
                "the frame check with both kinds of input buffer")
        // Every vector with values has a case, or its decoder with engines is refused for entries
        // over 32 bits (a lane vector, 17), by name.
        for (i, vector) in try ConformanceVector.all().enumerated() where !vector.values.isEmpty {
            let book = try Codebook.parse(vector.codebookBytes)
            if cases.contains(where: { $0.codebook == book && $0.values == Array(vector.values) }) { continue }
            #expect(vector.hasLanes, "\(vector.name) has no case")
            do {
                _ = try CoreGenerator.module(for: book, CoreRequest(role: .decoder, engines: [1, 2, 3, 8][i % 4], maxFrame: 64))
                Issue.record("\(vector.name): its decoder with engines builds but has no case")
            } catch {
                #expect("\(error)".contains("at most 32 bits"), "\(vector.name): \(error)")
            }
        }
    }

    @Test("every value and frame end equals the reference values; no X; Icarus and Verilator agree beat by beat",
          arguments: [(100, 100), (60, 70), (90, 25), (25, 90)])
    func decodes(valid: Int, ready: Int) throws {
        let library = try Self.library.get()
        for (n, c) in try Self.cases.get().enumerated() {
            let module = try c.module()
            let run = try c.run(module)
            let bench = try FourStateBench.IcarusBench(run)
            let stimulus = Stimulus.random(validPercent: valid, readyPercent: ready, seed: UInt64(n + 1) &* 37 &+ UInt64(valid),
                                           count: 40 * (run.beats.count + run.expected.count) + 2000)
            let verdict = try FourStateBench.check(run, icarus: bench, verilator: try library.simulation(of: c.topName), stimulus: stimulus)
            #expect(verdict.passed, "\(c.testDescription), valid \(valid)% ready \(ready)%: \(verdict.description)")
            if !verdict.passed { return }
        }
    }

    /// How a test moves one frame's `tlast`.
    enum Misplaced: String, CaseIterable, Sendable {
        /// On the word before the frame's last word.
        case early
        /// On the first word of the next frame, not on the frame's last.
        case late
    }

    /// Feeds `words` with `last`, taking every output; returns the values out (with tlast) up to
    /// 40 cycles after `error` rose, whether it rose, and whether words were left when it rose
    /// and whether some of them were taken then.
    static func drive(_ driver: CycleDriver, words: [UInt64], last: [Bool], limit: Int, reset: Bool = true) -> (values: [(UInt64, Bool)], error: Bool, leftAtError: Bool, takenAfterError: Int) {
        if reset { driver.sim.reset() }
        let outLast = try? driver.sim.port("m_axis_tlast")
        var out: [(UInt64, Bool)] = []
        var position = 0, afterError = 0, takenAfterError = 0, leftAtError = false
        for _ in 0..<limit {
            let offer = position < words.count ? words[position] : nil
            let lastNow = position < words.count ? last[position] : false
            let tlast = outLast.map { driver.sim.peek($0) == 1 } ?? false
            let (taken, output) = driver.cycle(input: offer, last: lastNow, ready: true)
            if taken {
                position += 1
                if afterError > 0 { takenAfterError += 1 }
            }
            if let output { out.append((output, tlast)) }
            if driver.errorHigh {
                if afterError == 0 { leftAtError = position < words.count }
                afterError += 1
            }
            if afterError > 40 { break }
        }
        return (out, afterError > 0, leftAtError, takenAfterError)
    }

    @Test("a tlast early or late raises error; the frames before the corrupt one come out whole, in order; the input never hangs; a good stream raises none",
          arguments: Misplaced.allCases)
    func frameCheck(_ misplaced: Misplaced) throws {
        let library = try Self.library.get()
        for c in try Self.checkCases.get() {
            let driver = try CycleDriver(try library.simulation(of: c.topName))
            let (words, last, frameWords, ends) = try c.stream()
            let limit = 60 * words.count + 4000
            // The good stream first: every value, no error.
            let good = Self.drive(driver, words: words, last: last, limit: limit)
            #expect(!good.error && good.values.map(\.0) == c.values.map(UInt64.init), "\(c.testDescription): the good stream")
            // Frame k's tlast misplaced, k the first frame from 3 on that has two words or more.
            guard let k = (3..<frameWords.count - 1).first(where: { frameWords[$0] >= 2 }) else { continue }
            var bad = last
            bad[ends[k] - 1] = false
            bad[misplaced == .early ? ends[k] - 2 : ends[k]] = true
            let run = Self.drive(driver, words: words, last: bad, limit: limit)
            let before = c.frameSizes.prefix(k).reduce(0, +)
            let expected = c.values.prefix(before).map(UInt64.init)
            #expect(run.error, "\(c.testDescription): frame \(k)'s tlast \(misplaced.rawValue): no error")
            #expect(run.values.count >= before && Array(run.values.prefix(before).map(\.0)) == expected,
                    "\(c.testDescription): frame \(k)'s tlast \(misplaced.rawValue): the \(before) values before it did not come out whole (\(run.values.count) out)")
            let lastFlags = CoreHarness.lastFlags(frameSizes: Array(c.frameSizes.prefix(k)))
            #expect(Array(run.values.prefix(before).map(\.1)) == lastFlags, "\(c.testDescription): tlast on the frames before \(k)")
            #expect(run.takenAfterError > 0 || !run.leftAtError, "\(c.testDescription): the input hangs after error")
        }
    }

    @Test("a reset in the middle of frames, with beats in every engine's buffers, leaves nothing behind: the next stream decodes whole, then a corrupt one's error clears on reset")
    func resetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 2733)
        for c in try Self.checkCases.get() {
            let driver = try CycleDriver(try library.simulation(of: c.topName))
            let (words, last, _, ends) = try c.stream()
            for round in 0..<3 {
                driver.sim.reset()
                // Part of the stream, the output throttled so every engine holds words and values.
                ResetAndErrorTests.checkReset(driver, feed: { words[$0 % words.count] }, last: { last[$0 % words.count] }, random: &random,
                                              "\(c.testDescription) round \(round)")
                let run = Self.drive(driver, words: words, last: last, limit: 60 * words.count + 4000, reset: false)
                #expect(!run.error && run.values.map(\.0) == c.values.map(UInt64.init),
                        "\(c.testDescription) round \(round): after a reset mid-frame, \(run.values.count) of \(c.values.count) values, error \(run.error)")
            }
            // A stream whose first frame's tlast comes late raises error; reset clears it and
            // the good stream decodes whole after it.
            var bad = last
            bad[ends[0] - 1] = false
            bad[ends[0]] = true
            let failed = Self.drive(driver, words: words, last: bad, limit: 60 * words.count + 4000)
            #expect(failed.error, "\(c.testDescription): a late tlast on frame 0 raised no error")
            driver.sim.reset()
            #expect(!driver.errorHigh, "\(c.testDescription): error still high after reset")
            let again = Self.drive(driver, words: words, last: last, limit: 60 * words.count + 4000, reset: false)
            #expect(!again.error && again.values.map(\.0) == c.values.map(UInt64.init), "\(c.testDescription): the good stream after an error and a reset")
        }
    }

    @Test("encoders with engines: a reset in the middle of frames leaves nothing behind; the next stream is the reference stream, word for word")
    func encoderResetMidFrame() throws {
        let library = try Self.library.get()
        var random = SeededRandom(seed: 2734)
        for c in try Self.checkCases.get() {
            let sim = try library.simulation(of: c.topName + "_enc")
            let driver = try CycleDriver(sim)
            // tANS engines cut frames at MAX_FRAME (64 values here).
            let coded = c.codebook.isHuffmanBook ? c.frameSizes
                : c.frameSizes.flatMap { size in stride(from: 0, to: size, by: c.maxFrame).map { min(c.maxFrame, size - $0) } }
            let expected = try StreamCodec(codebook: c.codebook).encodeFrames(c.values[...], frameSizes: coded).words
            let last = CoreHarness.lastFlags(frameSizes: c.frameSizes)
            for round in 0..<2 {
                driver.sim.reset()
                ResetAndErrorTests.checkReset(driver, feed: { UInt64(c.values[$0 % c.values.count]) }, last: { last[$0 % last.count] },
                                              random: &random, "\(c.testDescription) encoder round \(round)")
                let run = try sim.stream(StreamJob(input: c.values.map(UInt64.init), inputLast: last, expectedOutputs: expected.count))
                #expect(run.outputs == expected.map { UInt64($0.word) } && run.outputLast == expected.map(\.endsFrame),
                        "\(c.testDescription) encoder round \(round): after a reset mid-frame, \(run.outputs.count) of \(expected.count) words")
            }
        }
    }

    @Test("lint-clean under verilator -Wall and accepted by Icarus")
    func lint() throws {
        for c in try Self.cases.get() where c.codebook.name.hasPrefix("minilm") || c.codebook.name.hasPrefix("dec") {
            let module = try c.module()
            try ExternalTools.lint(module)
            try ExternalTools.icarusCompile(module)
        }
    }
}

extension Codebook {
    var isHuffmanBook: Bool { if case .huffman = coder { true } else { false } }
}
