import Codec
import HDL
import HDLBlocks

/// The one-lane tANS encoder with two frames in flight (`--interleave 2`): the same ports and
/// the same stream as `TANSEncoderCore`, a state loop of two cycles.
///
/// The one-lane encoder's state loop runs in one cycle through a block RAM (the state ROM's
/// output -> X -> nb -> the shifted X plus the entry's offset -> the state ROM's address), which
/// holds it near 60 MHz on ECP5. Here the input's frames go in turn to two sides, even and odd
/// (frame f to side f mod 2), each with the one-lane encoder's value buffer and chunk buffer, two
/// entry registers, a state register and a chunk register. The sides take turns by cycle (a
/// phase register) on one loop: in a side's cycle the loop's logic codes that side's entry from
/// its registers (X = T + state; T at EOF), and the state ROM reads its next state; in the other
/// side's cycle the ROM's word goes into the side's state register. The entry ROM reads for the
/// side whose cycle is next, from its first entry register, and its word lands in the side's
/// second entry register with the entry: no block RAM output is on the loop's path, and the
/// comparison with the threshold runs beside the shift by k - 1 (registered with the entry).
/// The writer takes the sides' frames in turn, so words leave in frame order.
///
/// Throughput: one value per cycle while both sides have a frame (a stream of frames of similar
/// lengths); a frame alone codes at half a value per cycle. Latency: a frame's backward pass takes
/// two cycles a value. Block RAM: twice the one-lane encoder's buffers.
public enum TANSPairEncoderCore {
    /// The encoder for a version-1 tANS `codebook` (one lane, no set), frames of at most
    /// `maxFrame` values.
    public static func module(codebook: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame) throws -> Module {
        guard case .tans(let tableLog, let counts) = codebook.coder else {
            throw CoreError.unsupported("--interleave 2 is for tANS encoders; codebook '\(codebook.name)' is Huffman")
        }
        guard codebook.lanes == 1 else {
            throw CoreError.unsupported("--interleave 2 is for one-lane codebooks; '\(codebook.name)' has K = \(codebook.lanes) lanes, whose states already take turns in the loop")
        }
        try TANSEncoderCore.checkMaxFrame(maxFrame)
        let layout = codebook.layout
        let tables = TANSTables(tableLog: tableLog, counts: counts)
        let encoding = try TANSEncodeTables(tables: tables, layout: layout)
        let parameters = encoding.parameters
        let r = tableLog
        let chunkLayout = encoding.chunkLayout
        let endLayout = encoding.endLayout
        let depth = 1 << max(1, bitsToAddress(maxFrame))
        let symbolWords = encoding.symbolWords.count >= 2 ? encoding.symbolWords : encoding.symbolWords + [0]

        return try Module("\(codebook.name)_encoder") { m in
            m.comment("tANS encoder for codebook '\(codebook.name)', two frames in flight: \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), tableLog \(r).")
            m.comment("Values in (s_axis, tlast ends a frame), 32-bit stream words out (m_axis, tlast on a frame's last word).")
            m.comment("MAX_FRAME = \(maxFrame): a longer input frame is cut into frames of at most \(maxFrame) values, each a valid frame.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Two sides, even and odd frames, each with its value buffer, entry, state and chunk buffer; the entry and state ROMs are shared by cycle (a phase register), so each side's state loop has two cycles.",
                "Latency: a frame is coded backwards once it is whole, two cycles a value: its first word leaves about twice its length + 8 cycles after its last value.",
                "Throughput: one value per cycle while both sides hold a frame (consecutive frames of similar lengths); a frame alone, half a value per cycle.",
            ], tables: [("entry_parameters", parameters), ("the chunk buffers", chunkLayout), ("frame_end", endLayout)])
            let ports = EncoderPorts(m, valueBits: layout.valueBits)
            let phase = m.register("phase", width: 1, reset: 0)
            phase.assign(!phase)

            // 1. Fill: frame f goes to side f mod 2; a frame ends at tlast or at MAX_FRAME values.
            let fillSide = m.register("fill_side", width: 1, reset: 0)
            let fillCount = m.register("fill_count", width: bitsToAddress(maxFrame + 1), reset: 0)
            let cut = m.wire("fill_ends_frame", ports.valuesLast || fillCount == maxFrame - 1)
            let sides = ["even", "odd"].enumerated().map { index, name in
                Side(m, name: name, index: index, phase: phase, fillSide: fillSide, ports: ports, frameEnds: cut,
                     depth: depth, maxFrame: maxFrame, layout: layout, encoding: encoding)
            }
            let inputReady = m.wire("input_ready", mux(fillSide, sides[1].valueWriteReady, sides[0].valueWriteReady))
            ports.values.ready.assign(inputReady)
            m.when(ports.values.valid && inputReady) {
                m.when(cut) {
                    fillSide.assign(!fillSide)
                    fillCount.assign(0)
                }.otherwise {
                    fillCount.assign(fillCount + 1)
                }
            }

            // 2. The shared loop: the side whose phase it is steps; its entry, parameters and
            // state are picked by the phase, the state ROM's word goes back to its state register
            // in the next cycle (the other side's). The entry ROM reads for the other side: its
            // first entry register's symbol, the word lands in its second.
            let symbolAddress = mux(phase, sides[0].symbol, sides[1].symbol).resized(to: max(1, bitsToAddress(max(2, 1 << layout.symbolBits))))
            let romWord = m.rom("entry_parameters", width: parameters.width, contents: symbolWords,
                                style: TablePlacement.style(entries: symbolWords.count), address: symbolAddress, synchronous: true)
            func pick(_ f: (Side) -> Signal) -> Signal { mux(phase, f(sides[1]), f(sides[0])) }
            let isEnd = m.wire("loop_is_end", pick { $0.loopIsEnd })
            let word = m.wire("loop_parameters", pick { $0.parameterWord })
            let kLess = m.wire("loop_k_less", pick { $0.kLess })
            let state = m.wire("loop_state", pick { $0.state })
            let x = m.wire("x", mux(isEnd, m.constant(UInt64(1 << r), width: r + 1), cat(m.constant(1, width: 1), state)))
            let k = parameters.field("k", of: word)
            // X shifted by the entry's fewer state bits (k - 1, registered with the parameters)
            // while the comparison decides on one more: the two run side by side.
            let more = m.wire("x_ge_threshold", x >= parameters.field("threshold", of: word))
            let fewer = m.wire("x_shifted", x >> kLess)
            let nb = m.wire("nb", mux(more, k, k - 1))
            let stateIndex = m.wire("state_index", (mux(more, fewer >> 1, fewer).truncated(to: r) + parameters.field("offset", of: word)).truncated(to: r))
            let escaped = parameters.field("escaped", of: word) && !isEnd
            let coded = encoding.chunk(m, x: x, nb: nb, escaped: escaped, symbol: pick { $0.loopSymbol },
                                       raw: zip2(sides[0].loopRaw, sides[1].loopRaw).map { mux(phase, $1, $0) }, isEnd: nil)
            let nextState = m.rom("states", width: r, contents: tables.statesByEntry.map(UInt64.init), style: .blockMemory,
                                  address: stateIndex, readEnable: sides[0].loopStep || sides[1].loopStep, synchronous: true)
            for side in sides {
                side.finish(m, romWord: romWord, nextState: nextState, encoding: encoding, stateBitsLeft: coded.stateBitsLeft, nb: nb,
                            chunk: coded.chunk, length: coded.length)
            }

            // 3. Write: the sides' frames in turn (frame order), each: its state, its chunks in
            // value order, EOF's chunk with `last`.
            let turn = m.register("write_side", width: 1, reset: 0)
            let wroteState = m.register("wrote_state", width: 1, reset: 0)
            let endPending = m.register("end_pending", width: 1, reset: 0)
            let pendingEnd = m.register("pending_end", width: endLayout.width, reset: nil)
            func next(_ f: (Side) -> Signal) -> Signal { mux(turn, f(sides[1]), f(sides[0])) }
            let readValid = m.wire("write_chunk_valid", next { $0.chunks.readValid })
            let readFirst = next { $0.chunks.readFirst }
            let readLast = next { $0.chunks.readLast }
            let chunkItem = m.wire("write_chunk", next { $0.chunks.readData })
            let stateItem = m.wire("write_state", next { $0.frameState })
            let endItem = next { $0.frameEnd }
            let offerState = m.wire("offer_state", !endPending && readValid && readFirst && !wroteState)
            func left(_ s: Signal) -> Signal { WordPacker.leftAligned(s, in: m) }
            let itemValid = endPending || readValid
            let itemData = mux(endPending, left(endLayout.field("state_bits", of: pendingEnd)),
                               mux(offerState, left(stateItem), left(chunkLayout.field("chunk", of: chunkItem))))
            let itemBits = mux(endPending, endLayout.field("count", of: pendingEnd).zeroExtended(to: 7),
                               mux(offerState, m.constant(UInt64(r), width: 7), chunkLayout.field("length", of: chunkItem).zeroExtended(to: 7)))
            let offer = WordPacker.Chunk(valid: itemValid, data: itemData, bits: itemBits, last: endPending)
            let accepts = WordPacker(m, name: "packer", maxChunk: encoding.chunkWidth, chunk: offer, to: ports.words).accepts
            let chunkTaken = m.wire("chunks_take", accepts && !endPending && !offerState)
            for side in sides { side.chunkReady.assign(chunkTaken && (turn == side.index)) }
            m.when(accepts && itemValid) {
                m.when(endPending) {
                    endPending.assign(0)
                    wroteState.assign(0)
                    turn.assign(!turn)
                }.elseWhen(offerState) {
                    wroteState.assign(1)
                    pendingEnd.assign(endItem)
                }.elseWhen(readLast) {
                    endPending.assign(1)
                }
            }
        }
    }

    /// One side (the even or the odd frames): the one-lane encoder's value buffer, two entry
    /// registers, state register, chunk register and chunk buffer, stepping in the cycles of its
    /// phase (the loop's logic is shared).
    private struct Side {
        let index: Int
        private let prefix: String
        private let mine: Signal
        let valueWriteReady: Signal
        /// The first entry register's symbol (the entry ROM's address, read in the other side's cycle).
        let symbol: Signal
        /// The second entry register: what the loop codes when this side steps.
        private let loopValid: Signal
        let loopIsEnd: Signal
        let loopFrameStart: Signal
        let loopSymbol: Signal
        let loopRaw: Signal?
        let parameterWord: Signal
        let kLess: Signal
        let state: Signal
        let loopStep: Signal
        // The first entry register, taken into the second as the loop steps.
        private let entryValid: Signal
        private let entryIsEnd: Signal
        private let entryFrameStart: Signal
        private let entryRaw: Signal?
        private let secondAdvance: Signal
        // The chunk register and buffer (their inputs driven in `finish`).
        let chunks: ReversingBuffer
        let chunkReady: Signal
        let frameState: Signal
        let frameEnd: Signal
        private let writeReady: Signal
        private let chunkValid: Signal
        private let chunkData: Signal
        private let chunkLast: Signal
        private let endChunk: Signal
        private let written: Signal

        init(_ m: ModuleBuilder, name: String, index: Int, phase: Signal, fillSide: Signal, ports: EncoderPorts, frameEnds: Signal,
             depth: Int, maxFrame: Int, layout: ValueLayout, encoding: TANSEncodeTables) {
            self.index = index
            let p = name + "_"
            prefix = p
            let r = encoding.tableLog
            let parameters = encoding.parameters
            mine = m.wire(p + "turn", phase == index)
            let valueReady = m.wire(p + "value_ready", width: 1)
            let values = ReversingBuffer(m, name: p + "values", depth: depth, maxLength: maxFrame, width: layout.valueBits,
                                         writeValid: ports.values.valid && (fillSide == index), writeData: ports.values.data,
                                         writeLast: frameEnds, readReady: valueReady)
            valueWriteReady = values.writeReady

            // First entry register: EOF before a frame's values, then the values last first.
            loopStep = m.wire(p + "loop_step", width: 1)
            entryValid = m.register(p + "entry_valid", width: 1, reset: 0)
            entryIsEnd = m.register(p + "entry_is_end", width: 1, reset: nil)
            entryFrameStart = m.register(p + "entry_frame_start", width: 1, reset: nil)
            symbol = m.register(p + "entry_symbol", width: layout.symbolBits, reset: nil)
            let raw = ValueFields.raw(of: values.readData, layout: layout)
            entryRaw = raw.map { m.register(p + "entry_raw", width: $0.width, reset: nil) }
            // Second entry register, with the entry's parameters.
            loopValid = m.register(p + "loop_valid", width: 1, reset: 0)
            loopIsEnd = m.register(p + "loop_is_end", width: 1, reset: nil)
            loopFrameStart = m.register(p + "loop_frame_start", width: 1, reset: nil)
            loopSymbol = m.register(p + "loop_symbol", width: layout.symbolBits, reset: nil)
            loopRaw = raw.map { m.register(p + "loop_raw", width: $0.width, reset: nil) }
            parameterWord = m.register(p + "parameters", width: parameters.width, reset: nil)
            kLess = m.register(p + "k_less", width: 4, reset: nil)
            state = m.register(p + "state", width: r, reset: nil)

            secondAdvance = m.wire(p + "loop_advance", mine && (!loopValid || loopStep))
            let firstAdvance = m.wire(p + "entry_advance", mine && (!entryValid || secondAdvance))
            let endDone = m.register(p + "end_done", width: 1, reset: 0)
            let needEnd = m.wire(p + "need_end", values.readValid && values.readFirst && !endDone)
            valueReady.assign(firstAdvance && !needEnd)
            let (first, firstIsEnd, firstFrameStart, firstSymbol, firstRaw) = (entryValid, entryIsEnd, entryFrameStart, symbol, entryRaw)
            m.when(firstAdvance) {
                first.assign(values.readValid)
                firstIsEnd.assign(needEnd)
                firstFrameStart.assign(values.readLast && !needEnd)
                firstSymbol.assign(ValueFields.symbol(of: values.readData, layout: layout))
                if let firstRaw, let raw { firstRaw.assign(raw) }
                m.when(values.readValid) { endDone.assign(needEnd) }
            }

            // The chunk register and chunk buffer (the buffer's ready is a register, off the loop).
            chunkValid = m.register(p + "coded_valid", width: 1, reset: 0)
            chunkData = m.register(p + "coded_chunk", width: encoding.chunkLayout.width, reset: nil)
            chunkLast = m.register(p + "coded_last", width: 1, reset: nil)
            endChunk = m.register(p + "end_chunk", width: encoding.endLayout.width, reset: nil)
            writeReady = m.wire(p + "coded_write_ready", width: 1)
            written = m.wire(p + "coded_written", mine && chunkValid && writeReady)
            loopStep.assign(mine && loopValid && (!chunkValid || writeReady))
            chunkReady = m.wire(p + "chunks_take", width: 1)
            chunks = ReversingBuffer(m, name: p + "chunks", depth: depth, maxLength: depth, width: encoding.chunkLayout.width,
                                     writeValid: chunkValid && mine, writeData: chunkData, writeLast: chunkLast, readReady: chunkReady,
                                     registeredReady: true)
            // Per frame (by the chunk buffer's parity): the final state and EOF's chunk, stored as
            // the frame's last chunk is written (the state register holds the final state then:
            // the chunk is written in this side's cycle after the one that coded it).
            let frameStates = (0..<2).map { m.register(p + "frame_state\($0)", width: r, reset: nil) }
            let frameEnds = (0..<2).map { m.register(p + "frame_end\($0)", width: encoding.endLayout.width, reset: nil) }
            let (finalState, frameEndChunk) = (state, endChunk)
            for q in 0..<2 {
                m.when(written && chunkLast && (chunks.writeParity == q)) {
                    frameStates[q].assign(finalState)
                    frameEnds[q].assign(frameEndChunk)
                }
            }
            frameState = mux(chunks.readParity, frameStates[1], frameStates[0])
            frameEnd = mux(chunks.readParity, frameEnds[1], frameEnds[0])
        }

        /// The side's registers from the shared logic: the second entry register takes the first
        /// with the entry ROM's word, the state register the state ROM's word in the cycle after
        /// this side's step, the chunk register the coded chunk.
        func finish(_ m: ModuleBuilder, romWord: Signal, nextState: Signal, encoding: TANSEncodeTables, stateBitsLeft: Signal, nb: Signal,
                    chunk: Signal, length: Signal) {
            writeReady.assign(chunks.writeReady)
            let word = mux(entryIsEnd, m.constant(encoding.endWord, width: encoding.parameters.width), romWord)
            m.when(secondAdvance) {
                loopValid.assign(entryValid)
                loopIsEnd.assign(entryIsEnd)
                loopFrameStart.assign(entryFrameStart)
                loopSymbol.assign(symbol)
                if let loopRaw, let entryRaw { loopRaw.assign(entryRaw) }
                parameterWord.assign(word)
                kLess.assign(encoding.parameters.field("k", of: word) - 1)
            }
            let stepped = m.register(prefix + "stepped", width: 1, reset: 0)
            stepped.assign(loopStep)
            m.when(stepped) { state.assign(nextState) }
            m.when(loopStep && loopIsEnd) {
                endChunk.assign(encoding.endLayout.word(["state_bits": stateBitsLeft, "count": nb], in: m))
            }
            m.when(loopStep && !loopIsEnd) {
                chunkValid.assign(1)
                chunkData.assign(encoding.chunkLayout.word(["chunk": chunk, "length": length], in: m))
                chunkLast.assign(loopFrameStart)
            }.elseWhen(written) {
                chunkValid.assign(0)
            }
        }
    }
}
