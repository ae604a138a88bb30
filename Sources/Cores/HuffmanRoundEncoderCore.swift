import Codec
import HDL
import HDLBlocks

/// The K-lane Huffman encoder that takes P = K values per beat (FORMAT.md sections 9 and 10):
/// value s of a beat is entry s of its round, so it goes into lane s, and a `LaneRoundPacker`
/// puts the K lanes' bits into words and sends up to Q words per beat in section 9's order.
///
/// Pipeline: a skid stage on `s_axis`; (1) each lane's code ROM read (LUT logic up to 256 symbols, registered) with the
/// raw bits, `tkeep` and `tlast` registered alongside; (2) the ROM words registered again;
/// (3) the round's chunks: a kept value's code (or ESC and literal) and raw bits, EOF's code in
/// the first lane past the frame's last value, nothing in the lanes after it. A frame whose last
/// beat keeps all K values sends EOF in a round of its own (lane 0). Then the packer: the round
/// register, one merge per lane, and after a frame's last round a cycle that writes every lane's
/// partial word. So a frame of N values costs ceil((N + 1) / K) + 1 cycles at the input.
///
/// Beats must keep values 0 .. k-1 with k >= 1 (section 10); only a frame's last beat may keep
/// fewer than K.
public enum HuffmanRoundEncoderCore {
    /// The longest entry a lane takes (at most one word a round per lane).
    public static let longestEntry = 32

    /// The encoder for a K-lane Huffman codebook, `wordsPerBeat` words out per beat (default:
    /// what K values of the codebook's implied average length need, at most what the longest
    /// entries need, as for the decoder).
    public static func module(codebook: Codebook, wordsPerBeat: Int? = nil) throws -> Module {
        let tables = try HuffmanTables(codebook)
        let k = codebook.lanes
        let layout = tables.layout
        let rom = try HuffmanCodeROM(tables)
        guard rom.longest <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(rom.longest) bits; the K-lane Huffman encoder at P = K takes entries of at most \(longestEntry) bits so far (P = 1 takes up to \(HuffmanEncoderCore.longestLaneEntry))")
        }
        let entries = HuffmanEntryDecoding(tables)
        let q = wordsPerBeat ?? HuffmanLaneDecoderCore.defaultWordsPerBeat(lanes: k, lengths: tables.lengths, rawBits: layout.rawBits,
                                                                            escBits: entries.escapeBits, longest: entries.longest)
        guard (1...k).contains(q) else {
            throw CoreError.unsupported("words per beat must be 1 to the \(k) lanes, is \(q)")
        }
        // A lane's open word holds at least one bit; each of the lane's later rounds adds at least
        // the shortest value's bits (EOF's round ends the frame).
        let shortest = max(1, rom.valueChunks.min() ?? 1)
        let roundsOpen = (31 + shortest - 1) / shortest
        let chunkWidth = rom.longest
        let n = layout.symbolCount

        return try Module("\(codebook.name)_encoder") { m in
            m.comment("Huffman encoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), \(k) lanes.")
            m.comment("K = \(k) lanes, P = \(k) values per beat (s_axis, value s at bits \(layout.valueBits)s + \(layout.valueBits - 1) to \(layout.valueBits)s, tkeep per value, tlast ends a frame),")
            m.comment("Q = \(q) words per beat (m_axis, word 0 at bits 31-0, tkeep per word, tlast on a frame's last word, which ends its beat).")
            m.comment("Single-stage: the canonical codes are a ROM per lane. Each input frame becomes one frame: values, EOF, every lane padded to 32 bits.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: a round of \(k) values per cycle while the output takes Q words a cycle, less two cycles per frame (EOF's round when the last beat is full, the lanes' partial words); measured 7.96 values/cycle at K = 8, Q = 3 on the bundled sample (make sim).",
                "Latency: words leave in section 9's order as their lanes fill them; 12 cycles to the first word at K = 8 on the bundled sample (hwgen sim measures yours).",
            ], tables: [("code (one copy per lane)", rom.layout)])
            let port = m.sinkPort("s_axis", StreamShape(dataWidth: k * layout.valueBits, hasLast: true, keepWidth: k))
            let words = m.sourcePort("m_axis", StreamShape(dataWidth: 32 * q, hasLast: true, keepWidth: q))
            // The beats through a skid stage: s_axis_tready from a register, the ROMs' addresses from registers.
            let values = m.skidStage(port, name: "in_skid")
            let inLast = values.last ?? values.valid
            let inKeep = values.keep ?? values.valid

            // Stage 1: each lane's code ROM read; raw bits, tkeep and tlast registered alongside.
            let advance = m.wire("advance", width: 1)
            let advanceWord = m.wire("advance_word", width: 1)
            let stageValid = m.register("stage_valid", width: 1, reset: 0)
            let stageLast = m.register("stage_last", width: 1, reset: nil)
            let stageKeep = m.register("stage_keep", width: k, reset: nil)
            m.when(advance) {
                stageValid.assign(values.valid)
                stageLast.assign(inLast)
                stageKeep.assign(inKeep)
            }
            values.ready.assign(advance)
            advance.assign(!stageValid || advanceWord)
            // Stage 2: the ROM words registered (the ROM's output register).
            let wordValid = m.register("word_valid", width: 1, reset: 0)
            let wordLast = m.register("word_last", width: 1, reset: nil)
            let wordKeep = m.register("word_keep", width: k, reset: nil)
            m.when(advanceWord) {
                wordValid.assign(stageValid)
                wordLast.assign(stageLast)
                wordKeep.assign(stageKeep)
            }
            struct LaneEntry { let code: Signal; let raw: Signal? }
            let laneEntries: [LaneEntry] = (0..<k).map { lane in
                m.within(m.scope("lane\(lane)")) {
                    let value = values.data[lane * layout.valueBits + layout.valueBits - 1, lane * layout.valueBits]
                    let code = m.rom("code", width: rom.layout.width, contents: rom.contents, style: TablePlacement.style(entries: n, fastPath: true),
                                     address: ValueFields.symbol(of: value, layout: layout), readEnable: advance, synchronous: true)
                    let raw = ValueFields.raw(of: value, layout: layout)
                    let stageRaw = raw.map { m.register("stage_raw", width: $0.width, reset: nil) }
                    let heldCode = m.register("word_code", width: rom.layout.width, reset: nil)
                    let heldRaw = stageRaw.map { m.register("word_raw", width: $0.width, reset: nil) }
                    m.when(advance) { if let stageRaw, let raw { stageRaw.assign(raw) } }
                    m.when(advanceWord) {
                        heldCode.assign(code)
                        if let heldRaw, let stageRaw { heldRaw.assign(stageRaw) }
                    }
                    return LaneEntry(code: heldCode, raw: heldRaw)
                }
            }

            // Stage 3: the round. After a frame's last beat with every value kept, a round of EOF alone.
            let endPending = m.register("end_pending", width: 1, reset: 0)
            let allKept = m.wire("all_kept", wordKeep == (1 << k) - 1)
            let endLeft = m.constant(rom.endLeft >> UInt64(64 - chunkWidth), width: chunkWidth)
            let endBits = m.constant(UInt64(rom.endLength), width: 6)
            var chunks: [LaneRoundPacker.Chunk] = []
            for (lane, entry) in laneEntries.enumerated() {
                m.scope("round\(lane)") {
                    let (composed, valueBits) = rom.valueChunk(m, word: entry.code, raw: entry.raw, countWidth: 6)
                    let kept = wordKeep[lane]
                    // EOF goes into the first lane past the frame's last value.
                    let endsHere = lane == 0 ? endPending : m.wire("ends_here", !endPending && wordLast && !kept && wordKeep[lane - 1])
                    let hasValue = m.wire("has_value", !endPending && kept)
                    chunks.append(LaneRoundPacker.Chunk(
                        data: m.wire("data", mux(endsHere, endLeft, mux(hasValue, composed[63, 64 - chunkWidth], 0))),
                        bits: m.wire("bits", mux(endsHere, endBits, mux(hasValue, valueBits, 0)))))
                }
            }
            let roundLast = m.wire("round_last", endPending || (wordLast && !allKept))
            let packer = LaneRoundPacker(m, name: "packer", lanes: k, wordsPerBeat: q, maxChunk: chunkWidth, roundsOpen: roundsOpen,
                                         valid: endPending || wordValid, chunks: chunks, last: roundLast, to: words)
            advanceWord.assign(!wordValid || (packer.accepts && !endPending))
            m.when(packer.accepts && endPending) {
                endPending.assign(0)
            }.elseWhen(packer.accepts && wordValid && wordLast && allKept) {
                endPending.assign(1)
            }
        }
    }
}
