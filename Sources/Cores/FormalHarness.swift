import Codec
import HDL

/// A property wrapper around a generated core, for SymbiYosys: the core instantiated with its
/// ports brought out, AXI-Stream rules assumed on its inputs and asserted on its outputs
/// (FORMAT.md section 8), and covers that show the interesting states are reachable, so that a
/// proof cannot pass vacuously. Written in the DSL like the cores; the properties are emitted
/// under `ifdef FORMAL`.
///
/// Properties (labels as the solver reports them):
/// - `s_holds_offered_beat` (assumed): an input beat offered and not taken stays offered, with
///   the same data (and `tlast`), unless a reset edge came between.
/// - `m_holds_offered_beat`: the same for the core's output.
/// - `m_quiet_after_reset`: `m_axis_tvalid` is 0 after every edge with `rst` high.
/// - decoders: `error_sticky` (stays 1 until reset), `error_clears_on_reset`, `drains_after_error`
///   (while `error` is 1 and the output is taken, `s_axis_tready` is never low for more than
///   `drainBound` cycles in a row), `values_bounded_by_words` (each value needs at least the
///   codebook's shortest entry in bits, so values out x that <= 32 x words in).
/// - encoders: `no_frame_end_without_input_end` (words with `tlast` out never outnumber the frames
///   the input has ended, counting a tANS encoder's MAX_FRAME cuts).
/// - with `tkeep` (section 10, P or Q above 1): `s_keeps_a_prefix` and, for values in,
///   `s_short_beat_ends_frame` (assumed); `m_keeps_a_prefix` and, for values out,
///   `m_short_beat_ends_frame`; `tkeep` is part of the held beat on both sides. A decoder with
///   `tkeep` leaves out `values_bounded_by_words` (it counts beats).
/// - loadable cores (an `s_table` port): `t_holds_offered_beat` (assumed) on `s_table`,
///   `cover_image_in` (an image's last word taken and no error the cycle after); the loaded tables are the solver's choice, so
///   `values_bounded_by_words` counts the shortest entry any table of the layout allows (a 1-bit
///   code and the raw bits), `cover_error` is always asked, and escaped values and two members'
///   frames (two whole images) are not covered.
public enum FormalHarness {
    public enum Role: String, Sendable {
        case decoder, encoder
    }

    /// The macro of the counting properties: they hold in bounded checks (bmc, cover) but are
    /// not inductive on their own (the counters' relation rests on the core's internal state),
    /// so the unbounded proof leaves them out.
    public static let countsMacro = "HWGEN_FORMAL_COUNTS"

    /// How many cycles in a row a decoder whose `error` is set may refuse a word.
    public static let drainBound = 4

    /// The wrapper module `<core>_formal` around `core` (a decoder or encoder generated for
    /// `codebook`; `maxFrame` is a tANS encoder's MAX_FRAME). `countWidth` bounds the counters
    /// of the counting properties (enough for the proof depth).
    public static func module(core: Module, codebook: Codebook, role: Role, maxFrame: Int = TANSEncoderCore.defaultMaxFrame,
                              countWidth: Int = 10) throws -> Module {
        try module(core: core, codebooks: [codebook], label: "codebook '\(codebook.name)'", role: role, maxFrame: maxFrame, countWidth: countWidth)
    }

    /// The wrapper of a core for a codebook set (FORMAT.md section 13): also `tuser` held with
    /// the beat on both sides, `s_id_steady_in_frame` (assumed: every beat of a frame carries
    /// its first beat's id), `m_id_steady_in_frame` (asserted for output beats while `error` is
    /// low), and
    /// `cover_two_members` (consecutive output frames of different ids).
    public static func module(core: Module, set: CodebookSet, role: Role, maxFrame: Int = TANSEncoderCore.defaultMaxFrame, countWidth: Int = 10) throws -> Module {
        try module(core: core, codebooks: set.members, label: "codebook set '\(set.name)'", role: role, maxFrame: maxFrame, countWidth: countWidth)
    }

    static func module(core: Module, codebooks: [Codebook], label: String, role: Role, maxFrame: Int = TANSEncoderCore.defaultMaxFrame,
                       countWidth: Int) throws -> Module {
        let codebook = codebooks[0]
        let layout = codebook.layout
        // A loadable core's tables come in through s_table: any table of the layout.
        let loadable = core.port(named: "s_table_tdata") != nil
        // Escaped values are covered for one codebook (a set's members escape different symbols).
        let escaped = codebooks.count == 1 && !loadable ? escapedSymbols(codebook) : nil
        return try Module("\(core.name)_formal") { m in
            m.comment("Formal property wrapper of \(core.name) (\(role.rawValue), \(label)): for SymbiYosys, see docs/FORMAL.md.")
            m.comment("Inputs of the core are free inputs here; AXI-Stream rules are assumed on them and asserted on the core's outputs.")
            let dut = m.instance(core, name: "dut")
            // Every core input comes from a wrapper input, every output goes to a wrapper output;
            // the properties read the instance's ports (a port the core lacks is an elaboration
            // error naming it).
            for port in core.ports where port.name != "clk" && port.name != "rst" {
                if port.direction == .input {
                    dut.port(port.name).assign(m.input(port.name, width: port.width))
                } else {
                    m.output(port.name, width: port.width).assign(dut.port(port.name))
                }
            }
            let sValid = dut.port("s_axis_tvalid"), sData = dut.port("s_axis_tdata"), sReady = dut.port("s_axis_tready")
            let mValid = dut.port("m_axis_tvalid"), mData = dut.port("m_axis_tdata")
            let mReady = dut.port("m_axis_tready"), mLast = dut.port("m_axis_tlast")
            let sLast = core.port(named: "s_axis_tlast").map { _ in dut.port("s_axis_tlast") }
            // Section 10's tkeep (P or Q above 1): one bit per value or word.
            let sKeep = core.port(named: "s_axis_tkeep").map { _ in dut.port("s_axis_tkeep") }
            let mKeep = core.port(named: "m_axis_tkeep").map { _ in dut.port("m_axis_tkeep") }
            /// Keeps parts 0 .. k-1 for some k >= 1.
            func keepsAPrefix(_ keep: Signal) -> Signal { (keep != 0) & ((keep & (keep + 1)) == 0) }
            /// The number of kept parts, `width` bits wide.
            func keptCount(_ keep: Signal, width: Int) -> Signal {
                (0..<keep.width).map { keep[$0].zeroExtended(to: width) }.reduce(m.constant(0, width: width), +)
            }

            m.assumeResetInitially()
            // 1 in the cycle after an edge with rst high (reset registers hold their reset value).
            let afterReset = m.register("after_reset", width: 1, reset: 1)
            afterReset.assign(0)
            /// The value of `signal` in the previous cycle.
            func past(_ signal: Signal, _ name: String) -> Signal {
                let r = m.register("past_\(name)", width: signal.width, reset: nil)
                r.assign(signal)
                return r
            }

            // An offered beat holds until taken.
            let sOffered = past(sValid & !sReady, "s_offered")
            var sSame = sData == past(sData, "s_data")
            if let sLast { sSame = sSame & (sLast == past(sLast, "s_last")) }
            if let sKeep { sSame = sSame & (sKeep == past(sKeep, "s_keep")) }
            let sUser = core.port(named: "s_axis_tuser").map { _ in dut.port("s_axis_tuser") }
            let mUser = core.port(named: "m_axis_tuser").map { _ in dut.port("m_axis_tuser") }
            if let sUser { sSame = sSame & (sUser == past(sUser, "s_user")) }
            m.assume(!(sOffered & !afterReset) | (sValid & sSame), "s_holds_offered_beat")
            if loadable {
                let tValid = dut.port("s_table_tvalid"), tReady = dut.port("s_table_tready")
                let tData = dut.port("s_table_tdata"), tLast = dut.port("s_table_tlast")
                let tOffered = past(tValid & !tReady, "t_offered")
                let tSame = (tData == past(tData, "t_data")) & (tLast == past(tLast, "t_last"))
                m.assume(!(tOffered & !afterReset) | (tValid & tSame), "t_holds_offered_beat")
                // An image's last word taken, and no error after it: a whole image went in.
                let imageEnded = past(tValid & tReady & tLast, "t_image_ended")
                let error = core.port(named: "error").map { _ in dut.port("error") } ?? m.constant(0, width: 1)
                m.cover(imageEnded & !afterReset & !error, "cover_image_in")
            }
            let mOffered = past(mValid & !mReady, "m_offered")
            var mSame = (mData == past(mData, "m_data")) & (mLast == past(mLast, "m_last"))
            if let mKeep { mSame = mSame & (mKeep == past(mKeep, "m_keep")) }
            if let mUser { mSame = mSame & (mUser == past(mUser, "m_user")) }
            if let sUser, let mUser, let sLast {
                // Section 13: one id on every beat of a frame, in and out.
                func steadyInFrame(_ valid: Signal, _ ready: Signal, _ last: Signal, _ user: Signal, _ name: String) -> (Signal, Signal) {
                    let inFrame = m.register("\(name)_in_frame", width: 1, reset: 0)
                    let id = m.register("\(name)_frame_id", width: user.width, reset: 0)
                    m.when(valid & ready) {
                        inFrame.assign(!last)
                        id.assign(user)
                    }
                    return (!valid | !inFrame | (user == id), id)
                }
                m.assume(steadyInFrame(sValid, sReady, sLast, sUser, "s").0, "s_id_steady_in_frame")
                let (mSteady, lastId) = steadyInFrame(mValid, mReady, mLast, mUser, "m")
                // (Once `error` is up the output holds nothing to trust: a corrupt frame's last
                // steps may read the next frame's words before the error is registered.)
                let error = core.port(named: "error").map { _ in dut.port("error") } ?? m.constant(0, width: 1)
                m.assert(mSteady | error, "m_id_steady_in_frame")
                if !loadable {
                    let framesSeen = m.register("m_frames_seen", width: 2, reset: 0)
                    m.when(mValid & mReady & mLast & (framesSeen != 3)) { framesSeen.assign(framesSeen + 1) }
                    m.cover(mValid & mReady & (framesSeen != 0) & (mUser != lastId), "cover_two_members")
                }
            }
            m.assert(!(mOffered & !afterReset) | (mValid & mSame), "m_holds_offered_beat")
            m.assert(!afterReset | !mValid, "m_quiet_after_reset")
            if let sKeep {
                m.assume(!sValid | keepsAPrefix(sKeep), "s_keeps_a_prefix")
                // Values in (an encoder): only a frame's last beat keeps fewer than P. (A decoder's
                // words may come in short beats anywhere.)
                if let sLast, role == .encoder { m.assume(!sValid | sLast | (sKeep == (1 << sKeep.width) - 1), "s_short_beat_ends_frame") }
            }
            if let mKeep {
                m.assert(!mValid | keepsAPrefix(mKeep), "m_keeps_a_prefix")
                // Values out (a decoder): only a frame's last beat keeps fewer than P.
                if role == .decoder { m.assert(!mValid | mLast | (mKeep == (1 << mKeep.width) - 1), "m_short_beat_ends_frame") }
            }

            let sTaken = sValid & sReady, mTaken = mValid & mReady
            /// A counter of `event`, reset with the core, that stops at its largest value; the
            /// counting properties hold only while no counter has stopped (`counting`), so
            /// they stay true in traces of any length.
            let largest = (1 << countWidth) - 1
            var counters: [Signal] = []
            func count(_ event: Signal, _ name: String) -> Signal {
                let r = m.register(name, width: countWidth, reset: 0)
                m.when(event & (r != largest)) { r.assign(r + 1) }
                counters.append(r)
                return r
            }
            func counting() -> Signal {
                counters.map { $0 != largest }.reduce(m.constant(1, width: 1), &)
            }
            let framesOut = count(mTaken & mLast, "frames_out")
            m.cover(sValid & !sReady, "cover_input_stall")
            m.cover(mValid & !mReady, "cover_output_stall")
            m.cover(mTaken & mLast, "cover_frame_end")
            m.cover(framesOut == 2, "cover_two_frames")

            switch role {
            case .decoder:
                let error = dut.port("error")
                let errorBefore = past(error, "error")
                m.assert(!(errorBefore & !afterReset) | error, "error_sticky")
                m.assert(!afterReset | !error, "error_clears_on_reset")
                let refused = m.register("refused_after_error", width: 4, reset: 0)
                m.when(error & sValid & !sReady & mReady) {
                    m.when(refused != 15) { refused.assign(refused + 1) }
                }.otherwise { refused.assign(0) }
                m.assert(refused <= drainBound, "drains_after_error")
                if loadable || codebooks.contains(where: Self.canFail) { m.cover(error, "cover_error") }
                let minBits = loadable ? (codebook.coder.name == "tans" ? layout.rawBits : 1 + layout.rawBits)
                    : codebooks.map(shortestEntryBits).min() ?? 0
                if minBits > 0 && mKeep == nil && sKeep == nil {
                    let values = count(mTaken, "values_out")
                    let words = count(sTaken, "words_in")
                    let wide = countWidth + 6
                    m.assert(!counting() | (values.zeroExtended(to: wide) * m.constant(UInt64(minBits), width: 6)
                             <= (words.zeroExtended(to: wide) << 5).zeroExtended(to: wide + 6)), "values_bounded_by_words", ifDefined: countsMacro)
                }
                if let escaped {
                    let symbol = ValueFields.symbol(of: mData, layout: layout)
                    let isEscaped = m.rom("escaped_symbol", width: 1, contents: escaped, style: .logic, address: symbol, synchronous: false)
                    m.cover(mTaken & isEscaped, "cover_escaped_value")
                }
            case .encoder:
                // Frames the input has ended: a tlast, or (tANS) the MAX_FRAME-th value of a frame.
                let cuts = codebook.coder.name == "tans"
                // (P values a beat: a beat adds its kept values; MAX_FRAME is then a multiple of P.)
                let runWidth = bitsToAddress(maxFrame + 1)
                let run = m.register("input_run", width: runWidth, reset: 0)
                let taken = sKeep.map { keptCount($0, width: runWidth) } ?? m.constant(1, width: runWidth)
                let ends = sTaken & ((sLast ?? m.constant(0, width: 1)) | (cuts ? (run + taken) == maxFrame : m.constant(0, width: 1)))
                m.when(ends) { run.assign(0) }.elseWhen(sTaken) { run.assign(run + taken) }
                let framesIn = count(ends, "frames_in")
                m.assert(!counting() | (framesOut <= framesIn), "no_frame_end_without_input_end", ifDefined: countsMacro)
                if let escaped {
                    let symbol = ValueFields.symbol(of: sData, layout: layout)
                    let isEscaped = m.rom("escaped_symbol", width: 1, contents: escaped, style: .logic, address: symbol, synchronous: false)
                    m.cover(sTaken & isEscaped, "cover_escaped_value")
                }
            }
        }
    }

    /// Per symbol, 1 where the codebook escapes it; nil when it escapes none.
    static func escapedSymbols(_ codebook: Codebook) -> [UInt64]? {
        let count = codebook.layout.symbolCount
        let weights: [Int]
        switch codebook.coder {
        case .huffman(let lengths): weights = Array(lengths.prefix(count))
        case .tans(_, let counts): weights = Array(counts.prefix(count))
        }
        let escaped = weights.map { $0 == 0 ? UInt64(1) : 0 }
        return escaped.contains(1) ? escaped : nil
    }

    /// Whether a decoder of this codebook can raise `error`: an incomplete Huffman code, or tANS.
    static func canFail(_ codebook: Codebook) -> Bool {
        switch codebook.coder {
        case .huffman(let lengths): return !CanonicalCode(lengths: lengths).isComplete
        case .tans: return true
        }
    }

    /// The fewest stream bits any value takes (0 when a tANS entry may read no bits).
    static func shortestEntryBits(_ codebook: Codebook) -> Int {
        let layout = codebook.layout
        switch codebook.coder {
        case .huffman(let lengths):
            let coded = lengths.prefix(layout.symbolCount + 1).filter { $0 > 0 }.min() ?? 0
            return coded + layout.rawBits
        case .tans:
            return layout.rawBits
        }
    }
}
