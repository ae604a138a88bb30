import Codec
import HDL
import HDLBlocks

/// The pipelined K-lane tANS decoder (FORMAT.md sections 9 and 10) at P = 1 value and Q = 1
/// word per beat: one entry per cycle, in entry order, each lane's state loop given two cycles.
///
/// **The steps.** A frame is a sequence of steps, one per cycle: lane 0's *start* (its R state
/// bits), entry 0, lane 1's start, entry 1, ..., then entries K, K + 1, ... until EOF. A step
/// goes through two stages:
/// - *read*: the decode table (a block RAM) shows the entry of the lane's state, and the lane's
///   held bits are merged with each of the next two stream words (the step takes the first if
///   the step before it takes none, else the second);
/// - *step*: the entry's bits are compared with the bits the lane holds: when they are more, the
///   lane takes the next stream word (section 9's order: a lane takes a word exactly when it needs
///   a bit it lacks). The state bits give the lane's next state, which is the table's next read
///   address when the next step is this lane's (at K = 2 always).
///
/// So the loop through the table is table -> registered entry (first cycle) -> state bits -> OR
/// with `base` -> table address (second cycle); the comparison and the word merge are off it.
///
/// **Lanes.** Each lane holds the rest of its last word (up to 32 bits, left-aligned), their
/// count and its state. Entries must be at most 32 bits, so a step takes at most one word. A
/// lane's start step waits for a bubble before the lane's first entry (the entry reads the
/// state the start step writes). At EOF every lane drops its bits; the step already in the read
/// stage is dropped, and the next frame starts with lane 0's start.
///
/// **Errors.** `error` (sticky until reset): at EOF a lane that had an entry in the frame is not
/// in state 0. After an error, words are taken and dropped.
public enum TANSLaneDecoderCore {
    /// The widest entry a step can take from one word.
    public static let longestEntry = 32

    /// The decoder for a K-lane (K >= 2) tANS codebook.
    public static func module(codebook: Codebook) throws -> Module {
        guard case .tans(let tableLog, let counts) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "tans", found: codebook.coder.name)
        }
        let k = codebook.lanes
        guard k >= 2 else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has one lane: its decoder is the one-lane tANS decoder")
        }
        let layout = codebook.layout
        let table = try TANSDecodeTable(tableLog: tableLog, counts: counts, layout: layout)
        guard table.longestEntry <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(table.longestEntry) bits; the K-lane tANS decoder takes at most one word per step, so entries must be at most \(longestEntry) bits so far")
        }
        let r = tableLog, size = 1 << tableLog
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let payloadBits = symbolBits + rawBits
        let tableLayout = table.layout
        // The held entry: the bits from the state bits on, how many state bits, ESC, the symbol.
        let heldLayout = WordLayout([("bits", r + payloadBits), ("nb", 4), ("escape", 1), ("symbol", symbolBits)])
        let laneBits = max(1, bitsToAddress(k))

        return try Module("\(codebook.name)_decoder") { m in
            m.comment("tANS decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(r), \(k) lanes.")
            m.comment("K = \(k) lanes, P = 1 value per beat (m_axis, tlast on a frame's last value), Q = 1 word per beat (s_axis, first bit at bit 31);")
            m.comment("error is sticky until reset. Pipelined: each lane's state loop has two cycles; the \(size)-state decode table is a block RAM")
            m.comment("whose read data is registered in the fabric.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: one value per cycle, less 2K + 2 cycles per frame (each lane's start step and bubble, EOF's flush) and a cycle when a needed word is late; measured 0.998 values/cycle at K = 2 on the bundled sample (make sim).",
                "Latency: 9 cycles from the first word taken to the first value offered at K = 2 on the bundled sample (hwgen sim measures yours).",
            ], tables: [("decode_table", tableLayout), ("held entry", heldLayout)])
            let ports = DecoderPorts(m, valueBits: layout.valueBits)
            let failed = m.register("failed", width: 1, reset: 0)

            // Words wait in a window; after an error they are taken and dropped.
            let accepted = m.stream("accepted", StreamShape(dataWidth: 32))
            accepted.data.assign(ports.words.data)
            accepted.valid.assign(ports.words.valid && !failed)
            ports.words.ready.assign(failed || accepted.ready)
            // A step's take leaves the window a cycle later (`pending`), so the window's shift
            // does not wait for the step's comparison; until then the words are seen one slot up.
            // Room for four words: at full rate two steps in a row can take a word and still
            // find the next one held.
            let words = WordWindow(m, name: "words", input: accepted, maxTake: 3)
            let pending = m.register("pending_take", width: 1, reset: 0)
            let front = [m.wire("front0", mux(pending, words.words[1], words.words[0])),
                         m.wire("front1", mux(pending, words.words[2], words.words[1]))]
            let waiting = m.wire("words_waiting", words.count - pending.zeroExtended(to: words.count.width))
            let hasWord = m.wire("has_word", waiting != 0)
            let hasTwoWords = m.wire("has_two_words", waiting > 1)

            let output = HeldValueOutput(m, name: "out", valueBits: layout.valueBits, heldWidth: heldLayout.width, to: ports.values)
            let advance = m.wire("advance", width: 1)
            let tableAddress = m.wire("table_address", width: r)
            let entry = m.rom("decode_table", width: tableLayout.width, contents: table.contents, style: .blockMemory,
                              address: tableAddress, readEnable: advance, synchronous: true)

            // Each lane: the rest of its word (left-aligned; what follows is ignored), the count of those bits
            // (`have`) and 32 - have (`gap`, the shift that puts a word behind them), its state,
            // and whether it started in this frame.
            struct Lane { let bits, have, gap, state, started: Signal }
            let lanes = (0..<k).map { lane in
                m.scope("lane\(lane)") {
                    Lane(bits: m.register("bits", width: 32, reset: nil), have: m.register("have", width: 6, reset: 0),
                         gap: m.register("gap", width: 6, reset: 32), state: m.register("state", width: r, reset: nil),
                         started: m.register("started", width: 1, reset: 0))
                }
            }
            // The lane's bits (the first `have` of `held`; the rest is ignored) and then `word`.
            func merge(_ held: Signal, have: Signal, gap: Signal, word: Signal, name: String) -> Signal {
                let placed = Funnel.top(64, of: cat(m.constant(0, width: 32), word), shiftedLeftBy: gap, name: name, in: m)
                let kept = m.wire("\(name)_kept", held & ~(m.constant(0xFFFF_FFFF, width: 32) >> have))
                return m.wire("\(name)_merged", cat(kept, m.constant(0, width: 32)) | placed)
            }

            // The next step to issue: its lane, whether it is the lane's start, and whether the
            // frame is still in its first round.
            let issueLane = m.register("issue_lane", width: laneBits, reset: 0)
            let issueStart = m.register("issue_start", width: 1, reset: 1)
            let firstRound = m.register("first_round", width: 1, reset: 1)

            // Read stage: the table shows the lane's entry; its bits merged with each candidate word.
            let readScope = m.scope("read")
            let (readValid, readLane, readStart, readBits, readHave, readGap) = m.within(readScope) {
                let lane = m.register("lane", width: laneBits, reset: nil)
                return (m.register("valid", width: 1, reset: 0), lane, m.register("start", width: 1, reset: nil),
                        m.wire("bits", LaneSelect.pick(lanes.map(\.bits), by: lane)), m.wire("have", LaneSelect.pick(lanes.map(\.have), by: lane)),
                        m.wire("gap", LaneSelect.pick(lanes.map(\.gap), by: lane)))
            }
            let mergedFirst = merge(readBits, have: readHave, gap: readGap, word: front[0], name: "read_first")
            let mergedSecond = merge(readBits, have: readHave, gap: readGap, word: front[1], name: "read_second")

            // Step stage.
            let stepValid = m.register("step_valid", width: 1, reset: 0)
            let stepLane = m.register("step_lane", width: laneBits, reset: nil)
            let stepStart = m.register("step_start", width: 1, reset: nil)
            let stepEntry = m.register("step_entry", width: tableLayout.width, reset: nil)
            let stepBits = m.register("step_bits", width: 32, reset: nil)
            let stepHave = m.register("step_have", width: 6, reset: nil)
            let stepGap = m.register("step_gap", width: 6, reset: nil)
            let stepMerged = m.register("step_merged", width: 64, reset: nil)
            let stepMergedValid = m.register("step_merged_valid", width: 1, reset: nil)

            let consumed = m.wire("consumed", tableLayout.field("consumed", of: stepEntry))
            let shift = tableLayout.field("shift", of: stepEntry)
            let kind = tableLayout.field("kind", of: stepEntry)
            let isEnd = m.wire("is_end", !stepStart && kind == Int(TANSDecodeTable.Kind.end.rawValue))
            let isEscape = m.wire("is_escape", kind == Int(TANSDecodeTable.Kind.escape.rawValue))
            // A start step always needs a word: lanes start the frame empty.
            let needs = m.wire("needs", stepStart || (consumed > stepHave))
            // The step's bits: the lane's bits and then the next word. Their first `have` bits are
            // the lane's whether or not the word is the one the step would take (or arrived), so
            // the state bits and the lane's rest come from them whether or not the step needs the
            // word: the comparison is off the table's loop and the lane's datapath.
            let chosen = stepMerged
            let topBits = stepMerged[63, 64 - r]
            let newState = m.wire("new_state", mux(stepStart, topBits, tableLayout.field("base", of: stepEntry) | (topBits >> shift)))
            let newHave = m.wire("new_have", mux(stepStart, m.constant(UInt64(32 - r), width: 6),
                                                 mux(needs, stepHave + 32 - consumed, stepHave - consumed)))
            let afterStart = chosen[63 - r, 32 - r]
            let newBits = m.wire("new_bits", mux(stepStart, afterStart, Funnel.top(32, of: chosen, shiftedLeftBy: consumed, name: "rest", in: m)))

            // The step goes when its next word is merged, or (a cycle after it found it needs no
            // word: the end of a stream, or a word late) when it fits in the lane's bits. So
            // whether the whole pipeline moves does not wait for the comparison.
            let fits = m.register("step_fits", width: 1, reset: 0)
            let bitsReady = m.wire("bits_ready", stepMergedValid || fits)
            let complete = m.wire("complete", stepValid && !failed && bitsReady && (stepStart || output.accepts))
            let frameEnds = m.wire("frame_ends", complete && isEnd)
            let takes = m.wire("takes", complete && needs)
            advance.assign(!failed && (!stepValid || complete))
            words.take(m, pending)
            pending.assign(takes)

            m.when(advance) { fits.assign(0) }.otherwise { fits.assign(stepValid && !needs) }
            // A step waiting for a word that had not arrived when it left the read stage merges it here.
            let lateMerged = merge(stepBits, have: stepHave, gap: stepGap, word: front[0], name: "late")
            m.when(stepValid && needs && !stepMergedValid && hasWord) {
                stepMerged.assign(lateMerged)
                stepMergedValid.assign(1)
            }

            // The table's next address: the state of the lane whose step enters the read stage;
            // when the step leaving the step stage is that lane's, its new state.
            let bypass = m.wire("bypass", stepValid && (stepLane == issueLane))
            tableAddress.assign(mux(bypass, newState, LaneSelect.pick(lanes.map(\.state), by: issueLane)))

            // A lane's start and its first entry need a bubble between them.
            let hazard = m.wire("hazard", readValid && (readLane == issueLane))
            let lastLane = issueLane == k - 1
            m.when(advance) {
                stepValid.assign(readValid && !frameEnds)
                stepLane.assign(readLane)
                stepStart.assign(readStart)
                stepEntry.assign(entry)
                stepBits.assign(readBits)
                stepHave.assign(readHave)
                stepGap.assign(readGap)
                // The word after the one the leaving step takes, if it takes one.
                stepMerged.assign(mux(takes, mergedSecond, mergedFirst))
                stepMergedValid.assign(mux(takes, hasTwoWords, hasWord))
                m.when(frameEnds) {
                    // The next frame: lane 0's start enters the read stage, its first entry is next.
                    readValid.assign(1)
                    readLane.assign(0)
                    readStart.assign(1)
                    issueLane.assign(0)
                    issueStart.assign(0)
                    firstRound.assign(1)
                }.elseWhen(hazard) {
                    readValid.assign(0)
                }.otherwise {
                    readValid.assign(1)
                    readLane.assign(issueLane)
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
                }
            }

            // The lane of the step: its new bits and state; at EOF every lane drops its bits.
            for (index, lane) in lanes.enumerated() {
                m.when(frameEnds) {
                    lane.have.assign(0)
                    lane.gap.assign(32)
                    lane.started.assign(0)
                }.elseWhen(complete && (stepLane == index)) {
                    lane.bits.assign(newBits)
                    lane.have.assign(newHave)
                    lane.gap.assign(m.constant(32, width: 6) - newHave)
                    lane.state.assign(newState)
                    lane.started.assign(1)
                }
            }

            // At EOF the new state must be 0, and so must every other lane that had an entry.
            let othersAtZero = lanes.enumerated().map { index, lane in !lane.started || (lane.state == 0) || (stepLane == index) }
            let statesAtZero = m.wire("states_at_zero", othersAtZero.reduce(newState == 0) { $0 && $1 })
            m.when(frameEnds && !statesAtZero) { failed.assign(1) }

            // The value, on the way out of the held register: the payload behind the state bits.
            let held = output.held
            let heldBits = heldLayout.field("bits", of: held)
            let payload = m.wire("payload", Funnel.top(payloadBits, of: heldBits, shiftedLeftBy: heldLayout.field("nb", of: held), name: "after_state", in: m))
            let heldEscape = heldLayout.field("escape", of: held)
            let symbol = m.wire("symbol", mux(heldEscape, payload[payloadBits - 1, rawBits], heldLayout.field("symbol", of: held)))
            let raw: Signal? = rawBits == 0 ? nil
                : m.wire("raw_bits", mux(heldEscape, payload[rawBits - 1, 0], payload[payloadBits - 1, symbolBits]))
            let nb = m.constant(UInt64(r), width: 4) - shift
            let newHeld = heldLayout.word(["bits": chosen[63, 64 - r - payloadBits], "nb": nb, "escape": isEscape,
                                           "symbol": tableLayout.field("symbol", of: stepEntry)], in: m)
            output.update(m, step: complete && !stepStart, isEnd: isEnd, entry: newHeld,
                          value: ValueFields.value(symbol: symbol, raw: raw, layout: layout))
            ports.error.assign(failed)
        }
    }
}
