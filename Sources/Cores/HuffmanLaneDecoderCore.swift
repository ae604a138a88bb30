import Codec
import HDL
import HDLBlocks

/// The K-lane Huffman decoder (FORMAT.md sections 9 and 10), P = K values per beat: each cycle
/// it decodes one round, the entries j = rK ... rK + K - 1, one in each lane.
///
/// **Words to lanes.** A lane holds the rest of its last word (the word and a pointer to its
/// next bit; an entry takes at most one word, so entries must be at most 32 bits). Whether the lane
/// needs the stream's next word for its entry is known from those bits alone: the code is
/// prefix-free, so if the held bits start with a whole entry, a class matches them with its bits
/// all held, and if they do not, none does. The lanes that need a word take the window's next
/// words in lane order (a prefix count of the needs picks each lane's word), exactly the order
/// of section 9. Words arrive Q per beat; the lanes see them through `LaneWordFront` (a take
/// leaves the window a cycle later).
///
/// **The round.** Each lane matches its held bits and its new word against the code classes (as
/// the one-lane decoder does), and shifts the entry out. The round stops at the first lane whose
/// word has not arrived (it waits) or whose entry is EOF (the frame ends: every lane drops its
/// bits, and the next frame starts in lane 0). The lanes after EOF take no word.
///
/// **The values.** A round is held back one step as raw bits (so that `tlast` can go on it when
/// the next round starts with EOF); each lane's symbol table is read on the step. The values of a
/// round leave as one beat, lane 0 at the bottom, `tkeep` set for the lanes before EOF; a round
/// that ends its frame leaves with `tlast` without waiting for the next.
///
/// A bit pattern that starts no code raises `error` (sticky; words are then taken and dropped).
public enum HuffmanLaneDecoderCore {
    /// The widest entry a lane can take from one word.
    public static let longestEntry = 32

    /// The decoder for a K-lane Huffman codebook, `wordsPerBeat` 32-bit words in per beat
    /// (default: what K values of the codebook's implied average length need, at most what the
    /// longest entries need).
    public static func module(codebook: Codebook, wordsPerBeat: Int? = nil) throws -> Module {
        let tables = try HuffmanTables(codebook)
        let k = codebook.lanes
        let (layout, lengths, code) = (tables.layout, tables.lengths, tables.code)
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let maxLength = code.maxLength
        let entries = HuffmanEntryDecoding(tables)
        let (classes, consumed, escBits) = (entries.classes, entries.consumed, entries.escapeBits)
        let longest = entries.longest
        guard longest <= longestEntry else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(longest) bits; the K-lane decoder takes at most one word per lane and entry, so entries must be at most \(longestEntry) bits so far")
        }
        let q = wordsPerBeat ?? defaultWordsPerBeat(lanes: k, lengths: lengths, rawBits: rawBits, escBits: escBits, longest: longest)
        guard (1...k).contains(q) else {
            throw CoreError.unsupported("words per beat must be 1 to the \(k) lanes, is \(q)")
        }
        let (width, heldLayout, symbolTable) = (entries.width, entries.heldLayout, entries.symbolTable)
        let countWidth = bitsToAddress(k + 1)

        return try Module("\(codebook.name)_decoder") { m in
            m.comment("Huffman decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), codes up to \(maxLength) bits, \(k) lanes.")
            m.comment("K = \(k) lanes, P = \(k) values per beat (m_axis, lane 0 at bits \(layout.valueBits - 1)-0, tkeep per value, tlast on a frame's last beat),")
            m.comment("Q = \(q) words per beat (s_axis, word 0 at bits 31-0, tkeep per word); error is sticky until reset.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: one round of \(k) values per cycle while the window holds the words its lanes need (Q words arrive per cycle); measured 7.97 values/cycle at K = 8, Q = 3 on the bundled sample (make sim).",
                "Latency: 6 cycles from the first beat taken to the first beat offered at K = 8 on the bundled sample (hwgen sim measures yours).",
            ], tables: [("each lane's symbols", WordLayout([("symbol", symbolBits)])), ("each lane's held entry", heldLayout)])
            let ports = LaneRoundPorts(m, codebook: codebook, wordsPerBeat: q)
            let complete = code.isComplete
            let failed = complete ? m.constant(0, width: 1) : m.register("failed", width: 1, reset: 0)
            let words = ports.front(m, lanes: k, failed: failed)
            let output = LaneRoundOutput(m, lanes: k, valueBits: layout.valueBits, to: ports.values)
            let step = m.wire("step", width: 1)

            func any(_ terms: [Signal]) -> Signal { HuffmanEntryDecoding.any(m, terms) }

            // Per lane, in lane order: whether it needs a word, which word, and its entry.
            var needsSoFar: [Signal] = []
            var blocked: Signal = m.constant(0, width: 1)
            var missingFirst: [Signal] = [], invalidFirst: [Signal] = [], endAt: [Signal] = [], takes: [Signal] = []
            var keep: [Signal] = []
            var laneValues: [Signal] = []
            var laneUpdates: [() -> Void] = []
            for lane in 0..<k {
                m.scope("lane\(lane)") {
                    // The lane's current word and the next bit in it (32: none left).
                    let current = m.register("word", width: 32, reset: nil)
                    let pointer = m.register("pointer", width: 6, reset: 32)
                    // Whether the held bits (the word from the pointer on) start with a whole entry.
                    let heldTop = Funnel.top(maxLength, of: current, shiftedLeftBy: pointer, name: "held", in: m)
                    let heldHits = entries.hits(m, top: heldTop)
                    let whole = any(zip(classes, heldHits).map { c, hit in hit && (pointer <= 32 - consumed(c)) })
                    let needs = m.wire("needs", !whole)
                    let myPrefix = m.wire("word_index", LaneSelect.count(m, needsSoFar, width: countWidth))
                    needsSoFar.append(needs)
                    // Its word: the window's word at the number of needing lanes before it.
                    let arriving = m.wire("next_word", LaneSelect.pick(Array(words.front.prefix(lane + 1)), by: myPrefix))
                    let present = m.wire("present", !needs || (myPrefix.resized(to: words.visible.width) < words.visible))
                    // The entry's bits: the held bits and then the next word (which a lane that does
                    // not need it never reads: its entry lies in the held bits).
                    let merged = m.wire("merged", Funnel.top(width, of: cat(current, arriving), shiftedLeftBy: pointer, name: "entry", in: m))
                    let top = m.wire("code_bits", merged[width - 1, width - maxLength])
                    let match = entries.match(m, top: top, consumedName: "entry_bits", consumedWidth: 7)
                    let (hits, anyCode, isEscape, isEnd) = (match.hits, match.anyCode, match.isEscape, match.isEnd)
                    let (entryBits, codeLength) = (match.consumed, match.codeLength)
                    let sum = m.wire("sum", pointer.zeroExtended(to: 7) + entryBits)
                    let moved = m.wire("moved_pointer", mux(needs, sum - 32, sum).truncated(to: 6))

                    // The round stops here when the word is missing, the code invalid, or at EOF.
                    let invalid = complete ? m.constant(0, width: 1) : m.wire("invalid", present && !anyCode)
                    missingFirst.append(!present && !blocked)
                    invalidFirst.append(invalid && !blocked)
                    let ends = m.wire("ends_frame", present && !invalid && isEnd && !blocked)
                    endAt.append(ends)
                    takes.append(needs && !blocked)
                    keep.append(m.wire("keeps", !blocked && !(present && isEnd)))
                    blocked = m.wire("stops_after", blocked || !present || invalid || isEnd)

                    // The symbol table, read on the step; the held entry's value on the way out.
                    let entry = m.register("held_entry", width: heldLayout.width, reset: nil)
                    let symbols = m.rom("symbols", width: symbolBits, contents: symbolTable, style: TablePlacement.style(entries: symbolTable.count),
                                        address: entries.symbolAddress(m, top: top, hits: hits), readEnable: step, synchronous: true)
                    laneValues.append(entries.value(m, held: entry, symbols: symbols, name: "value"))
                    let newEntry = heldLayout.word(["window": merged, "length": codeLength, "escape": isEscape], in: m)
                    laneUpdates.append {
                        m.when(step) {
                            entry.assign(newEntry)
                            m.when(needs) { current.assign(arriving) }
                            pointer.assign(mux(output.frameEnds, m.constant(32, width: 6), moved))
                        }
                    }
                }
            }
            output.frameEnds.assign(any(endAt))
            let waits = m.wire("waits", any(missingFirst))
            let bad = m.wire("bad_code", any(invalidFirst))
            step.assign(!waits && !bad && !failed && output.accepts)
            for update in laneUpdates { update() }
            if !complete { m.when(bad && !failed) { failed.assign(1) } }
            // Words the round takes: those of the lanes up to EOF.
            let taken = LaneSelect.count(m, takes, width: countWidth)
            words.take(m, mux(step, m.wire("taken", taken), 0))

            output.update(m, step: step, keep: keep, values: laneValues)
            ports.error.assign(failed)
        }
    }

    /// Q from the code's implied distribution (a code of length l stands for probability 2^-l):
    /// the words K entries of the average length need, rounded up, and at most what K of the
    /// longest entries need.
    public static func defaultWordsPerBeat(lanes k: Int, lengths: [Int], rawBits: Int, escBits: Int, longest: Int) -> Int {
        let n = lengths.count - 2
        var weight = 0.0, bits = 0.0
        for (entry, length) in lengths.enumerated() where length > 0 && entry != n + 1 {
            let p = 1.0 / Double(1 << length)
            weight += p
            bits += p * Double(entry == n ? escBits : length + rawBits)
        }
        let average = weight > 0 ? bits / weight : Double(longest)
        let needed = Int((Double(k) * average / 32).rounded(.up))
        let most = (k * longest + 31) / 32
        return max(1, min(k, most, needed))
    }
}
