import Foundation
import Codec
import HDL
import HDLBlocks

/// The K-lane tANS decoder (FORMAT.md sections 9 and 10), P = K values per beat: after a frame's
/// start, each cycle decodes one round, the entries j = rK ... rK + K - 1, one in each lane.
///
/// **Each lane's table.** A lane has its own copy of the decode table in block RAM, read with the
/// lane's next state as the round ends, so during a round the read data *is* the entry of the
/// lane's state: the bits it consumes, whether it is EOF. So what a round does to the word stream
/// is known from registers and the table's read data alone, before any bit is read: a lane needs
/// the stream's next word exactly when its entry consumes more bits than it holds (section 9),
/// the lanes that need one take the next words in lane order (a prefix count of the needs picks
/// each lane's word), and the round stops after the first EOF. The state bits are read behind
/// that: those in the lane's word straight from it, those past it from each word the lane may
/// take, shifted into place while the words are counted (the right one is picked last); added
/// to the entry's base they address the table. Words come through `LaneWordFront` (a take
/// leaves the window a cycle later).
///
/// **A frame's start.** Every lane starts the frame empty, and its first entry reads the lane's
/// R state bits first; whether the entry then reads past the lane's first word, and whether the
/// frame ends there, is known only once the table shows that state's entry. The first try loads
/// every lane at once (lane L the L-th next word), as if no first entry read past its word; a
/// cycle later the lanes up to the first whose entry does (or is EOF) are started. From there the
/// lanes start one per cycle in lane order: a lane loads the next word while the lane before it,
/// whose entry the table now shows, takes the word after it as a *spare* if its first entry
/// needs it (lane L's second word comes before lane L + 1's first in the stream). The start ends
/// with lane K - 1, or at the first lane whose first entry is EOF (the lanes after it have no
/// entry and no bits): two cycles a frame when no first entry reads past its word.
///
/// **The values.** A round is held back one step as raw bits (the lane's two words and where the
/// payload starts, so that `tlast` can go on it when the next round starts with EOF), and
/// leaves as one beat, lane 0 at the bottom, `tkeep` set for the lanes before EOF; a round that
/// ends its frame leaves with `tlast` without waiting.
///
/// `error` (sticky until reset): at EOF a lane that had an entry in the frame is not in state 0
/// (raised the cycle after the EOF round). After an error, words are taken and dropped.
public enum TANSLaneDecoderCore {
    /// The widest entry a lane can take from one word (besides a first entry's state bits).
    public static let longestEntry = 32

    /// The decoder for a K-lane (K >= 2) tANS codebook, `wordsPerBeat` 32-bit words in per beat
    /// (default: what K values of the table's average entry need, at most what the longest need).
    public static func module(codebook: Codebook, wordsPerBeat: Int? = nil) throws -> Module {
        guard case .tans(let r, let counts) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "tANS", found: codebook.coder.name)
        }
        let k = codebook.lanes
        guard k >= 2 else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has one lane: its decoder is the one-lane tANS decoder")
        }
        let layout = codebook.layout
        let table = try TANSDecodeTable(tableLog: r, counts: counts, layout: layout)
        guard table.longestEntry <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(table.longestEntry) bits; the K-lane decoder takes at most one word per lane and entry, so entries must be at most \(longestEntry) bits so far")
        }
        let q = wordsPerBeat ?? defaultWordsPerBeat(lanes: k, tableLog: r, counts: counts, layout: layout, longest: table.longestEntry)
        guard (1...k).contains(q) else {
            throw CoreError.unsupported("words per beat must be 1 to the \(k) lanes, is \(q)")
        }
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let tableLayout = table.layout
        // A held entry: the lane's word and the next, where its payload starts in them, ESC, the symbol.
        let heldLayout = WordLayout([("word", 32), ("next", 32), ("payload_at", 6), ("escape", 1), ("symbol", symbolBits)])
        let laneBits = max(1, bitsToAddress(k))
        let startBits = bitsToAddress(k + 1)
        let endKind = Int(TANSDecodeTable.Kind.end.rawValue), escapeKind = Int(TANSDecodeTable.Kind.escape.rawValue)

        return try Module("\(codebook.name)_decoder") { m in
            m.comment("tANS decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(r), \(k) lanes.")
            m.comment("K = \(k) lanes, P = \(k) values per beat (m_axis, lane 0 at bits \(layout.valueBits - 1)-0, tkeep per value, tlast on a frame's last beat),")
            m.comment("Q = \(q) words per beat (s_axis, word 0 at bits 31-0, tkeep per word); error is sticky until reset.")
            m.comment("Each lane has its own copy of the decode table in block RAM.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: one round of \(k) values per cycle while the window holds the words its lanes need (Q words arrive per cycle), less 2 cycles per frame for the lanes' start (and one more per lane whose first entry reads past its first word); measured 7.94 values/cycle at K = 8 on the bundled sample (make sim).",
                "Latency: 12 cycles from the first beat taken to the first beat offered at K = 8 on the bundled sample (hwgen sim measures yours).",
            ], tables: [("each lane's decode table", tableLayout), ("each lane's held entry", heldLayout)])
            let input = LaneRoundPorts(m, codebook: codebook, wordsPerBeat: q)
            let failed = m.register("failed", width: 1, reset: 0)
            let words = input.front(m, lanes: k, room: 2 * k + q, failed: failed)
            let (front, visible) = (words.front, words.visible)
            let output = LaneRoundOutput(m, lanes: k, valueBits: layout.valueBits, to: input.values)
            let step = m.wire("step", width: 1)
            let any = { (terms: [Signal]) in LaneSelect.any(m, terms) }

            // The frame's start: the next lane to load, and the lane loaded a cycle ago, whose
            // first entry the table now shows.
            let starting = m.register("starting", width: 1, reset: 1)
            let startLane = m.register("start_lane", width: startBits, reset: 0)
            let checkValid = m.register("check_valid", width: 1, reset: 0)
            let checkLane = m.register("check_lane", width: laneBits, reset: 0)
            let eofCheck = m.register("eof_check", width: 1, reset: 0)
            // The start's first try: every lane loads its word as if no first entry read past its
            // first word (`fresh`: not tried yet), and the table shows their entries a cycle later
            // (`parallel_check`, for the first `parallel_count` lanes).
            let fresh = m.register("fresh", width: 1, reset: 1)
            let parallelCheck = m.register("parallel_check", width: 1, reset: 0)
            let parallelCount = m.register("parallel_count", width: startBits, reset: 0)

            struct Lane {
                let scope: Scope
                let word, pointer, have, state, started, spare, spareValid: Signal
                let tableAddress, tableRead, entry: Signal
            }
            let lanes = (0..<k).map { lane in
                let scope = m.scope("lane\(lane)")
                return m.within(scope) {
                    // The lane's current word, the next bit in it (32: none left) and the bits left
                    // (32 - pointer); its state and the table's word for it; a spare word.
                    let (address, read) = (m.wire("table_address", width: r), m.wire("table_read", width: 1))
                    return Lane(scope: scope, word: m.register("word", width: 32, reset: nil), pointer: m.register("pointer", width: 6, reset: 32),
                                have: m.register("have", width: 6, reset: 0), state: m.register("state", width: r, reset: nil),
                                started: m.register("started", width: 1, reset: 0), spare: m.register("spare", width: 32, reset: nil),
                                spareValid: m.register("spare_valid", width: 1, reset: 0), tableAddress: address, tableRead: read,
                                entry: m.rom("decode_table", width: tableLayout.width, contents: table.contents, style: .blockMemory,
                                             address: address, readEnable: read, synchronous: true))
                }
            }

            // The start's cycle: the checked lane takes a spare if its first entry reads past its
            // first word; the next lane loads (unless the checked entry is EOF or all have).
            let checkEntry = m.wire("check_entry", LaneSelect.pick(lanes.map(\.entry), by: checkLane))
            let checkCrosses = m.wire("check_crosses", checkValid && (tableLayout.field("consumed", of: checkEntry) > (32 - r)))
            let checkEnds = m.wire("check_ends", checkValid && (tableLayout.field("kind", of: checkEntry) == endKind))
            let loads = m.wire("loads", !checkEnds && (startLane < k))
            let startWords = m.wire("start_words", checkCrosses.zeroExtended(to: 2) + loads.zeroExtended(to: 2))
            let startGoes = m.wire("start_goes", starting && !fresh && !parallelCheck && !failed && (visible >= startWords.resized(to: visible.width)))
            let parallelLoad = m.wire("parallel_load", starting && fresh && !failed && (visible != 0))
            let available = m.wire("available", mux(visible >= k, m.constant(UInt64(k), width: startBits), visible.resized(to: startBits)))
            let loadWord = m.wire("load_word", mux(checkCrosses, front[1], front[0]))
            let loadState = m.wire("load_state", loadWord[31, 32 - r])

            // The round: per lane in lane order, whether it is before EOF, whether it needs a
            // word, which word, and what it decodes.
            var endsBefore: Signal = m.constant(0, width: 1)
            var needsSoFar: [Signal] = []
            var missing: [Signal] = [], endAt: [Signal] = [], statesAtZero: [Signal] = [], keep: [Signal] = []
            var laneValues: [Signal] = []
            // The first try's check: the lanes up to the first whose first entry reads past its
            // word or is EOF are started; the one-per-cycle start goes on from that lane.
            var hitBefore: Signal = m.constant(0, width: 1)
            var committed: [Signal] = []
            var updates: [() -> Void] = []
            for (index, lane) in lanes.enumerated() {
                m.within(lane.scope) {
                    let consumed = m.wire("consumed", tableLayout.field("consumed", of: lane.entry))
                    let kind = tableLayout.field("kind", of: lane.entry)
                    let shift = tableLayout.field("shift", of: lane.entry)
                    let isEnd = m.wire("is_end", kind == endKind)
                    let active = m.wire("active", !endsBefore)
                    // The entry reads past the lane's word: into its spare, or the stream's next word.
                    let crosses = m.wire("crosses", consumed > lane.have)
                    let needs = m.wire("needs", active && crosses && !lane.spareValid)
                    let wordIndex = m.wire("word_index", LaneSelect.count(m, needsSoFar, width: bitsToAddress(k + 1)))
                    needsSoFar.append(needs)
                    let arriving = m.wire("next_word", mux(lane.spareValid, lane.spare, LaneSelect.pick(Array(front.prefix(index + 1)), by: wordIndex)))
                    missing.append(m.wire("missing", needs && (wordIndex.resized(to: visible.width) >= visible)))
                    // The state bits: the R bits that end where they end (`state_end`, the payload's
                    // start), their top R - nb bits masked off. Those in the lane's word come from it;
                    // those past it from each word the lane may take, shifted into place while the
                    // words are counted, the right one picked last.
                    let stateEnd = m.wire("state_end", lane.pointer + (m.constant(UInt64(r), width: 6) - shift.zeroExtended(to: 6)))
                    let fromWord = Funnel.top(r, of: cat(m.constant(0, width: r), lane.word), shiftedLeftBy: stateEnd, name: "state_in_word", in: m)
                    let past = m.wire("state_past_word", stateEnd >= 32)
                    let pastBy = m.wire("state_past_by", (stateEnd - 32)[3, 0])
                    let candidates = (0...index).map { j in
                        Funnel.top(r, of: cat(m.constant(0, width: r), front[j]), shiftedLeftBy: pastBy, name: "state_in_front\(j)", in: m)
                    }
                    let fromSpare = Funnel.top(r, of: cat(m.constant(0, width: r), lane.spare), shiftedLeftBy: pastBy, name: "state_in_spare", in: m)
                    let fromNext = m.wire("state_in_next", mux(lane.spareValid, fromSpare, LaneSelect.pick(candidates, by: wordIndex)))
                    let stateWindow = m.wire("state_window", fromWord | mux(past, fromNext, m.constant(0, width: r)))
                    // The table's next address is this state, or in a start the loaded lane's first R
                    // bits: chosen in the base and the mask (early), so the late state bits pass one gate.
                    let startAddress = m.wire("start_address", mux(fresh, front[index][31, 32 - r], loadState))
                    let stateMask = m.wire("state_mask", mux(starting, m.constant(0, width: r), m.constant(UInt64(1 << r) - 1, width: r) >> shift))
                    let stateBase = m.wire("state_base", mux(starting, startAddress, tableLayout.field("base", of: lane.entry)))
                    let newState = m.wire("new_state", stateBase | (stateWindow & stateMask))
                    let sum = m.wire("sum", lane.pointer.zeroExtended(to: 7) + consumed.zeroExtended(to: 7))
                    let moved = m.wire("moved_pointer", mux(crosses, sum - 32, sum).truncated(to: 6))
                    endAt.append(m.wire("ends_frame", active && isEnd))
                    statesAtZero.append(!lane.started || (lane.state == 0))
                    keep.append(m.wire("keeps", active && !isEnd))
                    endsBefore = m.wire("ends_after", endsBefore || isEnd)

                    let newHeld = heldLayout.word(["word": lane.word, "next": arriving, "payload_at": stateEnd,
                                                   "escape": kind == escapeKind, "symbol": tableLayout.field("symbol", of: lane.entry)], in: m)
                    let held = m.register("held_entry", width: heldLayout.width, reset: nil)
                    laneValues.append(Self.value(m, held: held, layout: heldLayout, values: layout))
                    let loadsHere = m.wire("loads_here", loads && (startLane == index))
                    let loadsFirst = m.wire("loads_first", parallelLoad && (visible > index))
                    let firstWord = front[index]
                    let tried = m.wire("tried", parallelCount > index)
                    committed.append(m.wire("committed", tried && !hitBefore))
                    hitBefore = m.wire("hit_after", hitBefore || (tried && ((consumed > (32 - r)) || isEnd)))
                    let checkedHere = m.wire("checked_here", checkCrosses && (checkLane == index))
                    lane.tableAddress.assign(newState)
                    lane.tableRead.assign(mux(starting, loadsFirst || (startGoes && loadsHere), step))
                    updates.append {
                        // Set when the lane starts; cleared once its state at EOF has been checked.
                        m.when((startGoes && loadsHere) || (parallelCheck && committed[index])) {
                            lane.started.assign(1)
                        }.elseWhen(eofCheck) {
                            lane.started.assign(0)
                        }
                        m.when(startGoes) {
                            m.when(loadsHere) {
                                lane.word.assign(loadWord)
                                lane.pointer.assign(UInt64(r))
                                lane.have.assign(UInt64(32 - r))
                                lane.state.assign(loadState)
                            }
                            m.when(checkedHere) {
                                lane.spare.assign(front[0])
                                lane.spareValid.assign(1)
                            }
                        }.elseWhen(loadsFirst) {
                            lane.word.assign(firstWord)
                            lane.pointer.assign(UInt64(r))
                            lane.have.assign(UInt64(32 - r))
                            lane.state.assign(firstWord[31, 32 - r])
                        }.elseWhen(step) {
                            held.assign(newHeld)
                            lane.spareValid.assign(0)
                            m.when(active) { lane.state.assign(newState) }
                            m.when(output.frameEnds) {
                                lane.pointer.assign(32)
                                lane.have.assign(0)
                            }.elseWhen(active) {
                                m.when(crosses) { lane.word.assign(arriving) }
                                lane.pointer.assign(moved)
                                lane.have.assign(m.constant(32, width: 6) - moved)
                            }
                        }
                    }
                }
            }
            output.frameEnds.assign(any(endAt))
            // A round steps at once when the window shows K words (no lane can lack one), else a
            // cycle after it found none missing (`round_checked`: nothing has moved since, and
            // the window only gained words), so whether a word is missing is not on the step's
            // path to every register it enables.
            let roundChecked = m.register("round_checked", width: 1, reset: 0)
            step.assign(!starting && !failed && output.accepts && ((visible >= k) || roundChecked))
            roundChecked.assign(!starting && !any(missing) && !step)
            for update in updates { update() }

            // The start advances a lane per cycle and ends at EOF or after the last lane; a frame's
            // end starts the next.
            let firstTaken = m.wire("first_taken", LaneSelect.count(m, committed, width: startBits))
            let firstHit = hitBefore
            m.when(parallelLoad) {
                fresh.assign(0)
                parallelCheck.assign(1)
                parallelCount.assign(available)
            }.elseWhen(parallelCheck) {
                parallelCheck.assign(0)
                checkValid.assign(firstHit)
                checkLane.assign((firstTaken - 1).resized(to: laneBits))
                m.when(!firstHit && (firstTaken == k)) {
                    starting.assign(0)
                    startLane.assign(0)
                }.otherwise {
                    startLane.assign(firstTaken)
                }
            }.elseWhen(startGoes) {
                checkValid.assign(loads)
                checkLane.assign(startLane.resized(to: laneBits))
                m.when(loads) {
                    startLane.assign(startLane + 1)
                }.otherwise {
                    starting.assign(0)
                    startLane.assign(0)
                }
            }.elseWhen(step && output.frameEnds) {
                starting.assign(1)
                fresh.assign(1)
            }
            // At EOF every lane that had an entry in the frame must be in state 0, checked on the
            // cycle after (its state is then the one after its last entry; the next frame's first
            // load writes lane 0's state at the end of that cycle).
            m.when(eofCheck && !m.wire("states_at_zero", statesAtZero.reduce(m.constant(1, width: 1)) { $0 && $1 })) {
                failed.assign(1)
            }
            eofCheck.assign(step && output.frameEnds)
            words.take(m, mux(parallelCheck, firstTaken.resized(to: bitsToAddress(k + 1)), mux(startGoes, startWords.resized(to: bitsToAddress(k + 1)),
                               mux(step, m.wire("taken", LaneSelect.count(m, needsSoFar, width: bitsToAddress(k + 1))), 0))))
            output.update(m, step: step, keep: keep, values: laneValues)
            input.error.assign(failed)
        }
    }

    /// The value of a held entry, on its way out: the symbol (the table's, or the literal after
    /// ESC) and the raw bits, behind the entry's state bits.
    static func value(_ m: ModuleBuilder, held: Signal, layout heldLayout: WordLayout, values: ValueLayout) -> Signal {
        let payloadBits = values.symbolBits + values.rawBits
        let bits = cat(heldLayout.field("word", of: held), heldLayout.field("next", of: held))
        let payload = m.wire("payload", Funnel.top(payloadBits, of: bits, shiftedLeftBy: heldLayout.field("payload_at", of: held),
                                                   name: "after_state", in: m))
        return m.wire("value", TANSDecodeTable.value(m, payload: payload, escape: heldLayout.field("escape", of: held),
                                                     tableSymbol: heldLayout.field("symbol", of: held), layout: values))
    }

    /// Q from the table's distribution: the words K entries of the average length need (an
    /// entry of count c reads about R - log2(c) state bits and its payload), rounded up, and at
    /// most what K of the longest entries need.
    public static func defaultWordsPerBeat(lanes k: Int, tableLog r: Int, counts: [Int], layout: ValueLayout, longest: Int) -> Int {
        let n = counts.count - 2
        var weight = 0.0, bits = 0.0
        for (entry, count) in counts.enumerated() where count > 0 && entry != n + 1 {
            let p = Double(count) / Double(1 << r)
            let extra = entry == n ? layout.symbolBits + layout.rawBits : layout.rawBits
            weight += p
            bits += p * (Double(r) - log2(Double(count)) + Double(extra))
        }
        let average = weight > 0 ? bits / weight : Double(longest)
        let needed = Int((Double(k) * average / 32).rounded(.up))
        return max(1, min(k, (k * longest + 31) / 32, needed))
    }
}
