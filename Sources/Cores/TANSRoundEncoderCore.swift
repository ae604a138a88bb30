import Codec
import HDL
import HDLBlocks

/// The K-lane tANS encoder that takes P = K values per beat (FORMAT.md sections 7, 9 and 10).
///
/// A beat is a *row*: value s is entry s of its round, in lane s. tANS codes each lane backwards,
/// so, as in the one-value-per-cycle encoder, three stages run at once on three frames:
/// 1. **Fill**: rows go into a `ReversingBuffer` (block RAM). A frame ends with `s_axis_tlast`
///    or at `maxFrame` values (a multiple of K, so frames are cut at a row's end).
/// 2. **Encode**: the rows come back last first; a frame whose last row is full gets a round of
///    EOF alone (lane 0) before it, otherwise EOF is the first lane past the last value. Each
///    lane has its own state loop with its own copies of the symbol ROM and the state ROM
///    (block RAM), as in the K-lane encoder at P = 1; the K loops run side by side, one round a
///    cycle, each lane starting the frame at X = T. A round's K chunks go into a chunk buffer (a
///    second `ReversingBuffer`, one row per round), and the lanes' final states are kept per
///    frame beside it.
/// 3. **Write**: the chunk rows come back in order into a `LaneRoundPacker`; in a frame's first
///    row each lane that has an entry puts its R state bits before its chunk (section 9 counts
///    them as bits of the lane's first entry).
///
/// Throughput: a round of K values per cycle, less about two rounds per frame, while Q words a
/// cycle keep up. Latency: a frame must be whole before its encoding starts.
public enum TANSRoundEncoderCore {
    /// The longest chunk a lane takes in a round (a frame's first adds the R state bits).
    public static let longestEntry = 32
    /// The most rounds a lane's word may stay open (zero-bit entries: the frame bounds it).
    public static let longestOpenRounds = 512

    /// The encoder for a K-lane tANS codebook, `maxFrame` values per frame at most (a multiple of
    /// K) and `wordsPerBeat` words out per beat (default: as for the decoder).
    public static func module(codebook: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame, wordsPerBeat: Int? = nil) throws -> Module {
        guard case .tans(let r, let counts) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "tans", found: codebook.coder.name)
        }
        let k = codebook.lanes
        guard k >= 2 else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has one lane: its encoder is the one-lane tANS encoder")
        }
        guard TANSEncoderCore.maxFrameRange.contains(maxFrame), maxFrame % k == 0 else {
            throw CoreError.unsupported("MAX_FRAME at P = K must be a multiple of K = \(k) from \(k) to \(TANSEncoderCore.maxFrameRange.upperBound) values, is \(maxFrame)")
        }
        let layout = codebook.layout
        let tables = TANSTables(tableLog: r, counts: counts)
        let encoding = try TANSEncodeTables(tables: tables, layout: layout)
        let (parameters, chunkWidth, lengthWidth) = (encoding.parameters, encoding.chunkWidth, encoding.lengthWidth)
        guard chunkWidth <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(chunkWidth) bits; the K-lane tANS encoder at P = K takes entries of at most \(longestEntry) bits so far (P = 1 takes up to \(TANSEncoderCore.longestLaneEntry))")
        }
        let decodeTable = try TANSDecodeTable(tableLog: r, counts: counts, layout: layout)
        let q = wordsPerBeat ?? TANSLaneDecoderCore.defaultWordsPerBeat(lanes: k, tableLog: r, counts: counts, layout: layout,
                                                                        longest: decodeTable.longestEntry)
        guard (1...k).contains(q) else {
            throw CoreError.unsupported("words per beat must be 1 to the \(k) lanes, is \(q)")
        }
        let rows = maxFrame / k
        // A lane's open word holds a bit; its later rounds add at least the fewest bits of a
        // value's chunk, or, when an entry may have none, the frame's end fills it.
        let shortest = encoding.fewestValueBits.min() ?? 0
        let roundsOpen = shortest > 0 ? min((31 + shortest - 1) / shortest, rows + 2) : rows + 2
        guard roundsOpen <= longestOpenRounds else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of no bits, so a lane's word may stay open for a whole frame of \(rows) rounds; at P = K that needs MAX_FRAME at most \(k * (longestOpenRounds - 2)) (--max-frame)")
        }
        let (n, size) = (layout.symbolCount, 1 << r)
        let valueBits = layout.valueBits
        let rowDepth = 1 << max(1, bitsToAddress(rows))
        let chunkDepth = 1 << max(1, bitsToAddress(rows + 1))
        let laneChunk = WordLayout([("active", 1), ("chunk", chunkWidth), ("length", lengthWidth)])

        return try Module("\(codebook.name)_encoder") { m in
            m.comment("tANS encoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), tableLog \(r), \(k) lanes.")
            m.comment("K = \(k) lanes, P = \(k) values per beat (s_axis, value s at bits \(valueBits)s + \(valueBits - 1) to \(valueBits)s, tkeep per value, tlast ends a frame),")
            m.comment("Q = \(q) words per beat (m_axis, word 0 at bits 31-0, tkeep per word, tlast on a frame's last word, which ends its beat).")
            m.comment("MAX_FRAME = \(maxFrame): a longer input frame is cut into frames of at most \(maxFrame) values, each a valid frame.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Each lane has its own state loop and copies of the symbol and state ROMs; the K loops run side by side, one round of K entries a cycle.",
                "Latency: a frame is coded backwards once it is whole: its first word leaves about its rows + 10 cycles after its last beat (1,041 cycles from the first beat at K = 8, frames of 4,096, on the bundled sample).",
                "Throughput: a round of \(k) values per cycle in steady state (three frames overlap), less about two rounds a frame, while Q words a cycle keep up; measured 7.95 values/cycle at K = 8, Q = 3 past the first two frames on the bundled sample (7.13 over its 18 frames; make sim).",
            ], tables: [("entry_parameters (one copy per lane)", parameters), ("each lane's chunk in the chunk buffer", laneChunk)])
            let port = m.sinkPort("s_axis", StreamShape(dataWidth: k * valueBits, hasLast: true, keepWidth: k))
            let words = m.sourcePort("m_axis", StreamShape(dataWidth: 32 * q, hasLast: true, keepWidth: q))
            let input = m.skidStage(port, name: "in_skid")

            // 1. Fill: a row per beat, its values and tkeep.
            let rowReady = m.wire("row_ready", width: 1)
            let valuesBuffer = ReversingBuffer(m, name: "rows", depth: rowDepth, maxLength: rows, width: k * valueBits + k,
                                               writeValid: input.valid, writeData: cat(input.keep ?? input.valid, input.data),
                                               writeLast: input.last ?? input.valid, readReady: rowReady, registeredReady: true)
            input.ready.assign(valuesBuffer.writeReady)
            let rowKeep = valuesBuffer.readData[k * valueBits + k - 1, k * valueBits]

            // 2. Encode, backwards. Entry stage: EOF's round first when the frame's last row is
            // full, then the rows; per lane its symbol's ROM word (read here), raw bits, flags.
            let loopStep = m.wire("loop_step", width: 1)
            let paramAdvance = m.wire("param_advance", width: 1)
            let entryValid = m.register("entry_valid", width: 1, reset: 0)
            let entryEndRound = m.register("entry_end_round", width: 1, reset: nil)
            let entryFrameStart = m.register("entry_frame_start", width: 1, reset: nil)
            let endDone = m.register("end_done", width: 1, reset: 0)
            let entryAdvance = m.wire("entry_advance", !entryValid || paramAdvance)
            let lastRowFull = m.wire("last_row_full", rowKeep == (1 << k) - 1)
            let needEnd = m.wire("need_end", valuesBuffer.readValid && valuesBuffer.readFirst && lastRowFull && !endDone)
            rowReady.assign(entryAdvance && !needEnd)
            m.when(entryAdvance) {
                entryValid.assign(valuesBuffer.readValid)
                entryEndRound.assign(needEnd)
                entryFrameStart.assign(valuesBuffer.readLast && !needEnd)
                m.when(valuesBuffer.readValid) { endDone.assign(needEnd) }
            }
            struct Entry { let active: Signal; let isEnd: Signal; let symbol: Signal; let raw: Signal?; let rom: Signal }
            let addressWidth = max(1, bitsToAddress(max(2, n)))
            let romContents = encoding.symbolWords.count >= 2 ? encoding.symbolWords : encoding.symbolWords + [0]
            let scopes = (0..<k).map { m.scope("lane\($0)") }
            let entries: [Entry] = (0..<k).map { lane in
                m.within(scopes[lane]) {
                    let value = valuesBuffer.readData[lane * valueBits + valueBits - 1, lane * valueBits]
                    let symbol = ValueFields.symbol(of: value, layout: layout)
                    let raw = ValueFields.raw(of: value, layout: layout)
                    // EOF: lane 0 of EOF's own round, or the first lane past the frame's last value.
                    let endsHere = lane == 0 ? needEnd
                        : m.wire("ends_here", !needEnd && valuesBuffer.readFirst && !rowKeep[lane] && rowKeep[lane - 1])
                    let active = m.register("entry_active", width: 1, reset: nil)
                    let isEnd = m.register("entry_is_end", width: 1, reset: nil)
                    let entrySymbol = m.register("entry_symbol", width: layout.symbolBits, reset: nil)
                    let entryRaw = raw.map { m.register("entry_raw", width: $0.width, reset: nil) }
                    let rom = m.rom("entry_parameters", width: parameters.width, contents: romContents, style: TablePlacement.style(entries: n),
                                    address: symbol.resized(to: addressWidth), readEnable: entryAdvance, synchronous: true)
                    m.when(entryAdvance) {
                        active.assign(endsHere || (!needEnd && rowKeep[lane]))
                        isEnd.assign(endsHere)
                        entrySymbol.assign(symbol)
                        if let entryRaw, let raw { entryRaw.assign(raw) }
                    }
                    return Entry(active: active, isEnd: isEnd, symbol: entrySymbol, raw: entryRaw, rom: rom)
                }
            }

            // Parameter stage: the ROM words registered (block RAM's slow read off the loop), and k - 1.
            let paramValid = m.register("param_valid", width: 1, reset: 0)
            let paramFrameStart = m.register("param_frame_start", width: 1, reset: nil)
            paramAdvance.assign(!paramValid || loopStep)
            m.when(paramAdvance) {
                paramValid.assign(entryValid)
                paramFrameStart.assign(entryFrameStart)
            }

            // The loops, one per lane: X in [T, 2T); the state ROM's read register holds X - T.
            let chunkValid = m.register("coded_valid", width: 1, reset: 0)
            let chunkLast = m.register("coded_last", width: 1, reset: nil)
            let writeReady = m.wire("coded_write_ready", width: 1)
            let chunkFree = m.wire("coded_free", !chunkValid || writeReady)
            loopStep.assign(paramValid && chunkFree)
            var codedChunks: [Signal] = [], finalStates: [Signal] = []
            for lane in 0..<k {
                m.within(scopes[lane]) {
                    let entry = entries[lane]
                    let active = m.register("param_active", width: 1, reset: nil)
                    let isEnd = m.register("param_is_end", width: 1, reset: nil)
                    let symbol = m.register("param_symbol", width: layout.symbolBits, reset: nil)
                    let raw = entry.raw.map { m.register("param_raw", width: $0.width, reset: nil) }
                    let word = m.register("param_word", width: parameters.width, reset: nil)
                    let kLess = m.register("param_k_less", width: 4, reset: nil)
                    let entryWord = mux(entry.isEnd, m.constant(encoding.endWord, width: parameters.width), entry.rom)
                    m.when(paramAdvance) {
                        active.assign(entry.active)
                        isEnd.assign(entry.isEnd)
                        symbol.assign(entry.symbol)
                        if let raw, let entryRaw = entry.raw { raw.assign(entryRaw) }
                        word.assign(entryWord)
                        kLess.assign(parameters.field("k", of: entryWord) - 1)
                    }
                    let offset = parameters.field("offset", of: word)
                    let threshold = parameters.field("threshold", of: word)
                    let kBits = parameters.field("k", of: word)
                    let escaped = parameters.field("escaped", of: word) && !isEnd
                    // Fresh: the lane has coded none of this frame's entries yet (X = T).
                    let fresh = m.register("fresh", width: 1, reset: 1)
                    let codes = m.wire("codes", loopStep && active)
                    let stateIndex = m.wire("state_index", width: r)
                    let state = m.rom("states", width: r, contents: tables.statesByEntry.map(UInt64.init), style: .blockMemory,
                                      address: stateIndex, readEnable: codes, synchronous: true)
                    m.when(loopStep && paramFrameStart) { fresh.assign(1) }.elseWhen(codes) { fresh.assign(0) }
                    let x = m.wire("x", mux(fresh, m.constant(UInt64(size), width: r + 1), cat(m.constant(1, width: 1), state)))
                    let more = m.wire("x_ge_threshold", x >= threshold)
                    let nb = m.wire("nb", mux(more, kBits, kLess))
                    // X shifted by the entry's fewer state bits while the comparison decides on one more.
                    let fewer = m.wire("x_shifted", x >> kLess)
                    stateIndex.assign((mux(more, fewer >> 1, fewer).truncated(to: r) + offset).truncated(to: r))
                    // The chunk, left-aligned: the low nb bits of X, the literal, the raw bits.
                    let entryChunk = encoding.chunk(m, x: x, nb: nb, escaped: escaped, symbol: symbol, raw: raw, isEnd: isEnd)
                    let (stateChunk, chunk, length) = (entryChunk.stateChunk, entryChunk.chunk, entryChunk.length)
                    let coded = m.register("coded_chunk", width: laneChunk.width, reset: nil)
                    m.when(loopStep) {
                        coded.assign(laneChunk.word(["active": active, "chunk": mux(isEnd, stateChunk, chunk), "length": length], in: m))
                    }
                    codedChunks.append(coded)
                    finalStates.append(state)
                }
            }

            // 3. The chunk rows, into the chunk buffer; each frame's final states beside it.
            m.when(loopStep) {
                chunkValid.assign(1)
                chunkLast.assign(paramFrameStart)
            }.elseWhen(chunkFree) {
                chunkValid.assign(0)
            }
            let chunkReady = m.wire("chunks_take", width: 1)
            let chunks = ReversingBuffer(m, name: "chunks", depth: chunkDepth, maxLength: rows + 1, width: k * laneChunk.width,
                                         writeValid: chunkValid, writeData: m.cat(codedChunks.reversed()), writeLast: chunkLast,
                                         readReady: chunkReady, registeredReady: true)
            writeReady.assign(chunks.writeReady)
            // Stored as the frame's last chunk row is written: the state ROMs then show the final states.
            let frameStates = (0..<2).map { parity in (0..<k).map { m.register("frame_state\(parity)_lane\($0)", width: r, reset: nil) } }
            for parity in 0..<2 {
                m.when(chunkValid && chunkLast && writeReady && (chunks.writeParity == parity)) {
                    for lane in 0..<k { frameStates[parity][lane].assign(finalStates[lane]) }
                }
            }

            // 4. Write: the rows in order; a frame's first row puts each lane's state before its chunk.
            let first = chunks.readFirst
            var roundChunks: [LaneRoundPacker.Chunk] = []
            for lane in 0..<k {
                m.within(scopes[lane]) {
                    let row = chunks.readData[(lane + 1) * laneChunk.width - 1, lane * laneChunk.width]
                    let active = laneChunk.field("active", of: row)
                    let chunk = laneChunk.field("chunk", of: row)
                    let length = laneChunk.field("length", of: row)
                    let state = mux(chunks.readParity, frameStates[1][lane], frameStates[0][lane])
                    let width = r + chunkWidth
                    let data = mux(first, cat(state, chunk), cat(chunk, m.constant(0, width: r)))
                    let bits = mux(first, length.zeroExtended(to: 7) + r, length.zeroExtended(to: 7))
                    roundChunks.append(LaneRoundPacker.Chunk(data: m.wire("write_data", mux(active, data, m.constant(0, width: width))),
                                                             bits: m.wire("write_bits", mux(active, bits, m.constant(0, width: 7)))))
                }
            }
            let packer = LaneRoundPacker(m, name: "packer", lanes: k, wordsPerBeat: q, maxChunk: r + chunkWidth, roundsOpen: roundsOpen,
                                         valid: chunks.readValid, chunks: roundChunks, last: chunks.readLast, to: words)
            chunkReady.assign(packer.accepts)
        }
    }
}
