import Codec
import Cores
import Foundation
import HDL
import VerilatorBridge

/// One run of a codebook's generated cores over real values under Verilator: the reference
/// coder encodes the values; the decoder core must give them back and the encoder core must
/// write the reference stream, word for word, with random `tvalid`/`tready` if asked.
public struct CoreCheck: Sendable {
    /// What one core did.
    public struct Outcome: Sendable {
        public let core: String
        public let beatsIn: Int
        public let beatsOut: Int
        public let cycles: Int
        /// Clock cycles from the first input beat taken to the first output beat offered, at
        /// full rate on both sides (nil if no output came within 100,000 cycles).
        public let latency: Int?
        /// Values per cycle (decoded values out, or values taken in by an encoder).
        public let valuesPerCycle: Double
        /// nil when bit-exact; else the first difference.
        public let mismatch: String?
    }

    public let codebook: Codebook
    public let frameSize: Int
    /// Chance in percent that the bench offers a beat (`tvalid`) or takes one (`tready`) in a cycle.
    public var validPercent = 100
    public var readyPercent = 100
    public var seed: UInt64 = 1
    /// Write a waveform of each core here (`<folder>/<core>.vcd` or `.fst`).
    public var traceFolder: String? = nil
    public var traceFormat: TraceFormat = .vcd
    /// A K-lane codebook's decoder: values per output beat (nil: the core's default; 1: the
    /// pipelined decoder).
    public var valuesPerBeat: Int? = nil
    /// Frame engines (FORMAT.md section 12): the decoder and the encoder with this many engines.
    public var engines: Int? = nil
    /// Frame engines: buffers shared by the engines or one per engine (nil: the generator's choice).
    public var sharedBuffers: Bool? = nil
    /// Frame engines: 32-bit words per beat, Q (nil: the generator's default).
    public var wordsPerBeat: Int? = nil
    /// The one-lane tANS encoder's frames in flight (2: `TANSPairEncoderCore`), alone or as engines.
    public var framesInFlight = 1

    public init(codebook: Codebook, frameSize: Int) {
        self.codebook = codebook
        self.frameSize = frameSize
    }

    /// Runs the decoder and the encoder over `values`; returns their outcomes and the bits per
    /// value of the reference stream.
    public func run(_ values: [UInt32]) throws -> (outcomes: [Outcome], bitsPerValue: Double) {
        let codec = StreamCodec(codebook: codebook)
        let sizes = try StreamCodec.frameSizes(count: values.count, frameSize: frameSize)
        // The reference stream: its words and the last word of each frame.
        let stream = try codec.encodeFrames(values[...], frameSizes: sizes).words
        let words = stream.map { UInt64($0.word) }, wordLast = stream.map(\.endsFrame)
        let valueLast = sizes.flatMap { size in (0..<size).map { $0 == size - 1 } }
        var outcomes: [Outcome] = []
        if let engines {
            // The decoder with N engines, P values per beat out, then the encoder, P values per
            // beat in; buffers for frames of the frame size.
            let decoder = try CoreGenerator.module(for: codebook, CoreRequest(role: .decoder, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, engines: engines, maxFrame: max(frameSize, 1),
                                                                                              sharedBuffers: sharedBuffers))
            let decoderCheck = LaneDecoderCheck(codebook: codebook, validPercent: validPercent, readyPercent: readyPercent, seed: seed)
            outcomes.append(try decoderCheck.run(core: decoder, values: values, words: stream.map { ($0.word, $0.endsFrame) }, frameSizes: sizes))
            let core = try CoreGenerator.module(for: codebook, CoreRequest(role: .encoder, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, engines: engines, maxFrame: max(frameSize, 1),
                                                                                           sharedBuffers: sharedBuffers, framesInFlight: framesInFlight))
            let p = core.port(named: "s_axis_tkeep")?.width ?? 1
            let isTANS: Bool = if case .tans = codebook.coder { true } else { false }
            let cut = max(p, frameSize - frameSize % p)
            let coded = isTANS ? sizes.flatMap { size in stride(from: 0, to: size, by: cut).map { min(cut, size - $0) } } : sizes
            let reference = try codec.encodeFrames(values[...], frameSizes: coded).words
            let check = LaneEncoderCheck(codebook: codebook, validPercent: validPercent, readyPercent: readyPercent, seed: seed)
            outcomes.append(try check.run(core: core, values: values, words: reference.map { ($0.word, $0.endsFrame) }, frameSizes: sizes))
            return (outcomes, Double(reference.count * 32) / Double(max(1, values.count)))
        }
        let modules: [Module]
        let huffman: Bool = if case .huffman = codebook.coder { true } else { false }
        if codebook.lanes > 1, valuesPerBeat == codebook.lanes || (huffman && valuesPerBeat != 1) {
            // The K-lane decoder at P = K values per beat (its own bench), then the encoder:
            // at P = K when asked (its own bench), else P = 1 with the others.
            _ = try CoreGenerator.modules(for: codebook, decoder: true, encoder: false, valuesPerBeat: valuesPerBeat)
            let lanes = LaneDecoderCheck(codebook: codebook, validPercent: validPercent, readyPercent: readyPercent, seed: seed)
            outcomes.append(try lanes.run(values: values, words: stream.map(\.word), frameSizes: sizes))
            if valuesPerBeat == codebook.lanes {
                // The encoder at P = K too (its own bench; tANS: MAX_FRAME the frame size, rounded up to a multiple of K).
                let encoder = LaneEncoderCheck(codebook: codebook, validPercent: validPercent, readyPercent: readyPercent, seed: seed)
                let k = codebook.lanes, maxFrame = (max(frameSize, 1) + codebook.lanes - 1) / k * k
                outcomes.append(try encoder.run(values: values, words: stream.map { ($0.word, $0.endsFrame) }, frameSizes: sizes, maxFrame: maxFrame))
                return (outcomes, Double(words.count * 32) / Double(max(1, values.count)))
            }
            modules = try CoreGenerator.modules(for: codebook, decoder: false, encoder: true, maxFrame: max(frameSize, 1), valuesPerBeat: 1)
        } else {
            // Both cores; K lanes at P = 1: the pipelined decoder and the K-lane encoder (section 8's ports).
            modules = try CoreGenerator.modules(for: codebook, maxFrame: max(frameSize, 1), valuesPerBeat: valuesPerBeat, framesInFlight: framesInFlight)
        }
        let library = try SimulationBuilder(trace: traceFolder != nil, traceFormat: traceFormat).build(modules)
        for module in modules {
            let isDecoder = module.name.hasSuffix("_decoder")
            let latency = try Self.firstOutputLatency(try library.simulation(of: module.name),
                                                      input: isDecoder ? words : values.map(UInt64.init), last: isDecoder ? nil : valueLast)
            let sim = try library.simulation(of: module.name, tracePath: traceFolder.map { "\($0)/\(module.name).\(traceFormat.rawValue)" })
            sim.reset()
            var job = StreamJob(input: isDecoder ? words : values.map(UInt64.init), inputLast: isDecoder ? nil : valueLast,
                                expectedOutputs: isDecoder ? values.count : words.count)
            job.validPerMille = validPercent * 10
            job.readyPerMille = readyPercent * 10
            job.seed = seed
            job.stopPort = isDecoder ? "error" : nil
            let result = try sim.stream(job)
            let expected = isDecoder ? values.map(UInt64.init) : words
            let expectedLast = isDecoder ? valueLast : wordLast
            var mismatch: String? = nil
            if result.protocolErrors > 0 {
                mismatch = "\(result.protocolErrors) cycle(s) where an offered output beat changed before it was taken"
            } else if result.stop == .stopPort {
                mismatch = "error rose after \(result.outputs.count) values"
            } else if let i = (0..<min(result.outputs.count, expected.count)).first(where: { result.outputs[$0] != expected[$0] || result.outputLast[$0] != expectedLast[$0] }) {
                mismatch = String(format: "beat %d: 0x%llx tlast %d, expected 0x%llx tlast %d", i, result.outputs[i], result.outputLast[i] ? 1 : 0,
                                  expected[i], expectedLast[i] ? 1 : 0)
            } else if result.outputs.count != expected.count {
                mismatch = "\(result.outputs.count) beats out, expected \(expected.count) (\(result.stop))"
            }
            outcomes.append(Outcome(core: module.name, beatsIn: result.consumed, beatsOut: result.outputs.count, cycles: result.cycles,
                                    latency: latency, valuesPerCycle: Double(values.count) / Double(max(1, result.cycles)), mismatch: mismatch))
        }
        return (outcomes, Double(words.count * 32) / Double(max(1, values.count)))
    }

    /// Offers `input` at full rate with the output always taken, cycle by cycle, and counts the
    /// clock edges from the one that takes the first input beat to the first cycle with an
    /// output beat offered.
    static func firstOutputLatency(_ sim: Simulation, input: [UInt64], last: [Bool]?) throws -> Int? {
        let sData = try sim.port("s_axis_tdata"), sValid = try sim.port("s_axis_tvalid"), sReady = try sim.port("s_axis_tready")
        let mValid = try sim.port("m_axis_tvalid"), mReady = try sim.port("m_axis_tready")
        let sLast = sim.module.port(named: "s_axis_tlast") == nil ? nil : try sim.port("s_axis_tlast")
        sim.reset()
        sim.poke(mReady, 1)
        var next = 0
        var firstTaken: Int? = nil
        for cycle in 0..<100_000 {
            let offering = next < input.count
            sim.poke(sValid, offering ? 1 : 0)
            sim.poke(sData, offering ? input[next] : 0)
            if let sLast { sim.poke(sLast, offering && (last?[next] ?? false) ? 1 : 0) }
            sim.eval()
            if let first = firstTaken, sim.peek(mValid) == 1 { return cycle - first }
            if offering && sim.peek(sReady) == 1 {
                if firstTaken == nil { firstTaken = cycle }
                next += 1
            }
            sim.tick()
        }
        return nil
    }
}
