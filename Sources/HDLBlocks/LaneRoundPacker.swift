import HDL

/// Packs a *round* of K bit chunks per cycle, one per lane, into K interleaved streams of 32-bit
/// words (first bit at bit 31), and sends the words in the order of their first bit, up to Q a
/// beat. The round-per-cycle sibling of `LaneWordPacker`: a word's place in the output is fixed
/// when the first chunk reaching it arrives (lane 0's chunk before lane 1's in a round), its
/// contents when its lane has filled it.
///
/// **Sequence numbers instead of a reorder buffer.** A round's new words are numbered from
/// `tail` in lane order (a prefix count of the words each lane opens); each lane keeps the number
/// of its open word. A lane's filled words go into its own FIFO (LUT RAM, one write a cycle) with
/// their numbers, in order; the output sends words `head .. head + Q - 1` while they are found:
/// up to 8 lanes through a window of 2Q or more slots that each lane's FIFO front moves into by
/// its number, beyond 8 by comparing every lane's FIFO front with each of the Q numbers (at most
/// one word per lane a beat). A word still open stops the beat. A lane's words never need more
/// than one write a round, so nothing is multi-ported.
///
/// **Frames.** A round marked `last` ends the frame: the cycle after it, every lane's partial
/// word (zero-padded) goes into its FIFO and the frame's newest word is queued as a frame end;
/// the output gives it `tlast` and ends the beat there, so a beat holds one frame's words. The
/// newest word waits until a newer word opens or its frame's end is queued (it may be filled
/// already). A frame must have at least one bit; the next frame starts with every lane empty.
///
/// **Room.** Rounds wait while any lane's FIFO, the numbers outstanding or the frame-end queue
/// were near full a cycle before (registered tests, off the round's path). That cannot deadlock
/// when each lane's open word is filled within `roundsOpen` more rounds of its frame (the caller
/// knows: 31 over its shortest chunk, rounded up): the FIFOs and the numbers are sized so that
/// rounds never wait on room while the oldest word is open.
///
/// **Chunks.** Each lane's chunk is left-aligned in `maxChunk` bits (1-63) with its bit count
/// (0: the lane takes nothing this round). A lane's held bits plus its chunk must not exceed 63
/// bits: always true for chunks of at most 32 bits; a longer chunk may go only into an empty lane
/// (a frame's first round).
///
/// Timing: the round register; stage A, the round's cycle: per lane a 64-bit merge behind its
/// held bits (the lane's only loop), the words it opens and fills, registered; stage B, a cycle
/// later: the new words' numbers (`tail` plus a parallel prefix count of the lanes' new words)
/// and at most one FIFO write per lane. On the output side, the FIFOs' fronts in registers, the
/// window or the compares, a register stage and a skid stage.
public struct LaneRoundPacker {
    /// One lane's chunk of a round: `data` left-aligned in `maxChunk` bits, `bits` its length.
    public struct Chunk {
        public let data: Signal
        public let bits: Signal
        public init(data: Signal, bits: Signal) {
            self.data = data
            self.bits = bits
        }
    }

    /// The packer takes the offered round this cycle.
    public let accepts: Signal

    /// Builds the packer into `m` in scope `name`: `lanes` lanes, `wordsPerBeat` words out per
    /// beat on `words` (32 x Q bits of data, Q bits of `tkeep`, `tlast`). The round is offered by
    /// `valid` with one chunk per lane (lane 0 first) and `last` (it ends its frame).
    public init(_ m: ModuleBuilder, name: String, lanes: Int, wordsPerBeat: Int, maxChunk requested: Int, roundsOpen requestedRounds: Int,
                valid: Signal, chunks: [Chunk], last: Signal, to words: Stream, file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        var maxChunk = requested, k = lanes, q = wordsPerBeat, roundsOpen = requestedRounds
        if !(1...63).contains(maxChunk) {
            m.report(.invalidWidth, "lane round packer '\(name)' takes chunks of 1-63 bits, not \(maxChunk)", at: location)
            maxChunk = Swift.min(63, Swift.max(1, maxChunk))
        }
        if k < 1 || chunks.count != k {
            m.report(.invalidOperand, "lane round packer '\(name)' needs one chunk per lane (\(k) lanes, \(chunks.count) chunks)", at: location)
            k = Swift.max(1, Swift.min(k, chunks.count))
        }
        if q < 1 || words.data.width != 32 * q || words.keep?.width != q || words.last == nil {
            m.report(.invalidOperand, "lane round packer '\(name)': the word stream must carry \(q) words with \(q) bits of tkeep and tlast", at: location)
            q = Swift.max(1, q)
        }
        if roundsOpen < 1 {
            m.report(.invalidOperand, "lane round packer '\(name)': roundsOpen must be at least 1, not \(roundsOpen)", at: location)
            roundsOpen = 1
        }
        let saved = m.enterScope(m.scope(name, file: file, line: line))
        defer { m.restoreScope(saved) }

        // Sizes. A round opens at most `opensPerRound` words; while the oldest is open, at most
        // (roundsOpen + 1) rounds open more and each lane fills at most roundsOpen + 2. The room
        // tests see the FIFOs and `tail` up to three rounds late (their own register, and stage B
        // of the last two rounds).
        let opensPerLane = maxChunk > 32 ? 2 : 1
        let opensPerRound = k * opensPerLane
        let limit = opensPerRound * (roundsOpen + 2)
        let fifoDepth = 1 << Swift.max(1, bitsToAddress(roundsOpen + 6))
        let endDepth = 4
        // Numbers are compared for equality: the outstanding ones (at most limit plus three
        // rounds' worth) must be distinct.
        // The output's window of 2Q words or more (a power of two) must be far smaller than the numbers' range.
        let s = Swift.max(bitsToAddress(limit + 3 * opensPerRound + 1), bitsToAddress(2 * q) + 3)
        let fa = bitsToAddress(fifoDepth), ea = bitsToAddress(endDepth)

        // The round register.
        let roundValid = m.register("round_valid", width: 1, reset: 0)
        let roundLast = m.register("round_last", width: 1, reset: nil)
        let bitsWidth = bitsToAddress(maxChunk + 1)
        let held = (0..<k).map { i in
            m.within(m.scope("chunk\(i)")) {
                (data: m.register("data", width: maxChunk, reset: nil), bits: m.register("bits", width: bitsWidth, reset: nil))
            }
        }
        let flushing = m.register("flushing", width: 1, reset: 0)
        let room = m.register("room", width: 1, reset: 1)
        let take = m.wire("take", roundValid && !flushing && room)
        let flushes = m.wire("flushes", flushing && room)
        let load = m.wire("round_load", !roundValid || take)
        m.when(load) {
            roundValid.assign(valid)
            roundLast.assign(last)
            for (h, chunk) in zip(held, chunks.prefix(k)) {
                h.data.assign(chunk.data.resized(to: maxChunk))
                h.bits.assign(chunk.bits.resized(to: bitsWidth))
            }
        }
        m.when(take && roundLast) { flushing.assign(1) }.elseWhen(flushes) { flushing.assign(0) }
        accepts = load

        let tail = m.register("tail", width: s, reset: 0)
        let head = m.register("head", width: s, reset: 0)

        // Stage A, the round's cycle, per lane: the merge behind the lane's held bits, the words
        // it opens, the word it fills (or, flushing, its partial word), registered for stage B.
        struct Opening { let opensFirst: Signal; let opensSpill: Signal; let writes: Signal; let word: Signal; let numbered: Signal }
        let scopes = (0..<k).map { m.scope("lane\($0)") }
        let openings: [Opening] = (0..<k).map { lane in
            m.within(scopes[lane]) {
                let bits = m.register("bits", width: 32, reset: 0)
                let have = m.register("have", width: 5, reset: 0)
                let chunk = held[lane]
                let count = chunk.bits.resized(to: 7)
                let placed = m.wire("placed", cat(chunk.data, m.constant(0, width: 64 - maxChunk)) >> have)
                let merged = m.wire("merged", cat(bits, m.constant(0, width: 32)) | placed)
                let total = m.wire("total", have.zeroExtended(to: 7) + count)
                let full = m.wire("full", total >= 32)
                let empty = m.wire("empty", have == 0)
                m.when(take) {
                    bits.assign(mux(full, merged[31, 0], merged[63, 32]))
                    have.assign(total[4, 0])
                }.elseWhen(flushes) {
                    have.assign(0)
                    bits.assign(0)
                }
                let opening = Opening(
                    opensFirst: m.register("opens_first", width: 1, reset: 0), opensSpill: m.register("opens_spill", width: 1, reset: 0),
                    writes: m.register("writes", width: 1, reset: 0), word: m.register("write_word", width: 32, reset: nil),
                    numbered: m.register("write_numbered", width: 1, reset: nil))
                opening.opensFirst.assign(take && empty && count != 0)
                opening.opensSpill.assign(take && total > 32)
                opening.writes.assign((take && full) || (flushes && !empty))
                opening.word.assign(mux(flushing, bits, merged[63, 32]))
                // The word written was opened in an earlier round (its number is the lane's).
                opening.numbered.assign(flushing || !empty)
                return opening
            }
        }

        // Stage B, a cycle later: the new words' numbers (tail plus the words the lanes before
        // open, a parallel prefix count), the FIFO writes.
        let countWidth = bitsToAddress(opensPerRound + 1)
        let opens = openings.map { $0.opensFirst.zeroExtended(to: countWidth) + $0.opensSpill.zeroExtended(to: countWidth) }
        let before = LaneRoundPacker.exclusivePrefix(m, opens, width: countWidth)
        struct Front { let nonEmpty: Signal; let number: Signal; let word: Signal; let pop: Signal; let count: Signal }
        var fronts: [Front] = []
        for lane in 0..<k {
            let opening = openings[lane]
            let front: Front = m.within(scopes[lane]) {
                let number = m.register("number", width: s, reset: nil)
                let first = m.wire("first", tail + before[lane].resized(to: s))
                let spillNumber = opensPerLane == 2 ? mux(opening.opensFirst, first + 1, first) : first
                m.when(opening.opensSpill) { number.assign(spillNumber) }.elseWhen(opening.opensFirst) { number.assign(first) }
                let writeNumber = mux(opening.numbered, number, first)
                let writeAt = m.register("fifo_write", width: fa + 1, reset: 0)
                let readAt = m.register("fifo_read", width: fa + 1, reset: 0)
                let stored = m.distributedRam("fifo", width: s + 32, depth: fifoDepth, writeEnable: opening.writes, writeAddress: writeAt[fa - 1, 0],
                                              writeData: cat(writeNumber, opening.word), readAddress: readAt[fa - 1, 0])
                m.when(opening.writes) { writeAt.assign(writeAt + 1) }
                // The FIFO's oldest word in registers (the output compares registers, not RAM reads).
                let frontValid = m.register("front_valid", width: 1, reset: 0)
                let frontNumber = m.register("front_number", width: s, reset: nil)
                let frontWord = m.register("front_word", width: 32, reset: nil)
                let pop = m.wire("pop", width: 1)
                let loads = m.wire("front_loads", (writeAt != readAt) && (!frontValid || pop))
                m.when(loads) {
                    frontValid.assign(1)
                    frontNumber.assign(stored[s + 31, 32])
                    frontWord.assign(stored[31, 0])
                    readAt.assign(readAt + 1)
                }.elseWhen(pop) {
                    frontValid.assign(0)
                }
                return Front(nonEmpty: frontValid, number: frontNumber, word: frontWord, pop: pop, count: m.wire("count", writeAt - readAt))
            }
            fronts.append(front)
        }
        let opened = m.wire("opened", before[k - 1].resized(to: s) + opens[k - 1].resized(to: s))
        tail.assign(tail + opened)

        // Frame ends: the number of each frame's last word, queued when its partial words are written.
        let ends = (0..<endDepth).map { m.register("end\($0)", width: s, reset: nil) }
        let endWrite = m.register("end_write", width: ea + 1, reset: 0)
        let endRead = m.register("end_read", width: ea + 1, reset: 0)
        let flushed = m.register("flushed", width: 1, reset: 0)
        flushed.assign(flushes)
        m.when(flushed) {
            for (i, end) in ends.enumerated() {
                m.when(endWrite[ea - 1, 0] == i) { end.assign(tail - 1) }
            }
            endWrite.assign(endWrite + 1)
        }
        let endPending = m.wire("end_pending", endWrite != endRead)
        let endNumber = m.wire("end_number", LaneSelect.pick(ends, by: endRead[ea - 1, 0]))

        // Room for the next round, a cycle late (the frame-end queue: pushes land up to two cycles
        // after its test, and frame ends are at least two cycles apart).
        let lanesRoom = fronts.map { $0.count <= fifoDepth - 3 }.reduce(m.constant(1, width: 1)) { $0 && $1 }
        room.assign(lanesRoom && ((tail - head) <= limit) && ((endWrite - endRead) <= endDepth - 2))

        // The beat's words head + i (i < Q) are found by number in one of two ways (measured on
        // ECP5-85k, docs/BENCHMARKS.md, session 12):
        // - K <= 8, a window of W >= 2Q slots, word n in slot n mod W: a lane's FIFO front moves
        //   into its slot as soon as its number is within W of head (numbers in the window are
        //   distinct, so no two lanes write one slot, and no slot being sent is written); the beat
        //   reads Q slots. 95 MHz at K = 8 (mean of seeds 1-3; 82 comparing, seed 1).
        // - K > 8, comparing each lane's front with each of the Q numbers, popping the matches
        //   (one word per lane a beat): the window's K x W crossbar did not route at K = 16.
        let windowed = k <= 8
        let targets = [head] + (1..<q).map { m.register("target\($0)", width: s, reset: UInt64($0)) }
        var present: [Signal] = [], data: [Signal] = [], slotOf: [Signal] = [], matchesOf: [[Signal]] = []
        var slotValid: Signal? = nil
        var moved: [Signal] = []
        if windowed {
            let window = 1 << Swift.max(2, bitsToAddress(2 * q))
            let wa = bitsToAddress(window)
            let valid = m.register("slot_valid", width: window, reset: 0)
            slotValid = valid
            let slotWords = (0..<window).map { m.register("slot\($0)", width: 32, reset: nil) }
            var movesInto = [[(Signal, Signal)]](repeating: [], count: window)  // per slot: (lane moves into it, the lane's word)
            for (lane, front) in fronts.enumerated() {
                m.within(scopes[lane]) {
                    let offset = m.wire("offset", front.number - head)
                    let moves = m.wire("moves", front.nonEmpty && offset < window)
                    front.pop.assign(moves)
                    for slot in 0..<window {
                        movesInto[slot].append((m.wire("into\(slot)", moves && front.number[wa - 1, 0] == slot), front.word))
                    }
                }
            }
            for (slot, writers) in movesInto.enumerated() {
                let written = m.wire("slot\(slot)_written", LaneSelect.any(m, writers.map(\.0)))
                moved.append(written)
                m.when(written) {
                    slotWords[slot].assign(writers.map { mux($0.0, $0.1, 0) }.reduce(m.constant(0, width: 32)) { $0 | $1 })
                }
            }
            for i in 0..<q {
                let slot = targets[i][wa - 1, 0]
                slotOf.append(m.constant(1, width: window) << slot)
                present.append(m.wire("word\(i)_present", (valid >> slot)[0]))
                data.append(m.wire("word\(i)_data", LaneSelect.pick(slotWords, by: slot)))
            }
        } else {
            for i in 0..<q {
                let matches = fronts.map { $0.nonEmpty && ($0.number == targets[i]) }
                matchesOf.append(matches)
                present.append(m.wire("word\(i)_present", LaneSelect.any(m, matches)))
                data.append(m.wire("word\(i)_data", zip(matches, fronts).map { mux($0.0, $0.1.word, 0) }.reduce(m.constant(0, width: 32)) { $0 | $1 }))
            }
        }

        // The output beat: the words present in a row from head; the frame's newest word only
        // once a newer word exists or its end is queued.
        let beat = m.stream("beat", StreamShape(dataWidth: 32 * q, hasLast: true, keepWidth: q))
        m.connect(words, from: m.skidStage(m.registerStage(beat, name: "stage"), name: "skid"))
        let newest = m.wire("newest", tail - 1)
        var keeps: [Signal] = [], lastTerms: [Signal] = []
        var open: Signal = m.constant(1, width: 1)  // every word before this one was kept and none ended the frame
        for i in 0..<q {
            m.scope("word\(i)") {
                let target = targets[i]
                let isEnd = m.wire("is_end", endPending && endNumber == target)
                let ready = m.wire("ready", present[i] && (isEnd || target != newest))
                let kept = m.wire("kept", open && ready)
                keeps.append(kept)
                lastTerms.append(kept && isEnd)
                open = m.wire("open_after", kept && !isEnd)
            }
        }
        let sends = m.wire("sends", beat.ready && keeps[0])
        beat.valid.assign(keeps[0])
        beat.data.assign(m.cat(data.reversed()))
        beat.keep?.assign(m.cat(keeps.reversed()))
        let endsFrame = m.wire("beat_ends_frame", LaneSelect.any(m, lastTerms))
        beat.last?.assign(endsFrame)
        if let slotValid {
            let sentSlots = zip(keeps, slotOf).map { mux($0.0, $0.1, 0) }
            let sent = m.wire("sent_slots", mux(sends, sentSlots.reduce(m.constant(0, width: slotValid.width)) { $0 | $1 }, 0))
            slotValid.assign((slotValid & ~sent) | m.cat(moved.reversed()))
        } else {
            for (lane, front) in fronts.enumerated() {
                front.pop.assign(sends && LaneSelect.any(m, zip(keeps, matchesOf).map { $0.0 && $0.1[lane] }))
            }
        }
        // After a beat of n words, target i becomes head + n + i: from head + j (j < 2Q, adds on
        // a register) picked by the kept words (n = 1 .. Q, a thermometer code).
        let ahead = (0..<(2 * q)).map { j in j == 0 ? head : m.wire("head_plus\(j)", head + j) }
        m.when(sends) {
            for (i, target) in targets.enumerated() {
                var next = ahead[i + 1]
                for n in 2...max(2, q) where n <= q { next = mux(keeps[n - 1], ahead[i + n], next) }
                target.assign(next)
            }
        }
        m.when(sends && endsFrame) { endRead.assign(endRead + 1) }
    }

    /// The exclusive prefix sums of `terms` (element i: the sum of the terms before it), `width`
    /// bits each, by a Kogge-Stone network: log2(count) levels of adds.
    static func exclusivePrefix(_ m: ModuleBuilder, _ terms: [Signal], width: Int) -> [Signal] {
        var inclusive = terms.map { $0.resized(to: width) }
        var span = 1
        while span < inclusive.count {
            let layer = inclusive
            inclusive = layer.indices.map { i in i >= span ? layer[i] + layer[i - span] : layer[i] }
            span *= 2
        }
        return [m.constant(0, width: width)] + inclusive.dropLast()
    }
}
