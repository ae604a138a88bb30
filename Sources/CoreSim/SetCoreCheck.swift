import Codec
import Cores
import HDL
import VerilatorBridge

/// One run of a codebook set's cores (FORMAT.md section 13) under Verilator over frames of values,
/// each frame with the id of the member that codes it: the reference (each frame coded by its
/// member's `StreamCodec`, `CodebookSet.encodeFrames`) gives the decoder's input and the
/// encoder's expected words; every output beat is checked with its `tlast` and its `tuser` id,
/// cycle by cycle, with random `tvalid`/`tready` if asked.
public struct SetCoreCheck: Sendable {
    /// What one core did, and the cycles spent on each member's frames (a cycle counts for the
    /// member whose frame the output is waiting for or giving).
    public struct Outcome: Sendable {
        public let core: CoreCheck.Outcome
        /// Per id: values coded and cycles.
        public let perId: [Int: (values: Int, cycles: Int)]
    }

    public let set: CodebookSet
    public var validPercent = 100
    public var readyPercent = 100
    public var seed: UInt64 = 1

    public init(set: CodebookSet) {
        self.set = set
    }

    /// A beat on either side: data, `tlast`, `tuser`.
    struct Beat {
        let data: UInt64
        let last: Bool
        let id: Int
    }

    /// Runs the set's decoder and encoder over `values` in frames of `frameSizes` (each at least
    /// one value) coded by members `ids`; returns their outcomes and the bits per value of the
    /// reference stream.
    public func run(values: [UInt32], frameSizes: [Int], ids: [Int]) throws -> (outcomes: [Outcome], bitsPerValue: Double) {
        let stream = try set.encodeFrames(values, frameSizes: frameSizes, ids: ids)
        let streamWords = stream.words
        var words: [Beat] = []
        var previous = 0
        for (end, id) in zip(stream.frameEnds, ids) {
            words += streamWords[previous / 4..<end / 4].map { Beat(data: UInt64($0.word), last: $0.endsFrame, id: id) }
            previous = end
        }
        var valueBeats: [Beat] = []
        var at = 0
        for (size, id) in zip(frameSizes, ids) {
            valueBeats += (0..<size).map { Beat(data: UInt64(values[at + $0]), last: $0 == size - 1, id: id) }
            at += size
        }
        let decoder = try CoreGenerator.module(for: set, CoreRequest(role: .decoder))
        let encoder = try CoreGenerator.module(for: set, CoreRequest(role: .encoder))
        let library = try SimulationBuilder().build([decoder, encoder])
        var valuesPerId: [Int: Int] = [:]
        for (size, id) in zip(frameSizes, ids) { valuesPerId[id, default: 0] += size }
        let outcomes = [
            try drive(try library.simulation(of: decoder.name), name: decoder.name, input: words, expected: valueBeats, valuesPerId: valuesPerId),
            try drive(try library.simulation(of: encoder.name), name: encoder.name, input: valueBeats, expected: words, valuesPerId: valuesPerId),
        ]
        return (outcomes, Double(stream.bytes.count * 8) / Double(max(1, values.count)))
    }

    /// Drives one core from reset: `input` offered `validPercent` of cycles, the output taken
    /// `readyPercent`, until every expected beat is out, one differs, `error` rises, or a cycle
    /// limit passes.
    func drive(_ sim: Simulation, name: String, input: [Beat], expected: [Beat], valuesPerId: [Int: Int]) throws -> Outcome {
        let values = valuesPerId.values.reduce(0, +)
        let (sData, sLast, sUser, sValid, sReady) = (try sim.port("s_axis_tdata"), try sim.port("s_axis_tlast"), try sim.port("s_axis_tuser"),
                                                     try sim.port("s_axis_tvalid"), try sim.port("s_axis_tready"))
        let (mData, mLast, mUser, mValid, mReady) = (try sim.port("m_axis_tdata"), try sim.port("m_axis_tlast"), try sim.port("m_axis_tuser"),
                                                     try sim.port("m_axis_tvalid"), try sim.port("m_axis_tready"))
        let error = try sim.port("error")
        sim.reset()
        var state = seed | 1
        func percent() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 100)
        }
        // Cycles per id, counted in an array (the loop runs once per clock cycle).
        var cyclesById = [Int](repeating: 0, count: set.members.count)
        var inPos = 0, outPos = 0, cycles = 0, beatsIn = 0, offered = false
        var mismatch: String? = nil
        let limit = 40 * (input.count + expected.count) + 1000
        while outPos < expected.count && mismatch == nil && cycles < limit {
            cycles += 1
            cyclesById[expected[outPos].id] += 1
            if !offered, inPos < input.count, percent() < validPercent { offered = true }
            let beat = offered ? input[inPos] : nil
            sim.poke(sData, beat?.data ?? 0)
            sim.poke(sLast, beat?.last == true ? 1 : 0)
            sim.poke(sUser, UInt64(beat?.id ?? 0))
            sim.poke(sValid, beat == nil ? 0 : 1)
            let take = percent() < readyPercent
            sim.poke(mReady, take ? 1 : 0)
            sim.eval()
            if sim.peek(error) != 0 { mismatch = "error rose after \(outPos) beats out"; break }
            if take && sim.peek(mValid) == 1 {
                let want = expected[outPos]
                let (data, last, id) = (sim.peek(mData), sim.peek(mLast) == 1, Int(sim.peek(mUser)))
                if data != want.data || last != want.last || id != want.id {
                    mismatch = String(format: "beat %d: 0x%llx tlast %d tuser %d, expected 0x%llx tlast %d tuser %d", outPos, data, last ? 1 : 0, id,
                                      want.data, want.last ? 1 : 0, want.id)
                }
                outPos += 1
            }
            let fired = beat != nil && sim.peek(sReady) == 1
            sim.tick()
            if fired { inPos += 1; beatsIn += 1; offered = false }
        }
        if mismatch == nil && outPos < expected.count { mismatch = "\(outPos) of \(expected.count) beats out after \(cycles) cycles" }
        let core = CoreCheck.Outcome(core: name, beatsIn: beatsIn, beatsOut: outPos, cycles: cycles, latency: nil,
                                     valuesPerCycle: Double(values) / Double(max(1, cycles)), mismatch: mismatch)
        return Outcome(core: core, perId: valuesPerId.reduce(into: [:]) { $0[$1.key] = (values: $1.value, cycles: cyclesById[$1.key]) })
    }
}
