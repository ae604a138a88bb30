import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

/// Encoders with N frame engines (FORMAT.md section 12) against the reference coder, under Icarus
/// (four-state, X on inputs not offered and on unkept values) and Verilator on the same stimulus:
/// the single-lane and lane vectors at N = 1, 2, 3, 8, random codebooks with random N, P and Q,
/// real activations, frames of very different lengths, random valid/ready with partial beats.
@Suite("Encoders with frame engines: every word in stream order, in Icarus and Verilator", .serialized)
struct FrameEngineTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let codebook: Codebook
        let values: [UInt32]
        /// Input frames, all non-empty (a hardware encoder cannot be asked for an empty one).
        let frameSizes: [Int]
        let engines: Int
        var valuesPerBeat: Int? = nil
        var wordsPerBeat: Int? = nil
        /// Buffers shared by the engines (banks) or one per engine; nil: the generator's choice.
        var sharedBuffers: Bool? = nil
        var maxFrame = 4096
        var testDescription: String {
            "\(codebook.name) (\(codebook.coder.name), K = \(codebook.lanes)) N = \(engines) P = \(valuesPerBeat.map(String.init) ?? "N") Q = \(wordsPerBeat.map(String.init) ?? "default") \(sharedBuffers.map { $0 ? "shared buffers" : "buffers per engine" } ?? "buffers by block RAMs") MAX_FRAME \(maxFrame)"
        }
        var topName: String { "\(codebook.name)_n\(engines)_p\(valuesPerBeat ?? 0)_q\(wordsPerBeat ?? 0)_f\(maxFrame)_s\(sharedBuffers.map { $0 ? "1" : "0" } ?? "a")_engines" }
        var isTANS: Bool { if case .tans = codebook.coder { true } else { false } }

        func module() throws -> Module {
            try CoreGenerator.module(for: codebook, CoreRequest(role: .encoder, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat,
                                                                engines: engines, maxFrame: maxFrame, sharedBuffers: sharedBuffers))
        }

        /// The coded frames: tANS input frames cut at MAX_FRAME (rounded down to a multiple of P
        /// when it is the default).
        var codedFrames: [Int] {
            guard isTANS else { return frameSizes }
            let p = valuesPerBeat ?? engines
            let frame = maxFrame % p == 0 ? maxFrame : max(p, maxFrame - maxFrame % p)
            return frameSizes.flatMap { size in stride(from: 0, to: size, by: frame).map { min(frame, size - $0) } }
        }

        func run(_ module: Module) throws -> AxisBenchRun {
            let input = try AxisSide(module, "s_axis")
            let stream = try StreamCodec(codebook: codebook).encodeFrames(values[...], frameSizes: codedFrames).words
            return try AxisBenchRun(module, beats: AxisBeat.framed(values.map(UInt64.init), frameSizes: frameSizes, width: input.parts),
                                    expected: .elements(stream.map { (UInt64($0.word), $0.endsFrame) }))
        }
    }

    static let cases: Result<[Case], Error> = Result {
        var cases: [Case] = []
        var random = SeededRandom(seed: 2727)
        // The vectors, single-lane and lanes, at N = 1, 2, 3 and 8 in turn.
        for (i, vector) in try ConformanceVector.all().enumerated() {
            let book = try Codebook.parse(vector.codebookBytes)
            let frames = vector.frameSizes.filter { $0 > 0 }
            guard !frames.isEmpty else { continue }
            let values = Array(vector.values)
            let n = [1, 2, 3, 8][i % 4]
            var c = Case(codebook: book, values: values, frameSizes: frames, engines: n, maxFrame: 64)
            c.sharedBuffers = [true, false, nil][i % 3]
            if (try? c.module()) != nil { cases.append(c) }
        }
        // Random codebooks, one lane or K, with random N, P, Q; frames from 1 value to several
        // hundred, so a long frame holds one engine while the others finish short ones.
        var gen = RandomCodebooks(seed: 2728)
        var made = 0, tried = 0
        while made < TestScale.pick(quick: 8, long: 60) && tried < 2000 {
            tried += 1
            let base = gen.codebook(name: "eng\(made)")
            if case .tans(let log, _) = base.coder, log > 12 { continue }
            let k = made % 3 == 2 ? 2 + Int(gen.random.next() % 4) : 1
            guard let book = try? Codebook(name: base.name, coder: base.coder, layout: base.layout, lanes: k) else { continue }
            let values = gen.values(count: 200 + Int(gen.random.next() % 1200), for: book)
            var frames: [Int] = []
            var left = values.count
            while left > 0 {
                let size = min(left, random.next() % 3 == 0 ? 1 + Int(random.next() % 5) : 1 + Int(random.next() % 400))
                frames.append(size)
                left -= size
            }
            let n = [1, 2, 3, 4, 8][made % 5]
            var c = Case(codebook: book, values: values, frameSizes: frames, engines: n)
            if made % 2 == 1 { c.valuesPerBeat = 1 + Int(random.next() % UInt64(2 * n)) }
            if made % 3 == 1 { c.wordsPerBeat = 1 + Int(random.next() % UInt64(c.valuesPerBeat ?? n)) }
            let p = c.valuesPerBeat ?? n
            c.maxFrame = c.isTANS ? p * (1 + Int(random.next() % 40)) : 256
            c.sharedBuffers = [true, false, nil][(made / 2) % 3]
            guard (try? c.module()) != nil else { continue }
            cases.append(c)
            made += 1
        }
        // Real activations (layer 4 pre-GELU) through the bundled books at N = 8.
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

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map { try FourStateBench.verilatorTop(try $0.module(), name: $0.topName) })
    }

    @Test("the cases cover N = 1, 2, 3 and 8, one lane and K, both coders, P and Q other than the defaults, MAX_FRAME cuts")
    func coverage() throws {
        let cases = try Self.cases.get()
        #expect(Set(cases.map(\.engines)).isSuperset(of: [1, 2, 3, 8]))
        for coder in ["huffman", "tans"] {
            #expect(cases.contains { $0.codebook.coder.name == coder && $0.codebook.lanes == 1 }, "\(coder), one lane")
            #expect(cases.contains { $0.codebook.coder.name == coder && $0.codebook.lanes > 1 }, "\(coder), K lanes")
        }
        #expect(cases.contains { $0.valuesPerBeat != nil } && cases.contains { $0.wordsPerBeat != nil })
        #expect(cases.contains { $0.isTANS && $0.codedFrames.count > $0.frameSizes.count }, "some tANS case's frames are cut at MAX_FRAME")
        // Both kinds of input buffer: banks shared by the engines, and a FIFO per engine.
        let headers = try cases.filter { $0.engines >= 2 }.map { try $0.module().comments.joined(separator: " ") }
        #expect(headers.contains { $0.contains("values in through one buffer") } && headers.contains { !$0.contains("values in through one buffer") })
    }

    @Test("every word and frame end equals the reference stream; no X; Icarus and Verilator agree beat by beat",
          arguments: [(100, 100), (60, 70), (90, 25), (25, 90)])
    func encodes(valid: Int, ready: Int) throws {
        let library = try Self.library.get()
        for (n, c) in try Self.cases.get().enumerated() {
            let module = try c.module()
            let run = try c.run(module)
            let bench = try FourStateBench.IcarusBench(run)
            let stimulus = Stimulus.random(validPercent: valid, readyPercent: ready, seed: UInt64(n + 1) &* 31 &+ UInt64(valid),
                                           count: 40 * (run.beats.count + run.expected.count) + 2000)
            let verdict = try FourStateBench.check(run, icarus: bench, verilator: try library.simulation(of: c.topName), stimulus: stimulus)
            #expect(verdict.passed, "\(c.testDescription), valid \(valid)% ready \(ready)%: \(verdict.description)")
            if !verdict.passed { return }
        }
    }

    @Test("lint-clean under verilator -Wall and accepted by Icarus")
    func lint() throws {
        for c in try Self.cases.get() where c.codebook.name.hasPrefix("minilm") || c.codebook.name.hasPrefix("eng") {
            let module = try c.module()
            try ExternalTools.lint(module)
            try ExternalTools.icarusCompile(module)
        }
    }

    @Test("N out of range, and a MAX_FRAME that is not a multiple of P, are refused by name; decoders with engines are built for every coder and K")
    func refusals() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tans = try Codebook.load(path: root.appendingPathComponent("examples/minilm_ffn1_tans.json").path)
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: tans, CoreRequest(role: .encoder, engines: 0)) }
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: tans, CoreRequest(role: .encoder, engines: 65)) }
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: tans, CoreRequest(role: .encoder, valuesPerBeat: 3, engines: 2, maxFrame: 100)) }
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: tans, CoreRequest(role: .decoder, engines: 0)) }
        let lanes = try Codebook.load(path: root.appendingPathComponent("examples/minilm_ffn1_tans_lanes2.json").path)
        #expect(try CoreGenerator.module(for: lanes, CoreRequest(role: .decoder, engines: 2)).comments.contains { $0.contains("K = 2 lane(s)") })
        let decoder = try CoreGenerator.module(for: tans, CoreRequest(role: .decoder, engines: 2))
        #expect(decoder.port(named: "s_axis_tlast") != nil && decoder.port(named: "error") != nil)
        // The default MAX_FRAME is rounded down to a multiple of P.
        let rounded = try CoreGenerator.module(for: tans, CoreRequest(role: .encoder, valuesPerBeat: 3, engines: 3))
        #expect(rounded.comments.contains { $0.contains("MAX_FRAME = 4095") }, "\(rounded.comments)")
    }
}
