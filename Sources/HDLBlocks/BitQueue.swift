import HDL

/// The read side of a bit stream: 32-bit words (first bit at bit 31) wait in a short queue of
/// word slots; a 5-bit pointer names the next bit in slot 0, and `window` shows the stream from
/// that bit on (the first slots shifted left by the pointer).
///
/// Consuming bits adds to the pointer; when it passes the end of slot 0, that word leaves (the
/// slots move down) in the same cycle. When the window spans three slots (entries over 33 bits)
/// two passed words leave together; with a two-slot window (one-word moves only, no extra
/// multiplexers) a step that passes two words (rare: an aligned EOF whose code ends in the next
/// word, or a 33-bit entry from a word's last bit) leaves the pointer at 32 and the second word
/// leaves in the next cycle, in which the window cannot be read (`readable` is low).
///
/// Input words: with a two-slot window the slots are a plain chain with two spare slots behind
/// the window. A word enters the last slot and moves down one slot per cycle while the slot
/// below is free or emptying, so every slot has one source and needs enables only, no
/// multiplexer: 27 Xilinx LUTs fewer in the example decoder than landing words in the first
/// free slot, for a third slot whose enables wait for the step (about 3% of its clock on ECP5).
/// The two spare slots keep the window full while words leave in consecutive cycles. A
/// three-slot window takes an input word into the first free slot from slot 1 on and keeps one
/// spare slot. `ready` (a free last slot) comes from a register.
///
/// Two feeds: `.direct` (above: ready from a free last slot) and `.throughSkid`, for a consumer
/// whose steps consume a variable number of bits read from a table (the tANS decoder): a skid
/// stage in front, one spare slot, and a word entering the last slot as the chain moves (ready
/// when the last slot or the one below it is free, from registers); one word leaves per cycle,
/// and a step past a second word leaves the pointer at 32 or more until it catches up.
///
/// **Frame ends** (FORMAT.md section 12): given each word's `tlast`, every slot carries it as a
/// 33rd bit, `available(atLeast:)` counts a frame's last word as the end of what the frame can
/// read (a step whose bits would go past it need not wait for a word that is not the frame's),
/// and `frameError` tells when a frame breaks its end.
///
/// Declare it, compute the step from `window` and `available(atLeast:)`, then call one of the
/// `consume` methods once.
public struct BitQueue {
    /// How input words reach the slots.
    public enum Feed: Sendable {
        /// Straight into the last slot when it is free; two spare slots behind a two-slot
        /// window (one behind a three-slot window, whose steps may pass two words at once).
        case direct
        /// Through a skid stage; one spare slot; the last slot takes a word as the chain moves.
        case throughSkid
    }

    /// The next `width` bits of the stream, the next bit at the top; bits past the buffered
    /// ones are unspecified.
    public let window: Signal
    /// The input can take a word this cycle; from a register.
    public let ready: Signal
    /// The window shows the stream (no word is waiting to leave).
    public let readable: Signal
    /// The `advance` offered to `consume` in the previous cycle was buffered then, from the
    /// pointer of that cycle: a registered check for a slow path, off the consumer's loop. (It
    /// speaks of the last cycle's window, so a consumer that computed the advance from that
    /// window may step on it while the pointer has not moved since.)
    public let previousAdvanceBuffered: Signal
    /// The pointer plus the offered advance, and which leading slots held a word, registered
    /// every cycle.
    let previousSum: Signal
    let previousLeading: [Signal]
    let words: [Signal]
    let present: [Signal]
    /// Per k (index k - 1): the first k slots all hold a word.
    let leadingPresent: [Signal]
    let pointer: Signal
    let windowSlots: Int
    /// A step may pass two words (a three-slot window), which then leave together.
    let movesTwo: Bool
    let data: Signal
    /// `.direct`: a word is written into the last slot. `.throughSkid`: the skid stage's output.
    let write: Signal
    let fed: Stream?
    let feed: Feed
    /// Where its names live (`<scope>_pointer`, `<scope>_slot0`, ...).
    let scope: Scope
    /// Slots carry their word's `tlast` at bit 32.
    let tracksLast: Bool
    /// Width of the tag each slot carries above the word (and `tlast`); 0 for none.
    let tagWidth: Int

    /// The bit of slot 0 the pointer names (meaningful while `readable`).
    public var offset: Signal { pointer[4, 0] }
    /// Slot 0 holds a word.
    public var hasWord: Signal { present[0] }

    /// Declares the slots and the pointer in `m`, named in scope `name`. A word is taken when
    /// `valid && ready`, and kept when `store` is high (else dropped). With `last` (the word's
    /// `tlast`), the queue knows where frames end (see `frameError`). With `tag`, each word
    /// carries those bits through the slots (`tag(slot:)`), e.g. the id of its frame's codebook.
    public init(_ m: ModuleBuilder, name: String, width requested: Int, data: Signal, valid: Signal, store: Signal,
                last: Signal? = nil, tag: Signal? = nil, feed: Feed = .direct, file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        var width = requested
        if !(1...65).contains(width) {
            m.report(.invalidWidth, "bit queue '\(name)': a window is 1-65 bits wide, not \(width)", at: location)
            width = Swift.min(65, Swift.max(1, width))
        }
        var words32 = data
        if data.width != 32 {
            m.report(.widthMismatch, "bit queue '\(name)' reads 32-bit words, not \(data.width)-bit ones", at: location)
            words32 = data.resized(to: 32)  // so the block itself adds no further reports
        }
        scope = m.scope(name, file: file, line: line)
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        self.feed = feed
        tracksLast = last != nil
        tagWidth = tag?.width ?? 0
        let slotWidth = (last == nil ? 32 : 33) + tagWidth
        if let last { words32 = cat(last, words32) }
        if let tag { words32 = cat(tag, words32) }
        windowSlots = (31 + width + 31) / 32
        movesTwo = feed == .direct && windowSlots >= 3
        // Moving two words at once, input words go to any free slot behind one spare; else the
        // slots are a plain chain with two spare slots (input into the last), or behind a skid
        // stage one.
        let slots = movesTwo || feed == .throughSkid ? windowSlots + 1 : windowSlots + 2
        words = (0..<slots).map { m.register("slot\($0)", width: slotWidth, reset: nil) }
        present = (0..<slots).map { m.register("slot\($0)_valid", width: 1, reset: 0) }
        var leading: [Signal] = []
        for k in 1...windowSlots { leading.append(k == 1 ? present[0] : leading[k - 2] && present[k - 1]) }
        leadingPresent = leading
        // Bit in slot 0 (bits 4-0); 32 or more while a consumed word waits to leave (up to 95
        // with constant choices, up to 62 with variable advances of at most 63 bits).
        pointer = m.register("pointer", width: feed == .direct ? 7 : 6, reset: 0)
        switch feed {
        case .direct:
            ready = m.wire("ready", !present[slots - 1])
            fed = nil
        case .throughSkid:
            let accepted = m.stream("accepted", StreamShape(dataWidth: slotWidth))
            accepted.data.assign(words32)
            accepted.valid.assign(valid && store)
            ready = accepted.ready
            fed = m.skidStage(accepted, name: "in_skid")
        }
        readable = m.wire("readable", feed == .direct ? pointer[6, 5] == 0 : !pointer[5])
        previousSum = m.register("previous_sum", width: 7, reset: 0)
        previousLeading = leading.indices.map { m.register("previous_leading\($0 + 1)", width: 1, reset: 0) }
        for (register, now) in zip(previousLeading, leading) { register.assign(now) }
        var covered: Signal = m.constant(0, width: 1)
        for (index, leadingK) in previousLeading.enumerated() { covered = covered || (leadingK && (previousSum <= 32 * (index + 1))) }
        previousAdvanceBuffered = m.wire("previous_advance_buffered", covered)
        self.data = fed?.data ?? words32
        write = fed?.valid ?? m.wire("write", valid && ready && store)
        window = m.wire("window", Funnel.top(width, of: m.cat(words.prefix(windowSlots).map { $0.bits(31, 0) }), shiftedLeftBy: pointer[4, 0],
                                             name: "slots_read", in: m))
    }

    /// Whether at least `bits` bits are buffered from the pointer on (registers compared with
    /// constants; meaningful while `readable`).
    public func available(atLeast bits: Int) -> Signal {
        let offset = pointer[4, 0]
        var any: Signal? = nil
        for (index, leading) in leadingPresent.enumerated() {
            let k = index + 1
            guard 32 * k - bits >= 0 else { continue }
            // The pointer is at most 31: a limit of 31 or more always holds.
            let term = 32 * k - bits >= 31 ? leading : leading && (offset <= 32 * k - bits)
            any = any.map { $0 || term } ?? term
        }
        // A frame's last word ends what its steps may read: a step past it is an error, not a wait.
        if tracksLast {
            for (index, leading) in leadingPresent.enumerated() {
                let term = leading && words[index][32]
                any = any.map { $0 || term } ?? term
            }
        }
        return any ?? (present[0] & 0)
    }

    /// The `tlast` of the word in slot `k` (only with `last` given).
    public func lastFlag(slot k: Int) -> Signal { tracksLast ? words[k][32] : present[k] & 0 }

    /// The tag of the word in slot `k` (only with `tag` given).
    public func tag(slot k: Int) -> Signal {
        let low = tracksLast ? 33 : 32
        return tagWidth > 0 ? words[k].bits(low + tagWidth - 1, low) : present[k] & 0
    }

    /// Section 12's frame end (only with `last` given; `sum` is the pointer's bit plus the step's
    /// bits, as `consume` returns it, `isEnd` the step's entry is EOF). A step is wrong when its
    /// bits run past a frame's last word; EOF must end in the last word (or, reading no bits,
    /// right after it); and once a step ends exactly at a last word's end, every step up to EOF
    /// must read no bits: when the entry due next reads bits (`nextReadsBits`, known before its
    /// step) the frame is wrong at once, without waiting for a word that belongs to the next
    /// frame. Returns a wire that is 1 when the frame is wrong.
    ///
    /// The check runs a cycle behind the steps, off the consumer's loop: each step's sum, EOF
    /// flag and the slots' `tlast` bits are registered, and the step is judged in the next cycle
    /// (so `error` rises a cycle later).
    public func frameError(_ m: ModuleBuilder, step: Signal, isEnd: Signal, sum: Signal, nextReadsBits: Signal) -> Signal {
        m.within(scope) {
            guard tracksLast else { return m.wire("frame_error", m.constant(0, width: 1)) }
            let slots = Swift.min(windowSlots, words.count)
            let sumWidth = Swift.max(sum.width, 8)
            // The step, registered as it happened.
            let judged = m.register("check_step", width: 1, reset: 0)
            let judgedEnd = m.register("check_is_end", width: 1, reset: 0)
            let judgedSum = m.register("check_sum", width: sumWidth, reset: 0)
            let judgedLast = m.register("check_last", width: slots, reset: 0)
            judged.assign(step)
            judgedEnd.assign(isEnd)
            judgedSum.assign(sum.zeroExtended(to: sumWidth))
            judgedLast.assign(m.cat((0..<slots).reversed().map { lastFlag(slot: $0) }))
            let s = judgedSum
            func flag(_ k: Int) -> Signal { judgedLast[k] }
            // The slot that holds the step's last bit: sum 1-32 slot 0, 33-64 slot 1, ...
            let endsIn = (0..<slots).map { k in m.wire("ends_in_slot\(k)", (s > 32 * k) && (s <= 32 * (k + 1))) }
            let runsPast = m.wire("runs_past_last", LaneSelect.any(m, (0..<slots).map { k in flag(k) && (s > 32 * (k + 1)) }))
            let endsAtLast = m.wire("ends_at_last", LaneSelect.any(m, (0..<slots).map { k in endsIn[k] && flag(k) }))
            let endsWordAtLast = m.wire("ends_word_at_last", LaneSelect.any(m, (0..<slots).map { k in flag(k) && (s == 32 * (k + 1)) }))
            let readsNone = m.wire("reads_none", s == 0)
            // The frame's last word is behind the pointer and EOF has not come yet (as of the
            // judged step).
            let afterLast = m.register("after_last", width: 1, reset: 0)
            m.when(judged) { afterLast.assign(!judgedEnd && ((afterLast && readsNone) || endsWordAtLast)) }
            let endWrong = m.wire("end_wrong", mux(afterLast, !readsNone, !endsAtLast || runsPast))
            let valueWrong = m.wire("value_wrong", runsPast || (afterLast && !readsNone))
            // Waiting past the last word: no step since the one that got there, and the next
            // entry reads bits.
            let readsPastEnd = m.wire("reads_past_end", afterLast && !judged && !step && readable && nextReadsBits)
            return m.wire("frame_error", (judged && mux(judgedEnd, endWrong, valueWrong)) || readsPastEnd)
        }
    }

    /// One way a step consumes bits: when `when` is high, `bits` bits.
    public typealias Choice = (when: Signal, bits: Int)

    /// On `step` (only while `readable`), moves past the bits of the one choice whose `when` is
    /// high (at most 64 + 31 from the pointer; the choices are mutually exclusive), or with `end`
    /// past its bits and on to the next word boundary; a word that is passed leaves. Also moves
    /// the words: a consumed word leaves, empty slots fill from above or from the input.
    ///
    /// With a two-slot window, whether a word is passed is decided per choice by comparing the
    /// pointer register with constants, beside the add rather than after it, and the new pointer
    /// is the sum's bits: the consumer's loop ends one multiplexer after the add.
    /// Returns the pointer's bit plus the step's bits (for `frameError`).
    @discardableResult
    public func consume(_ m: ModuleBuilder, choices: [Choice], end: Choice, when step: Signal) -> Signal {
        m.within(scope) { consumeInScope(m, choices: choices, ends: [end], when: step) }
    }

    /// As `consume(_:choices:end:when:)`, with several ends (at most one true in a step), e.g.
    /// the EOF of each codebook of a set.
    @discardableResult
    public func consume(_ m: ModuleBuilder, choices: [Choice], ends: [Choice], when step: Signal) -> Signal {
        m.within(scope) { consumeInScope(m, choices: choices, ends: ends, when: step) }
    }

    private func consumeInScope(_ m: ModuleBuilder, choices: [Choice], ends: [Choice], when step: Signal) -> Signal {
        // The choices grouped by their bit counts (several classes consume alike).
        func grouped(_ list: [Choice]) -> [(bits: Int, when: Signal)] {
            var groups: [(bits: Int, when: Signal)] = []
            for c in list {
                if let i = groups.firstIndex(where: { $0.bits == c.bits }) {
                    groups[i].when = groups[i].when || c.when
                } else {
                    groups.append((c.bits, c.when))
                }
            }
            return groups.sorted { $0.bits < $1.bits }
        }
        let advance = m.wire("advance", grouped(choices + ends).reduce(m.constant(0, width: 7)) { acc, g in
            g.bits == 0 ? acc : acc | mux(g.when, m.constant(UInt64(g.bits), width: 7), 0)
        })
        let sum = m.wire("moved_pointer", pointer + advance)
        previousSum.assign(sum)
        let isEnd = ends.count == 1 ? ends[0].when : m.wire("is_end", ends.dropFirst().reduce(ends[0].when) { $0 || $1.when })
        if movesTwo {
            let aligned = m.wire("aligned_pointer", mux(isEnd && (sum[4, 0] != 0), (sum + 32) & 0x60, sum))
            moveTwo(m, aligned: aligned, step: step)
            return sum
        }
        // Two slots: the sum is at most 64; 32-63 passes slot 0, 64 also the next word (the
        // pointer waits at 32). An end always passes slot 0 and waits when its bits reach into
        // the next word.
        let offset = pointer[4, 0]
        // `when` and the offset at least `limit` (nothing when the offset never is).
        func when(_ when: Signal, atLeast limit: Int) -> Signal? {
            limit <= 0 ? when : limit > 31 ? nil : when && (offset >= limit)
        }
        func any(_ terms: [Signal?]) -> Signal { terms.compactMap { $0 }.reduce(m.constant(0, width: 1)) { $0 || $1 } }
        let groups = grouped(choices)
        let passes = m.wire("passes", any(ends.map(\.when) + groups.map { when($0.when, atLeast: 32 - $0.bits) }))
        let waits = m.wire("waits", any(ends.map { when($0.when, atLeast: 33 - $0.bits) } + groups.map { when($0.when, atLeast: 64 - $0.bits) }))
        // A word leaves when the step passes it, or when one left over from the last step waits.
        let drop = m.wire("drop", mux(step, passes, !readable))
        let low = mux(step, mux(isEnd, m.constant(0, width: 5), sum[4, 0]), offset)
        pointer.assign(cat(m.constant(0, width: 1), step && waits, low))
        moveDown(m, drop: drop)
        return sum
    }

    /// Variable advances (`.throughSkid` or a two-slot window): on `step` (while `readable`),
    /// moves past `advance` bits (at most 63); one word leaves per cycle, so a step that passes a
    /// second word leaves the pointer at 32 or more (not `readable`) until it catches up in the
    /// next cycle. Otherwise, on `align` (the pointer inside a word, no step) the rest of the
    /// word is skipped; on `restart.when` (at a word boundary) the pointer moves to
    /// `restart.bits`. Returns the pointer's bit plus the advance (7 bits), for the consumer's
    /// own slow-path check (`holds(bitsTo:)`), and whether a word leaves this cycle.
    @discardableResult
    public func consume(_ m: ModuleBuilder, advance: Signal, when step: Signal, align: Signal, restart: (bits: Int, when: Signal),
                        file: String = #fileID, line: Int = #line) -> (sum: Signal, drop: Signal) {
        consume(m, advance: advance, when: step, align: align, restartAt: m.constant(UInt64(restart.bits), width: pointer.width), when: restart.when,
                file: file, line: line)
    }

    /// As `consume(_:advance:when:align:restart:)`, restarting at `restartAt` bits (a signal as
    /// wide as the pointer: a set's members start frames with states of different widths).
    @discardableResult
    public func consume(_ m: ModuleBuilder, advance: Signal, when step: Signal, align: Signal, restartAt: Signal, when restartWhen: Signal,
                        file: String = #fileID, line: Int = #line) -> (sum: Signal, drop: Signal) {
        let restart = (bits: restartAt, when: restartWhen)
        if movesTwo {
            m.report(.invalidOperand, "bit queue \(scope): a three-slot window with a direct feed takes constant choices only", at: SourceLocation(fileID: file, line: line))
        }
        return m.within(scope) {
            let sum = m.wire("sum", offset.zeroExtended(to: 7) + advance.zeroExtended(to: 7))
            previousSum.assign(sum)
            let catchUp = m.wire("catch_up", !readable)
            let drop = m.wire("drop", mux(step, sum[6, 5] != 0, catchUp || align))
            m.when(step) {
                pointer.assign(mux(sum[6, 5] != 0, sum - 32, sum).resized(to: pointer.width))
            }.elseWhen(catchUp) {
                pointer.assign(pointer - 32)
            }.elseWhen(align) {
                pointer.assign(0)
            }.elseWhen(restart.when) {
                pointer.assign(restart.bits)
            }
            moveDown(m, drop: drop)
            return (sum, drop)
        }
    }

    /// Whether the bits up to `sum` (the pointer's bit plus an advance) are all buffered.
    public func holds(bitsTo sum: Signal) -> Signal {
        leadingPresent.enumerated().reduce(present[0] & 0) { acc, e in acc || (e.element && (sum <= 32 * (e.offset + 1))) }
    }

    /// Moves the slots down one place from the first slot whose word leaves (`drop`) or that is
    /// empty, and takes an input word into the last slot. A word moves one slot per cycle,
    /// through registers with enables only.
    private func moveDown(_ m: ModuleBuilder, drop: Signal) {
        let last = words.count - 1
        var moves: Signal = drop
        for j in 0..<last {
            moves = m.wire("slot\(j)_moves", moves || !present[j])
            m.when(moves) {
                words[j].assign(words[j + 1])
                present[j].assign(present[j + 1])
            }
        }
        switch feed {
        case .direct:
            // The last slot is free whenever a word is taken (`ready`), and empties when it moves.
            m.when(write) { words[last].assign(data) }
            present[last].assign(write || (present[last] && !moves))
        case .throughSkid:
            // The skid's ready comes from registers: the last slot or the one below it is free,
            // so the last slot surely takes a word this cycle.
            let lastMoves = m.wire("slot\(last)_moves", moves || !present[last])
            let takes = m.wire("takes", !present[last] || !present[last - 1])
            fed?.ready.assign(takes)
            m.when(lastMoves) {
                words[last].assign(data)
                present[last].assign(write && takes)
            }
        }
    }

    /// A window of three slots (entries over 33 bits): a step may pass two words, which leave
    /// together, so a long entry costs no extra cycle.
    private func moveTwo(_ m: ModuleBuilder, aligned: Signal, step: Signal) {
        let passed = aligned[6, 5]
        let dropTwo = m.wire("drop_two", step && (passed[1, 1] == 1))
        let dropOne = m.wire("drop_one", mux(step, passed == 1, !readable))
        m.when(step) {
            pointer.assign(mux(passed[1, 1] == 1, aligned - 64, mux(passed == 1, aligned - 32, aligned)))
        }.elseWhen(!readable) {
            pointer.assign(pointer - 32)
        }
        // Slots move down by two when two words leave, by one when one leaves or slot 0 is empty.
        let byTwo = dropTwo
        let byOne = m.wire("shift", dropOne || (!dropTwo && !present[0]))
        let slots = words.count
        var landed: Signal = m.constant(0, width: 1)
        for j in 0..<slots {
            // Where slot j's word comes from after the move: two or one slots up, or itself.
            let sources = [(byTwo, j + 2), (byOne, j + 1)].filter { $0.1 < slots }
            let kept = sources.reduce(!byTwo && !byOne && present[j]) { $0 || ($1.0 && present[$1.1]) }
            var clause: WhenClause? = nil
            for (moves, from) in sources {
                let condition = moves && present[from]
                let assign = { words[j].assign(words[from]) }
                clause = clause.map { $0.elseWhen(condition, assign) } ?? m.when(condition, assign)
            }
            if j > 0 {
                let lands = m.wire("slot\(j)_lands", write && !kept && !landed)
                landed = landed || !kept
                let store = { words[j].assign(data) }
                _ = clause.map { $0.elseWhen(lands, store) } ?? m.when(lands, store)
                present[j].assign(kept || lands)
            } else {
                present[j].assign(kept)
            }
        }
    }
}
