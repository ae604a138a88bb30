import Codec
import Cores
import HDL
import VerilatorBridge

/// A run of a decoder that moves several values or words per beat (a K-lane codebook's P = K
/// decoder, or a decoder with frame engines) over real values under Verilator, driven cycle by
/// cycle: input beats of Q words (fewer when `tvalid` is offered at random, and at the stream's
/// end; with `s_axis_tlast`, a beat holds words of one frame and `tlast` marks its last word),
/// output beats checked value by value against the reference, with section 10's `tkeep` and
/// `tlast` rules.
public struct LaneDecoderCheck {
    let codebook: Codebook
    let validPercent: Int
    let readyPercent: Int
    let seed: UInt64

    /// A top with every port at most 32 bits wide, for per-cycle driving through the bridge:
    /// `in_w<i>` (word i of the beat), `in_keep`, `in_last`, `in_valid`, `in_ready`, `out_v<s>`
    /// (value s), `out_keep`, `out_valid`, `out_last`, `out_ready`, `error`. A core without
    /// `tkeep` (P = Q = 1) or `s_axis_tlast` ignores those inputs.
    public static func top(_ core: Module, q: Int, k: Int, valueBits: Int) throws -> Module {
        try Module("\(core.name)_narrow") { m in
            let dut = m.instance(core, name: "dut")
            let words = (0..<q).map { m.input("in_w\($0)", width: 32) }
            dut["s_axis_tdata"].assign(cat(words.last ?? words[0], Array(words.reversed().dropFirst())))
            let keepIn = m.input("in_keep", width: q)
            if core.port(named: "s_axis_tkeep") != nil { dut["s_axis_tkeep"].assign(keepIn) }
            let lastIn = m.input("in_last")
            if core.port(named: "s_axis_tlast") != nil { dut["s_axis_tlast"].assign(lastIn) }
            dut["s_axis_tvalid"].assign(m.input("in_valid"))
            m.output("in_ready").assign(dut["s_axis_tready"])
            let data = dut["m_axis_tdata"]
            for s in 0..<k { m.output("out_v\(s)", width: valueBits).assign(data.bits(s * valueBits + valueBits - 1, s * valueBits)) }
            m.output("out_keep", width: k).assign(core.port(named: "m_axis_tkeep") != nil ? dut["m_axis_tkeep"] : m.constant(1, width: k))
            m.output("out_valid").assign(dut["m_axis_tvalid"])
            m.output("out_last").assign(dut["m_axis_tlast"])
            dut["m_axis_tready"].assign(m.input("out_ready"))
            m.output("error").assign(dut["error"])
        }
    }

    /// Clock edges from the one that takes the first input beat to the first cycle with an
    /// output beat offered, with full beats offered every cycle and the output always taken.
    static func latency(_ sim: Simulation, inputs: [PortHandle], keep: PortHandle, last: PortHandle, valid: PortHandle, ready: PortHandle, outValid: PortHandle, outReady: PortHandle,
                        words: [UInt32], beat: (Int) -> (count: Int, last: Bool)) -> Int? {
        sim.reset()
        sim.poke(outReady, 1)
        var position = 0, firstTaken: Int? = nil
        for cycle in 0..<10_000 {
            let (count, ends) = beat(position)
            for (i, port) in inputs.enumerated() { sim.poke(port, UInt64(i < count ? words[position + i] : 0)) }
            sim.poke(keep, UInt64((1 << count) - 1))
            sim.poke(last, ends ? 1 : 0)
            sim.poke(valid, count > 0 ? 1 : 0)
            sim.eval()
            if let first = firstTaken, sim.peek(outValid) == 1 { return cycle - first }
            if count > 0 && sim.peek(ready) == 1 {
                if firstTaken == nil { firstTaken = cycle }
                position += count
            }
            sim.tick()
        }
        return nil
    }

    /// The K-lane decoder at P = K over `words` (the reference stream of `values` in frames of
    /// `frameSizes`).
    func run(values: [UInt32], words: [UInt32], frameSizes: [Int]) throws -> CoreCheck.Outcome {
        try run(core: try CoreGenerator.fullRateLaneDecoder(codebook), values: values, words: words.map { ($0, false) }, frameSizes: frameSizes)
    }

    /// `core` (any decoder; with `s_axis_tlast`, each word's flag says whether it ends its frame)
    /// over `words`, the reference stream of `values` in frames of `frameSizes`.
    func run(core: Module, values: [UInt32], words framed: [(word: UInt32, endsFrame: Bool)], frameSizes: [Int]) throws -> CoreCheck.Outcome {
        let words = framed.map(\.word)
        let k = core.port(named: "m_axis_tkeep")?.width ?? 1, bits = codebook.layout.valueBits
        let q = core.port(named: "s_axis_tkeep")?.width ?? 1
        // Words up to Q, within one frame when the core takes tlast.
        let takesLast = core.port(named: "s_axis_tlast") != nil
        var frameEnd = [Int](repeating: words.count, count: words.count + 1)
        for i in stride(from: words.count - 1, through: 0, by: -1) { frameEnd[i] = framed[i].endsFrame ? i + 1 : frameEnd[i + 1] }
        func beat(_ position: Int) -> (count: Int, last: Bool) {
            let end = takesLast ? frameEnd[position] : words.count
            let count = min(q, end - position)
            return (count, takesLast && count > 0 && position + count == end)
        }
        let narrow = try Self.top(core, q: q, k: k, valueBits: bits)
        let sim = try SimulationBuilder().build([narrow]).simulation(of: narrow.name)
        let inWords = try (0..<q).map { try sim.port("in_w\($0)") }
        let outValues = try (0..<k).map { try sim.port("out_v\($0)") }
        let (inKeep, inLast, inValid, inReady) = (try sim.port("in_keep"), try sim.port("in_last"), try sim.port("in_valid"), try sim.port("in_ready"))
        let (outKeep, outValid, outLast, outReady, error) = (try sim.port("out_keep"), try sim.port("out_valid"), try sim.port("out_last"),
                                                              try sim.port("out_ready"), try sim.port("error"))
        let latency = Self.latency(sim, inputs: inWords, keep: inKeep, last: inLast, valid: inValid, ready: inReady, outValid: outValid,
                                   outReady: outReady, words: words, beat: beat)
        sim.reset()
        var state = seed | 1
        func percent() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 100)
        }
        var lastAt: Set<Int> = []
        var total = 0
        for size in frameSizes where size > 0 { total += size; lastAt.insert(total - 1) }
        var received = 0, beatsIn = 0, beatsOut = 0, cycles = 0, position = 0
        var offered: (count: Int, last: Bool)? = nil  // the offered beat
        var mismatch: String? = nil
        let limit = 40 * (words.count + values.count) + 1000
        while received < values.count && mismatch == nil && cycles < limit {
            cycles += 1
            if offered == nil, position < words.count, percent() < validPercent { offered = beat(position) }
            for (i, port) in inWords.enumerated() { sim.poke(port, UInt64(offered.map { i < $0.count ? words[position + i] : 0 } ?? 0)) }
            sim.poke(inKeep, UInt64((1 << (offered?.count ?? 0)) - 1))
            sim.poke(inLast, offered?.last == true ? 1 : 0)
            sim.poke(inValid, offered == nil ? 0 : 1)
            let take = percent() < readyPercent
            sim.poke(outReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(error) != 0 { mismatch = "error rose after \(received) values"; break }
            if sim.peek(outValid) == 1 && take {
                beatsOut += 1
                let keep = sim.peek(outKeep), last = sim.peek(outLast) == 1
                let kept = (0..<k).filter { keep >> UInt64($0) & 1 == 1 }.count
                if keep != (UInt64(1) << UInt64(kept)) - 1 || kept == 0 { mismatch = "beat \(beatsOut - 1): tkeep \(keep) does not keep values 0 to k-1" }
                else if kept < k && !last { mismatch = "beat \(beatsOut - 1): keeps \(kept) of \(k) values without tlast" }
                for s in 0..<kept where mismatch == nil {
                    let value = UInt32(sim.peek(outValues[s]))
                    if received >= values.count || value != values[received] {
                        mismatch = String(format: "value %d: 0x%x, expected 0x%x", received, value, received < values.count ? values[received] : 0)
                    }
                    let endsHere = s == kept - 1 && last, frameEnds = lastAt.contains(received)
                    if mismatch == nil && endsHere != frameEnds {
                        mismatch = "value \(received): \(endsHere ? "tlast" : "no tlast") where the frame \(frameEnds ? "ends" : "goes on")"
                    }
                    received += 1
                }
            }
            let fired = offered != nil && sim.peek(inReady) == 1
            sim.tick()
            if fired, let b = offered { position += b.count; beatsIn += 1; offered = nil }
        }
        if mismatch == nil && received < values.count { mismatch = "\(received) of \(values.count) values after \(cycles) cycles" }
        return CoreCheck.Outcome(core: core.name, beatsIn: beatsIn, beatsOut: beatsOut, cycles: cycles, latency: latency,
                                 valuesPerCycle: Double(values.count) / Double(max(1, cycles)), mismatch: mismatch)
    }
}
