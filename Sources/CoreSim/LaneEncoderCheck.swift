import Codec
import Cores
import HDL
import VerilatorBridge

/// A run of a K-lane codebook's encoder at P = K values per beat (Q words per beat) over real
/// values under Verilator, driven cycle by cycle: each frame's values in beats of K (the last
/// beat keeps the rest), offered at random if asked; output beats checked word by word against
/// the reference stream, with section 10's rules: `tkeep` keeps words 0 .. k-1, a beat holds one
/// frame's words and `tlast` marks the frame's last word, which ends its beat.
public struct LaneEncoderCheck {
    let codebook: Codebook
    let validPercent: Int
    let readyPercent: Int
    let seed: UInt64

    public init(codebook: Codebook, validPercent: Int = 100, readyPercent: Int = 100, seed: UInt64 = 1) {
        self.codebook = codebook
        self.validPercent = validPercent
        self.readyPercent = readyPercent
        self.seed = seed
    }

    /// A top with every port at most 32 bits wide, for per-cycle driving through the bridge:
    /// `in_v<s>` (value s of the beat), `in_keep`, `in_last`, `in_valid`, `in_ready`, `out_w<i>`
    /// (word i), `out_keep`, `out_last`, `out_valid`, `out_ready`.
    public static func top(_ core: Module, k: Int, q: Int, valueBits: Int, name: String? = nil) throws -> Module {
        try Module(name ?? "\(core.name)_narrow") { m in
            let dut = m.instance(core, name: "dut")
            let values = (0..<k).map { m.input("in_v\($0)", width: valueBits) }
            dut["s_axis_tdata"].assign(m.cat(values.reversed()))
            let keep = m.input("in_keep", width: k)
            if core.port(named: "s_axis_tkeep") != nil { dut["s_axis_tkeep"].assign(keep) }
            dut["s_axis_tlast"].assign(m.input("in_last"))
            dut["s_axis_tvalid"].assign(m.input("in_valid"))
            m.output("in_ready").assign(dut["s_axis_tready"])
            let data = dut["m_axis_tdata"]
            for i in 0..<q { m.output("out_w\(i)", width: 32).assign(data.bits(32 * i + 31, 32 * i)) }
            m.output("out_keep", width: q).assign(core.port(named: "m_axis_tkeep") != nil ? dut["m_axis_tkeep"] : m.constant(1, width: q))
            m.output("out_valid").assign(dut["m_axis_tvalid"])
            m.output("out_last").assign(dut["m_axis_tlast"])
            dut["m_axis_tready"].assign(m.input("out_ready"))
        }
    }

    /// The input beats: each frame's values K at a time, the last beat keeping the rest.
    public static func beats(values: [UInt32], frameSizes: [Int], k: Int) -> [(values: ArraySlice<UInt32>, last: Bool)] {
        var beats: [(values: ArraySlice<UInt32>, last: Bool)] = []
        var start = 0
        for size in frameSizes where size > 0 {
            var at = start
            while at < start + size {
                let end = min(at + k, start + size)
                beats.append((values[at..<end], end == start + size))
                at = end
            }
            start += size
        }
        return beats
    }

    /// What a drive of an encoder showed.
    public struct Drive: Sendable {
        public var wordsOut = 0, beatsIn = 0, beatsOut = 0, cycles = 0
        /// nil when every word and frame end so far matched the reference; else the first difference.
        public var mismatch: String? = nil
    }

    /// Runs the encoder over `values` cut into frames of `frameSizes`; `words` is the reference
    /// stream (each word with whether it ends its frame).
    public func run(values: [UInt32], words: [(word: UInt32, endsFrame: Bool)], frameSizes: [Int], maxFrame: Int = TANSEncoderCore.defaultMaxFrame,
                    wordsPerBeat: Int? = nil) throws -> CoreCheck.Outcome {
        try run(core: try CoreGenerator.fullRateLaneEncoder(codebook, maxFrame: maxFrame, wordsPerBeat: wordsPerBeat),
                values: values, words: words, frameSizes: frameSizes)
    }

    /// The same for any encoder that takes several values per beat with `tkeep` (P = K, or frame
    /// engines).
    public func run(core: Module, values: [UInt32], words: [(word: UInt32, endsFrame: Bool)], frameSizes: [Int]) throws -> CoreCheck.Outcome {
        let k = core.port(named: "s_axis_tkeep")?.width ?? 1, bits = codebook.layout.valueBits
        let q = core.port(named: "m_axis_tkeep")?.width ?? 1
        let narrow = try Self.top(core, k: k, q: q, valueBits: bits)
        let sim = try SimulationBuilder().build([narrow]).simulation(of: narrow.name)
        let latency = try Self.latency(sim, values: values, frameSizes: frameSizes, k: k)
        sim.reset()
        let drive = try self.drive(sim, values: values, words: words, frameSizes: frameSizes)
        return CoreCheck.Outcome(core: core.name, beatsIn: drive.beatsIn, beatsOut: drive.beatsOut, cycles: drive.cycles, latency: latency,
                                 valuesPerCycle: Double(values.count) / Double(max(1, drive.cycles)), mismatch: drive.mismatch)
    }

    /// The narrow top's ports.
    struct Ports {
        let values: [PortHandle], words: [PortHandle]
        let inKeep, inLast, inValid, inReady, outKeep, outValid, outLast, outReady: PortHandle
        init(_ sim: Simulation) throws {
            values = try (0..<64).prefix { sim.module.port(named: "in_v\($0)") != nil }.map { try sim.port("in_v\($0)") }
            words = try (0..<64).prefix { sim.module.port(named: "out_w\($0)") != nil }.map { try sim.port("out_w\($0)") }
            (inKeep, inLast, inValid, inReady) = (try sim.port("in_keep"), try sim.port("in_last"), try sim.port("in_valid"), try sim.port("in_ready"))
            (outKeep, outValid, outLast, outReady) = (try sim.port("out_keep"), try sim.port("out_valid"), try sim.port("out_last"), try sim.port("out_ready"))
        }

        func offer(_ sim: Simulation, _ beat: (values: ArraySlice<UInt32>, last: Bool)?) {
            for (s, port) in values.enumerated() {
                sim.poke(port, beat.map { s < $0.values.count ? UInt64($0.values[$0.values.startIndex + s]) : 0 } ?? 0)
            }
            sim.poke(inKeep, UInt64((1 << (beat?.values.count ?? 0)) - 1))
            sim.poke(inLast, beat?.last == true ? 1 : 0)
            sim.poke(inValid, beat == nil ? 0 : 1)
        }
    }

    /// Clock edges from the one that takes the first beat to the first cycle with a word offered,
    /// with full beats every cycle and the output always taken (resets `sim` first).
    public static func latency(_ sim: Simulation, values: [UInt32], frameSizes: [Int], k: Int) throws -> Int? {
        let ports = try Ports(sim)
        let beats = Self.beats(values: values, frameSizes: frameSizes, k: k)
        sim.reset()
        sim.poke(ports.outReady, 1)
        var firstTaken: Int? = nil, next = 0
        for cycle in 0..<10_000 {
            ports.offer(sim, next < beats.count ? beats[next] : nil)
            sim.eval()
            if let first = firstTaken, sim.peek(ports.outValid) == 1 { return cycle - first }
            if next < beats.count && sim.peek(ports.inReady) == 1 {
                if firstTaken == nil { firstTaken = cycle }
                next += 1
            }
            sim.tick()
        }
        return nil
    }

    /// Drives the encoder's narrow top (`top`) from its current state: `values` in beats under
    /// random valid/ready until every reference word is out, a word differs, or `maxCycles` pass.
    public func drive(_ sim: Simulation, values: [UInt32], words: [(word: UInt32, endsFrame: Bool)], frameSizes: [Int],
                      maxCycles: Int? = nil) throws -> Drive {
        let ports = try Ports(sim)
        let beats = Self.beats(values: values, frameSizes: frameSizes, k: ports.values.count)
        let q = ports.words.count
        var state = seed | 1
        func percent() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 100)
        }
        var run = Drive()
        var position = 0, offered = false
        let limit = maxCycles ?? 40 * (words.count + beats.count) + 1000
        while run.wordsOut < words.count && run.mismatch == nil && run.cycles < limit {
            run.cycles += 1
            if !offered, position < beats.count, percent() < validPercent { offered = true }
            ports.offer(sim, offered ? beats[position] : nil)
            let take = percent() < readyPercent
            sim.poke(ports.outReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(ports.outValid) == 1 && take {
                run.beatsOut += 1
                let keep = sim.peek(ports.outKeep), last = sim.peek(ports.outLast) == 1
                let kept = (0..<q).filter { keep >> UInt64($0) & 1 == 1 }.count
                if keep != (UInt64(1) << UInt64(kept)) - 1 || kept == 0 { run.mismatch = "beat \(run.beatsOut - 1): tkeep \(keep) does not keep words 0 to k-1" }
                for i in 0..<kept where run.mismatch == nil {
                    let word = UInt32(sim.peek(ports.words[i]))
                    guard run.wordsOut < words.count else { run.mismatch = "word \(run.wordsOut): more words than the reference stream"; break }
                    let expected = words[run.wordsOut]
                    if word != expected.word {
                        run.mismatch = String(format: "word %d: 0x%08x, expected 0x%08x", run.wordsOut, word, expected.word)
                    } else if expected.endsFrame && i != kept - 1 {
                        run.mismatch = "word \(run.wordsOut) ends its frame but beat \(run.beatsOut - 1) goes on"
                    } else if i == kept - 1 && last != expected.endsFrame {
                        run.mismatch = "word \(run.wordsOut): \(last ? "tlast" : "no tlast") where the frame \(expected.endsFrame ? "ends" : "goes on")"
                    }
                    run.wordsOut += 1
                }
            }
            let fired = offered && sim.peek(ports.inReady) == 1
            sim.tick()
            if fired { position += 1; run.beatsIn += 1; offered = false }
        }
        if run.mismatch == nil && run.wordsOut < words.count && maxCycles == nil {
            run.mismatch = "\(run.wordsOut) of \(words.count) words after \(run.cycles) cycles"
        }
        return run
    }
}
