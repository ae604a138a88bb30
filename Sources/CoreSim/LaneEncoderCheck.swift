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
    public static func top(_ core: Module, k: Int, q: Int, valueBits: Int) throws -> Module {
        try Module("\(core.name)_narrow") { m in
            let dut = m.instance(core, name: "dut")
            let values = (0..<k).map { m.input("in_v\($0)", width: valueBits) }
            dut["s_axis_tdata"].assign(m.cat(values.reversed()))
            dut["s_axis_tkeep"].assign(m.input("in_keep", width: k))
            dut["s_axis_tlast"].assign(m.input("in_last"))
            dut["s_axis_tvalid"].assign(m.input("in_valid"))
            m.output("in_ready").assign(dut["s_axis_tready"])
            let data = dut["m_axis_tdata"]
            for i in 0..<q { m.output("out_w\(i)", width: 32).assign(data.bits(32 * i + 31, 32 * i)) }
            m.output("out_keep", width: q).assign(dut["m_axis_tkeep"])
            m.output("out_valid").assign(dut["m_axis_tvalid"])
            m.output("out_last").assign(dut["m_axis_tlast"])
            dut["m_axis_tready"].assign(m.input("out_ready"))
        }
    }

    /// The input beats: each frame's values K at a time, the last beat keeping the rest.
    static func beats(values: [UInt32], frameSizes: [Int], k: Int) -> [(values: ArraySlice<UInt32>, last: Bool)] {
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

    /// Runs the encoder over `values` cut into frames of `frameSizes`; `words` is the reference
    /// stream (each word with whether it ends its frame).
    public func run(values: [UInt32], words: [(word: UInt32, endsFrame: Bool)], frameSizes: [Int], wordsPerBeat: Int? = nil) throws -> CoreCheck.Outcome {
        let core = try HuffmanRoundEncoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        let k = codebook.lanes, bits = codebook.layout.valueBits
        let q = core.port(named: "m_axis_tkeep")?.width ?? 1
        let narrow = try Self.top(core, k: k, q: q, valueBits: bits)
        let sim = try SimulationBuilder().build([narrow]).simulation(of: narrow.name)
        let inValues = try (0..<k).map { try sim.port("in_v\($0)") }
        let outWords = try (0..<q).map { try sim.port("out_w\($0)") }
        let (inKeep, inLast, inValid, inReady) = (try sim.port("in_keep"), try sim.port("in_last"), try sim.port("in_valid"), try sim.port("in_ready"))
        let (outKeep, outValid, outLast, outReady) = (try sim.port("out_keep"), try sim.port("out_valid"), try sim.port("out_last"), try sim.port("out_ready"))
        let beats = Self.beats(values: values, frameSizes: frameSizes, k: k)

        var state = seed | 1
        func percent() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 100)
        }
        func offer(_ beat: (values: ArraySlice<UInt32>, last: Bool)?) {
            for (s, port) in inValues.enumerated() {
                sim.poke(port, beat.map { s < $0.values.count ? UInt64($0.values[$0.values.startIndex + s]) : 0 } ?? 0)
            }
            sim.poke(inKeep, UInt64((1 << (beat?.values.count ?? 0)) - 1))
            sim.poke(inLast, beat?.last == true ? 1 : 0)
            sim.poke(inValid, beat == nil ? 0 : 1)
        }

        // Latency: full beats every cycle, the output always taken.
        sim.reset()
        sim.poke(outReady, 1)
        var latency: Int? = nil, firstTaken: Int? = nil, next = 0
        for cycle in 0..<10_000 where latency == nil {
            offer(next < beats.count ? beats[next] : nil)
            sim.eval()
            if let first = firstTaken, sim.peek(outValid) == 1 { latency = cycle - first }
            if next < beats.count && sim.peek(inReady) == 1 {
                if firstTaken == nil { firstTaken = cycle }
                next += 1
            }
            sim.tick()
        }

        sim.reset()
        var received = 0, beatsIn = 0, beatsOut = 0, cycles = 0, position = 0
        var offered = false
        var mismatch: String? = nil
        let limit = 40 * (words.count + beats.count) + 1000
        while received < words.count && mismatch == nil && cycles < limit {
            cycles += 1
            if !offered, position < beats.count, percent() < validPercent { offered = true }
            offer(offered ? beats[position] : nil)
            let take = percent() < readyPercent
            sim.poke(outReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(outValid) == 1 && take {
                beatsOut += 1
                let keep = sim.peek(outKeep), last = sim.peek(outLast) == 1
                let kept = (0..<q).filter { keep >> UInt64($0) & 1 == 1 }.count
                if keep != (UInt64(1) << UInt64(kept)) - 1 || kept == 0 { mismatch = "beat \(beatsOut - 1): tkeep \(keep) does not keep words 0 to k-1" }
                for i in 0..<kept where mismatch == nil {
                    let word = UInt32(sim.peek(outWords[i]))
                    guard received < words.count else { mismatch = "word \(received): more words than the reference stream"; break }
                    let expected = words[received]
                    if word != expected.word {
                        mismatch = String(format: "word %d: 0x%08x, expected 0x%08x", received, word, expected.word)
                    } else if expected.endsFrame && i != kept - 1 {
                        mismatch = "word \(received) ends its frame but beat \(beatsOut - 1) goes on"
                    } else if i == kept - 1 && last != expected.endsFrame {
                        mismatch = "word \(received): \(last ? "tlast" : "no tlast") where the frame \(expected.endsFrame ? "ends" : "goes on")"
                    }
                    received += 1
                }
            }
            let fired = offered && sim.peek(inReady) == 1
            sim.tick()
            if fired { position += 1; beatsIn += 1; offered = false }
        }
        if mismatch == nil && received < words.count { mismatch = "\(received) of \(words.count) words after \(cycles) cycles" }
        return CoreCheck.Outcome(core: core.name, beatsIn: beatsIn, beatsOut: beatsOut, cycles: cycles, latency: latency,
                                 valuesPerCycle: Double(values.count) / Double(max(1, cycles)), mismatch: mismatch)
    }
}
