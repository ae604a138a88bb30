import Codec
import HDL
import HDLBlocks

/// The pipelined K-lane decoders (FORMAT.md sections 9 and 10), Huffman and tANS, at P = 1
/// value and Q = 1 word per beat: one entry per cycle, in entry order, each lane's loop given
/// (at least) two cycles, as the lanes take turns.
///
/// **The steps.** A frame is a sequence of steps, one per cycle: entries 0, 1, 2, ... until EOF,
/// entry j in lane j mod K (tANS: each lane's first entry is preceded by the lane's *start*, its R
/// state bits). A step goes through two stages:
/// - *read*: the lane's held bits are merged with each of the next two stream words (the step
///   takes the first if the step before it takes none, else the second). tANS: the decode table
///   (a block RAM) shows the entry of the lane's state. Huffman: the held bits are matched against
///   the code classes to learn whether they hold a whole entry.
/// - *step*: when the entry's bits are more than the lane holds, the lane takes the next stream
///   word (section 9's order: a lane takes a word exactly when it needs a bit it lacks). The
///   lane keeps the rest of the bits. tANS: the state bits give the lane's next state, which is
///   the table's next read address when the next step is this lane's (at K = 2 always).
///   Huffman: the merged bits are matched against the classes.
///
/// The merged bits start with the lane's held bits whichever word was merged behind them (or
/// none), so the entry's fields come from them whether or not the step takes the word: whether it
/// needs one is off the table's loop and the lane's datapath. A take leaves the word window a
/// cycle later, so the window's shift does not wait for the step either.
///
/// **Lanes.** Each lane holds the rest of its last word (up to 32 bits, left-aligned), their
/// count and (tANS) its state. Entries must be at most 32 bits, so a step takes at most one word.
/// A tANS lane's start step waits for a bubble before the lane's first entry (the entry reads the
/// state the start writes). At EOF every lane drops its bits; the step already in the read stage
/// is dropped, and the next frame starts in lane 0.
///
/// **Errors.** `error` (sticky until reset): tANS, at EOF a lane that had an entry in the frame is
/// not in state 0; Huffman, bits that start no code (an incomplete code). After an error, words
/// are taken and dropped.
///
/// **Frame ends** (`framing.takesLast`, an engine of a decoder with frame engines, FORMAT.md
/// section 12): each word carries its `tlast` through the window (a 33rd bit). Section 9 has a
/// lane take a word exactly when it needs one, so a frame is right when the step that takes its
/// `tlast` word comes at or before EOF and no step takes a word after it; else `error`. (A step
/// that needs a word after the `tlast` word raises it when that word arrives.)
public enum PipelinedLaneDecoderCore {
    /// The widest entry a step can take from one word.
    public static let longestEntry = 32

    /// What the coder decodes an entry with.
    enum Entries {
        case tans(TANSDecodeTable)
        case huffman(HuffmanEntryDecoding)
    }

    /// The decoder for a K-lane (K >= 2) codebook of either coder.
    public static func module(codebook: Codebook, framing: DecoderFraming = .plain) throws -> Module {
        let k = codebook.lanes
        guard k >= 2 else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has one lane: its decoder is the one-lane \(codebook.coder.name) decoder")
        }
        let layout = codebook.layout
        let entries: Entries
        let longest: Int
        switch codebook.coder {
        case .tans(let tableLog, let counts):
            let table = try TANSDecodeTable(tableLog: tableLog, counts: counts, layout: layout)
            (entries, longest) = (.tans(table), table.longestEntry)
        case .huffman:
            let decoding = HuffmanEntryDecoding(try HuffmanTables(codebook))
            (entries, longest) = (.huffman(decoding), decoding.longest)
        }
        guard longest <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(longest) bits; the pipelined K-lane decoder takes at most one word per step, so entries must be at most \(longestEntry) bits so far")
        }
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let payloadBits = symbolBits + rawBits
        let laneBits = max(1, bitsToAddress(k))
        // tANS: the held entry is the bits from the state bits on, how many state bits, ESC, the symbol.
        let heldLayout: WordLayout
        var tables: [(name: String, layout: WordLayout)] = []
        var describe: String
        switch entries {
        case .tans(let table):
            heldLayout = WordLayout([("bits", table.tableLog + payloadBits), ("nb", 4), ("escape", 1), ("symbol", symbolBits)])
            tables = [("decode_table", table.layout), ("held entry", heldLayout)]
            describe = "tANS decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(table.tableLog), \(k) lanes."
        case .huffman(let decoding):
            heldLayout = decoding.heldLayout
            tables = [("the symbol table", WordLayout([("symbol", symbolBits)])), ("held entry", heldLayout)]
            describe = "Huffman decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), codes up to \(decoding.tables.code.maxLength) bits, \(k) lanes."
        }
        let isTANS: Bool = if case .tans = entries { true } else { false }

        return try Module("\(codebook.name)_decoder") { m in
            m.comment(describe)
            m.comment("K = \(k) lanes, P = 1 value per beat (m_axis, tlast on a frame's last value), Q = 1 word per beat (s_axis, first bit at bit 31);")
            m.comment("error is sticky until reset. Pipelined: a step per cycle in entry order, each lane's loop given two cycles or more.")
            if isTANS { m.comment("The decode table is a block RAM whose read data is registered in the fabric.") }
            CoreHeader.describe(m, codebook: codebook, timing: [
                isTANS ? "Throughput: one value per cycle, less 2K + 2 cycles per frame (each lane's start step and bubble, EOF's flush) and a cycle when a needed word is late; measured 0.998 values/cycle at K = 2 on the bundled sample (make sim)."
                    : "Throughput: one value per cycle, less 2 cycles per frame (EOF's flush) and a cycle when a needed word is late; measured 0.999 values/cycle at K = 2 on the bundled sample (hwgen sim --values-per-beat 1).",
                "Latency: \(isTANS ? 9 : 5) cycles from the first word taken to the first value offered at K = 2 on the bundled sample (hwgen sim measures yours).",
            ], tables: tables)
            let ports = DecoderPorts(m, valueBits: layout.valueBits, framing: framing)
            let failed = m.register("failed", width: 1, reset: 0)

            // Words wait in a window; after an error they are taken and dropped.
            let wordBits = ports.words.last == nil ? 32 : 33
            let accepted = m.stream("accepted", StreamShape(dataWidth: wordBits))
            accepted.data.assign(ports.words.last.map { cat($0, ports.words.data) } ?? ports.words.data)
            accepted.valid.assign(ports.words.valid && !failed)
            ports.words.ready.assign(failed || accepted.ready)
            // A step's take leaves the window a cycle later (`pending`), so the window's shift
            // does not wait for the step's comparison; until then the words are seen one slot up.
            // Room for four words: at full rate two steps in a row can take a word and still
            // find the next one held.
            let words = WordWindow(m, name: "words", input: accepted, maxTake: 3, wordBits: wordBits)
            let pending = m.register("pending_take", width: 1, reset: 0)
            let frontWords = [m.wire("front0", mux(pending, words.words[1], words.words[0])),
                              m.wire("front1", mux(pending, words.words[2], words.words[1]))]
            let front = wordBits == 32 ? frontWords : frontWords.map { $0.bits(31, 0) }
            let waiting = m.wire("words_waiting", words.count - pending.zeroExtended(to: words.count.width))
            let hasWord = m.wire("has_word", waiting != 0)
            let hasTwoWords = m.wire("has_two_words", waiting > 1)

            let output = HeldValueOutput(m, name: "out", valueBits: layout.valueBits, heldWidth: heldLayout.width, to: ports.values)
            let advance = m.wire("advance", width: 1)

            // Each lane: the rest of its word (left-aligned; what follows is ignored), the count
            // of those bits (`have`) and 32 - have (`gap`, the shift that puts a word behind them);
            // tANS: its state, and whether it started in this frame.
            struct Lane { let bits, have, gap: Signal; let state, started: Signal? }
            let lanes = (0..<k).map { lane in
                m.scope("lane\(lane)") {
                    Lane(bits: m.register("bits", width: 32, reset: nil), have: m.register("have", width: 6, reset: 0),
                         gap: m.register("gap", width: 6, reset: 32),
                         state: entries.tableLog.map { m.register("state", width: $0, reset: nil) },
                         started: isTANS ? m.register("started", width: 1, reset: 0) : nil)
                }
            }
            // The first `have` bits of `held`, zeros after them.
            func kept(_ held: Signal, have: Signal, name: String) -> Signal {
                m.wire(name, held & ~(m.constant(0xFFFF_FFFF, width: 32) >> have))
            }
            // The lane's bits (`kept`, zeros after them) and then `word`, `gap` bits further on.
            func merge(_ kept: Signal, gap: Signal, word: Signal, name: String) -> Signal {
                let placed = Funnel.top(64, of: cat(m.constant(0, width: 32), word), shiftedLeftBy: gap, name: name, in: m)
                return m.wire("\(name)_merged", cat(kept, m.constant(0, width: 32)) | placed)
            }

            // The next step to issue: its lane; tANS: whether it is the lane's start, and whether
            // the frame is still in its first round.
            let issueLane = m.register("issue_lane", width: laneBits, reset: 0)
            let issueStart = isTANS ? m.register("issue_start", width: 1, reset: 1) : m.constant(0, width: 1)
            let firstRound = isTANS ? m.register("first_round", width: 1, reset: 1) : m.constant(0, width: 1)

            // Read stage: the lane's bits merged with each candidate word.
            let readScope = m.scope("read")
            let (readValid, readLane, readStart, readBits, readHave, readGap) = m.within(readScope) {
                let lane = m.register("lane", width: laneBits, reset: nil)
                return (m.register("valid", width: 1, reset: 0), lane,
                        isTANS ? m.register("start", width: 1, reset: nil) : m.constant(0, width: 1),
                        m.wire("bits", LaneSelect.pick(lanes.map(\.bits), by: lane)), m.wire("have", LaneSelect.pick(lanes.map(\.have), by: lane)),
                        m.wire("gap", LaneSelect.pick(lanes.map(\.gap), by: lane)))
            }
            let readKept = kept(readBits, have: readHave, name: "read_kept")
            let mergedFirst = merge(readKept, gap: readGap, word: front[0], name: "read_first")
            let mergedSecond = merge(readKept, gap: readGap, word: front[1], name: "read_second")

            // Step stage.
            let stepValid = m.register("step_valid", width: 1, reset: 0)
            let stepLane = m.register("step_lane", width: laneBits, reset: nil)
            let stepStart = isTANS ? m.register("step_start", width: 1, reset: nil) : m.constant(0, width: 1)
            let stepBits = m.register("step_bits", width: 32, reset: nil)
            let stepHave = m.register("step_have", width: 6, reset: nil)
            let stepGap = m.register("step_gap", width: 6, reset: nil)
            let stepMerged = m.register("step_merged", width: 64, reset: nil)
            let stepMergedValid = m.register("step_merged_valid", width: 1, reset: nil)
            // The step's bits: the lane's bits and then the next word.
            let chosen = stepMerged

            // What the coder makes of the step: the bits it consumes, whether it needs a word,
            // EOF, and the held entry; a wire set when the step cannot go for the coder's reasons.
            let step: CoderStep
            switch entries {
            case .tans(let table):
                step = tansStep(m, table: table, layout: layout, heldLayout: heldLayout, lanes: lanes.compactMap(\.state), issueLane: issueLane,
                                stepValid: stepValid, stepLane: stepLane, stepStart: stepStart, stepHave: stepHave, chosen: chosen,
                                advance: advance, held: output.held)
            case .huffman(let decoding):
                step = huffmanStep(m, decoding: decoding, heldLayout: heldLayout, readKept: readKept, readHave: readHave,
                                   stepHave: stepHave, chosen: chosen, advance: advance, held: output.held)
            }
            let needs = step.needs, consumed = step.consumed
            let newHave = m.wire("new_have", step.startHave.map { mux(stepStart, $0, mux(needs, stepHave + 32 - consumed, stepHave - consumed)) }
                                    ?? mux(needs, stepHave + 32 - consumed, stepHave - consumed))
            let rest = Funnel.top(32, of: chosen, shiftedLeftBy: consumed, name: "rest", in: m)
            let newBits = m.wire("new_bits", step.startBits.map { mux(stepStart, $0, rest) } ?? rest)

            let bitsReady = m.wire("bits_ready", stepMergedValid || step.fitsWithoutWord)
            let complete = m.wire("complete", stepValid && !failed && bitsReady && !step.blocked && (stepStart || output.accepts))
            let frameEnds = m.wire("frame_ends", complete && step.isEnd)
            let takes = m.wire("takes", complete && needs)
            advance.assign(!failed && (!stepValid || complete))
            words.take(m, pending)
            pending.assign(takes)
            step.finish(m, complete, stepValid && bitsReady)
            m.when(step.fails && !failed) { failed.assign(1) }

            // A step waiting for a word that had not arrived when it left the read stage merges it here.
            let lateMerged = merge(kept(stepBits, have: stepHave, name: "step_kept"), gap: stepGap, word: front[0], name: "late")
            m.when(stepValid && needs && !stepMergedValid && hasWord) {
                stepMerged.assign(lateMerged)
                stepMergedValid.assign(1)
            }

            // tANS: a lane's start and its first entry need a bubble between them.
            let hazard = isTANS ? m.wire("hazard", readValid && (readLane == issueLane)) : m.constant(0, width: 1)
            let lastLane = issueLane == k - 1
            m.when(advance) {
                stepValid.assign(readValid && !frameEnds)
                stepLane.assign(readLane)
                if isTANS { stepStart.assign(readStart) }
                stepBits.assign(readBits)
                stepHave.assign(readHave)
                stepGap.assign(readGap)
                // The word after the one the leaving step takes, if it takes one.
                stepMerged.assign(mux(takes, mergedSecond, mergedFirst))
                stepMergedValid.assign(mux(takes, hasTwoWords, hasWord))
                step.load(m)
                m.when(frameEnds) {
                    // The next frame: lane 0's first step enters the read stage.
                    readValid.assign(1)
                    readLane.assign(0)
                    if isTANS {
                        readStart.assign(1)
                        issueLane.assign(0)
                        issueStart.assign(0)
                        firstRound.assign(1)
                    } else {
                        issueLane.assign(1)
                    }
                }.elseWhen(hazard) {
                    readValid.assign(0)
                }.otherwise {
                    readValid.assign(1)
                    readLane.assign(issueLane)
                    if isTANS {
                        readStart.assign(issueStart)
                        m.when(issueStart) {
                            issueStart.assign(0)
                        }.elseWhen(lastLane) {
                            issueLane.assign(0)
                            firstRound.assign(0)
                        }.otherwise {
                            issueLane.assign(issueLane + 1)
                            issueStart.assign(firstRound)
                        }
                    } else {
                        m.when(lastLane) { issueLane.assign(0) }.otherwise { issueLane.assign(issueLane + 1) }
                    }
                }
            }

            // The lane of the step: its new bits (tANS: and state); at EOF every lane drops its bits.
            for (index, lane) in lanes.enumerated() {
                m.when(frameEnds) {
                    lane.have.assign(0)
                    lane.gap.assign(32)
                    lane.started?.assign(0)
                }.elseWhen(complete && (stepLane == index)) {
                    lane.bits.assign(newBits)
                    lane.have.assign(newHave)
                    lane.gap.assign(m.constant(32, width: 6) - newHave)
                    if let state = lane.state, let newState = step.newState { state.assign(newState) }
                    lane.started?.assign(1)
                }
            }
            // tANS: at EOF the new state must be 0, and so must every other lane that had an entry.
            if let newState = step.newState {
                let othersAtZero = lanes.enumerated().compactMap { index, lane -> Signal? in
                    guard let state = lane.state, let started = lane.started else { return nil }
                    return !started || (state == 0) || (stepLane == index)
                }
                let statesAtZero = m.wire("states_at_zero", othersAtZero.reduce(newState == 0) { $0 && $1 })
                m.when(frameEnds && !statesAtZero) { failed.assign(1) }
            }

            // Section 12: the step that takes the tlast word (the front word: words leave in
            // order) comes at or before EOF, and no step takes a word after it.
            if ports.words.last != nil {
                let lastTaken = m.register("frame_last_taken", width: 1, reset: 0)
                let takesLastWord = m.wire("takes_last_word", takes && frontWords[0][32])
                m.when(frameEnds) { lastTaken.assign(0) }.elseWhen(takesLastWord) { lastTaken.assign(1) }
                let frameWrong = m.wire("frame_wrong", (takes && lastTaken) || (frameEnds && !(lastTaken || takesLastWord)))
                m.when(frameWrong) { failed.assign(1) }
            }

            output.update(m, step: complete && !stepStart, isEnd: step.isEnd, entry: step.newHeld, value: step.value)
            ports.error.assign(failed)
        }
    }

    /// The coder's part of the step stage.
    struct CoderStep {
        /// Bits the entry consumes (6 bits).
        let consumed: Signal
        /// The entry needs the next stream word.
        let needs: Signal
        /// The step may go without its merged word (its bits are all held).
        let fitsWithoutWord: Signal
        /// The step cannot go (bits that start no code).
        let blocked: Signal
        /// Raise `error`.
        let fails: Signal
        let isEnd: Signal
        /// The held entry the step leaves, and the value of the one held before (from `held`).
        let newHeld: Signal
        let value: Signal
        /// tANS: the lane's next state; a start step's bits and count.
        let newState: Signal?
        let startBits: Signal?
        let startHave: Signal?
        /// Loads the coder's step registers from the read stage (inside `when(advance)`).
        let load: (ModuleBuilder) -> Void
        /// Updates the coder's registers and wires once the step's signals are known: whether it
        /// goes, and whether its bits are there.
        let finish: (ModuleBuilder, _ complete: Signal, _ bitsThere: Signal) -> Void
    }

    /// tANS: the table is read with the state of the lane whose step enters the read stage.
    static func tansStep(_ m: ModuleBuilder, table: TANSDecodeTable, layout: ValueLayout, heldLayout: WordLayout, lanes states: [Signal],
                         issueLane: Signal, stepValid: Signal, stepLane: Signal, stepStart: Signal, stepHave: Signal,
                         chosen: Signal, advance: Signal, held: Signal) -> CoderStep {
        let r = table.tableLog, tableLayout = table.layout
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let payloadBits = symbolBits + rawBits
        let tableAddress = m.wire("table_address", width: r)
        let entry = m.rom("decode_table", width: tableLayout.width, contents: table.contents, style: .blockMemory,
                          address: tableAddress, readEnable: advance, synchronous: true)
        let stepEntry = m.register("step_entry", width: tableLayout.width, reset: nil)
        let consumed = m.wire("consumed", tableLayout.field("consumed", of: stepEntry))
        let shift = tableLayout.field("shift", of: stepEntry)
        let kind = tableLayout.field("kind", of: stepEntry)
        let isEnd = m.wire("is_end", !stepStart && kind == Int(TANSDecodeTable.Kind.end.rawValue))
        let isEscape = m.wire("is_escape", kind == Int(TANSDecodeTable.Kind.escape.rawValue))
        // A start step always needs a word: lanes start the frame empty.
        let needs = m.wire("needs", stepStart || (consumed > stepHave))
        let topBits = chosen[63, 64 - r]
        let newState = m.wire("new_state", mux(stepStart, topBits, tableLayout.field("base", of: stepEntry) | (topBits >> shift)))
        // The table's next address: the state of the lane whose step enters the read stage;
        // when the step leaving the step stage is that lane's, its new state.
        let bypass = m.wire("bypass", stepValid && (stepLane == issueLane))
        tableAddress.assign(mux(bypass, newState, LaneSelect.pick(states, by: issueLane)))
        // The step goes when its merged word is there, or (a cycle after it found it needs no
        // word: the end of a stream, or a word late) when it fits in the lane's bits, so whether
        // the pipeline moves does not wait for the comparison.
        let fits = m.register("step_fits", width: 1, reset: 0)

        // The value, on the way out of the held register: the payload behind the state bits.
        let heldBits = heldLayout.field("bits", of: held)
        let payload = m.wire("payload", Funnel.top(payloadBits, of: heldBits, shiftedLeftBy: heldLayout.field("nb", of: held), name: "after_state", in: m))
        let nb = m.constant(UInt64(r), width: 4) - shift
        let newHeld = heldLayout.word(["bits": chosen[63, 64 - r - payloadBits], "nb": nb, "escape": isEscape,
                                       "symbol": tableLayout.field("symbol", of: stepEntry)], in: m)
        let zero = m.constant(0, width: 1)
        return CoderStep(consumed: consumed, needs: needs, fitsWithoutWord: fits, blocked: zero, fails: zero, isEnd: isEnd,
                         newHeld: newHeld, value: TANSDecodeTable.value(m, payload: payload, escape: heldLayout.field("escape", of: held),
                                                                         tableSymbol: heldLayout.field("symbol", of: held), layout: layout),
                         newState: newState, startBits: chosen[63 - r, 32 - r], startHave: m.constant(UInt64(32 - r), width: 6),
                         load: { m in stepEntry.assign(entry) },
                         finish: { m, _, _ in
                             m.when(advance) { fits.assign(0) }.otherwise { fits.assign(stepValid && !needs) }
                         })
    }

    /// Huffman: whether the lane needs a word is known from its held bits (the code is
    /// prefix-free: they start with a whole entry exactly when a class matches them with all its
    /// bits held), so the read stage finds it; the step matches the merged bits.
    static func huffmanStep(_ m: ModuleBuilder, decoding: HuffmanEntryDecoding, heldLayout: WordLayout, readKept: Signal, readHave: Signal,
                            stepHave: Signal, chosen: Signal, advance: Signal, held: Signal) -> CoderStep {
        let maxLength = decoding.tables.code.maxLength
        let complete = decoding.tables.code.isComplete
        var readWhole = decoding.startsWholeEntry(m, top: readKept[31, 32 - maxLength], have: readHave)
        // An incomplete code's unused codes are the top of the space (canonical order): held bits
        // that start no code whatever follows need no word; the step then finds the invalid code
        // (at a stream's end too, as the reference decoder does).
        let space = CanonicalCode.kraftSum(decoding.tables.lengths) >> (16 - maxLength)  // in units of 2^-maxLength
        if !complete && space < 1 << maxLength {
            readWhole = readWhole || m.wire("read_starts_no_code", readKept[31, 32 - maxLength] >= space)
        }
        let stepNeeds = m.register("step_needs", width: 1, reset: nil)
        let top = m.wire("code_bits", chosen[63, 64 - maxLength])
        let match = decoding.match(m, top: top, consumedName: "consumed", consumedWidth: 6)
        let (hits, anyCode, isEscape, isEnd, consumed, codeLength) = (match.hits, match.anyCode, match.isEscape, match.isEnd, match.consumed, match.codeLength)
        let symbols = m.wire("symbol_read", width: 1)
        let symbolTable = decoding.symbolTable
        let symbolData = m.rom("symbols", width: decoding.tables.layout.symbolBits, contents: symbolTable,
                               style: TablePlacement.style(entries: symbolTable.count),
                               address: decoding.symbolAddress(m, top: top, hits: hits), readEnable: symbols, synchronous: true)
        // Bits that start no code: once the step's bits are there (merged, or all held).
        let bitsThere = m.wire("code_bits_there", width: 1)
        let invalid = complete ? m.constant(0, width: 1) : m.wire("invalid_code", bitsThere && !anyCode)
        let newHeld = heldLayout.word(["window": chosen[63, 64 - decoding.width], "length": codeLength, "escape": isEscape], in: m)
        return CoderStep(consumed: consumed, needs: stepNeeds, fitsWithoutWord: !stepNeeds, blocked: invalid, fails: invalid, isEnd: isEnd,
                         newHeld: newHeld, value: decoding.value(m, held: held, symbols: symbolData, name: "value"),
                         newState: nil, startBits: nil, startHave: nil,
                         load: { m in stepNeeds.assign(!readWhole) },
                         finish: { m, complete, there in
                             symbols.assign(complete)
                             bitsThere.assign(there)
                         })
    }
}

extension PipelinedLaneDecoderCore.Entries {
    /// tANS: the table's R.
    var tableLog: Int? { if case .tans(let table) = self { table.tableLog } else { nil } }
}
