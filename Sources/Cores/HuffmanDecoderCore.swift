import Codec
import HDL
import HDLBlocks

/// The fixed-codebook Huffman decoder: 32-bit stream words in, values out, one value per cycle
/// whenever the value's bits are buffered and the output can take it.
///
/// **The loop.** Stream words wait in a `BitQueue` (three word slots and a bit pointer into the
/// first). Each cycle the window at the pointer is matched against the codebook's code classes in
/// parallel: per code length, the canonical codes are consecutive, so a class is a constant range
/// of the top `l` bits (ESC and EOF are classes of their own). The one matching class gives, as
/// constants, the bits the entry consumes; the pointer moves by that count in one add, and
/// whether the entry passes the end of the first word is a comparison of the pointer register
/// with that class's constant, made beside the add, so the word leaves the queue in the same
/// cycle without waiting for the sum. EOF moves the pointer on to the next word boundary (the
/// padding; a cycle more when EOF's code ends in the second word). Whether an entry's bits are
/// buffered: the window holds the longest entry (registers compared with constants), or near
/// the end of a stream, a registered check of the last cycle's sum. The feedback path: pointer ->
/// window -> class -> add (and word move) -> pointer.
///
/// **The value.** A decoded entry is held back one step (for `tlast`) as raw window bits, its
/// code length and an ESC flag; the symbol table is a block RAM read with the entry's address
/// on the step, so its data shows the held entry's symbol. On the way out, a symbol's raw bits
/// are shifted out past its code; ESC's literal and raw bits sit at a fixed place behind ESC's
/// code.
///
/// A bit pattern that starts no code (an incomplete code) raises `error`, which stays set until
/// reset; words are then taken and dropped so the input side never hangs. A complete code (Kraft
/// sum 1, as Huffman codes trained by hwgen are) has no such pattern: that check is left out and
/// `error` stays low. An empty frame produces nothing.
///
/// With `framing.takesLast` (an engine of a decoder with frame engines), each word's `tlast`
/// travels with it through the queue and a step that breaks section 12's frame end raises
/// `error`; with `marksEmptyFrames` an empty frame leaves a beat with `tkeep` 0.
public enum HuffmanDecoderCore {
    /// Longest code for which the symbol table is indexed by the code bits themselves (at most
    /// 4096 entries); longer codes use a table indexed by canonical rank.
    public static let directTableMaxLength = 12

    public static func module(codebook: Codebook, framing: DecoderFraming = .plain) throws -> Module {
        let tables = try HuffmanTables(codebook)
        let (layout, lengths, code) = (tables.layout, tables.lengths, tables.code)
        let endOfFrame = tables.endOfFrame
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let maxLength = code.maxLength
        let entries = HuffmanEntryDecoding(tables)
        let (classes, consumed) = (entries.classes, entries.consumed)
        let (width, heldLayout, direct, symbolTable) = (entries.width, entries.heldLayout, entries.direct, entries.symbolTable)
        let lengthWidth = bitsToAddress(maxLength + 1)

        return try Module("\(codebook.name)_decoder") { m in
            m.comment("Huffman decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), codes up to \(maxLength) bits.")
            m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
            m.comment("The symbol table (\(symbolTable.count) entries) is indexed by \(direct ? "the next \(maxLength) stream bits" : "canonical code rank").")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: one value per cycle while codes and raw bits average at most 32 bits per value; measured 1.0 on the bundled sample (make sim).",
                "Latency: 7 cycles from the first word taken to the first value offered, measured on the bundled sample (hwgen sim measures yours).",
            ], tables: [("symbols", WordLayout([("symbol", symbolBits)])), ("out_held_entry", heldLayout)])
            let ports = DecoderPorts(m, valueBits: layout.valueBits, framing: framing)
            // With a complete code every bit pattern starts a code: nothing can be invalid.
            let complete = code.isComplete
            let failed = complete && !framing.takesLast ? m.constant(0, width: 1) : m.register("failed", width: 1, reset: 0)
            // After an error, words are taken and dropped.
            let bits = BitQueue(m, name: "bits", width: width, data: ports.words.data, valid: ports.words.valid, store: !failed,
                                last: ports.words.last)
            ports.words.ready.assign(failed || bits.ready)
            let output = HeldValueOutput(m, name: "out", valueBits: layout.valueBits, heldWidth: heldLayout.width, to: ports.values)

            // Class detection: one constant range check per class, all in parallel.
            let top = m.wire("code_bits", bits.window[width - 1, width - maxLength])
            func prefix(_ l: Int) -> Signal { top[maxLength - 1, maxLength - l] }
            let hits = classes.enumerated().map { i, c in
                m.wire("class\(i)_len\(c.length)\(c.kind.suffix)", c.matches(prefix(c.length), in: m))
            }
            func any(_ terms: [Signal]) -> Signal { terms.reduce(m.constant(0, width: 1)) { $0 || $1 } }
            func select(_ width: Int, _ value: (CodeClass) -> Int) -> Signal {
                zip(classes, hits).reduce(m.constant(0, width: width)) { acc, e in
                    value(e.0) == 0 ? acc : acc | mux(e.1, m.constant(UInt64(value(e.0)), width: width), 0)
                }
            }
            // With a complete code some class always matches (and a slow-path step only follows
            // a match whose bits were all buffered), so neither the check nor `error` is needed.
            let anyCode = complete ? m.constant(1, width: 1) : m.wire("any_code", any(hits))
            let isEscape = m.wire("is_escape", any(zip(classes, hits).filter { $0.0.kind == .escape }.map(\.1)))
            let isEnd = m.wire("is_end", any(zip(classes, hits).filter { $0.0.kind == .end }.map(\.1)))
            // Whether the entry's bits are buffered. Fast: the window holds the longest entry.
            // Slow (the end of a stream): the entry's bits were available last cycle and the
            // pointer has not moved since (a registered check, off the loop).
            let longest = classes.map(consumed).max() ?? 0
            let quiet = m.register("quiet", width: 1, reset: 0)
            let buffered = m.wire("entry_buffered", bits.available(atLeast: longest) || (quiet && bits.previousAdvanceBuffered))
            let codeLength = m.wire("code_length", select(lengthWidth) { $0.length })

            let step = m.wire("step", bits.readable && anyCode && buffered && !failed && output.accepts)
            // The slow path trusts only a class that matched: its bits were then all buffered.
            quiet.assign(bits.readable && !step && anyCode)
            if !complete {
                let invalid = m.wire("invalid", bits.readable && !anyCode && bits.available(atLeast: maxLength))
                m.when(invalid) { failed.assign(1) }
            }
            // The pointer moves by the matching class's bits (EOF: its code, then on to the word
            // boundary).
            let choices = zip(classes, hits).filter { $0.0.kind != .end }.map { (when: $0.1, bits: consumed($0.0)) }
            let sum = bits.consume(m, choices: choices, end: (when: isEnd, bits: lengths[endOfFrame]), when: step)
            if framing.takesLast {
                m.when(bits.frameError(m, step: step, isEnd: isEnd, sum: sum, nextReadsBits: m.constant(1, width: 1))) { failed.assign(1) }
            }

            // The symbol table, read on the step: its data belongs to the held entry.
            let symbolROM = m.rom("symbols", width: symbolBits, contents: symbolTable, style: TablePlacement.style(entries: symbolTable.count),
                                  address: entries.symbolAddress(m, top: top, hits: hits), readEnable: step, synchronous: true)
            let value = entries.value(m, held: output.held, symbols: symbolROM, name: "held_value")
            output.update(m, step: step, isEnd: isEnd, entry: heldLayout.word(["window": bits.window, "length": codeLength, "escape": isEscape], in: m), value: value)
            ports.error.assign(failed)
        }
    }

    /// The canonical rank of the matched code: its bits plus a per-length constant.
    static func rank(
        _ m: ModuleBuilder, classes: [CodeClass], hits: [Signal], prefix: (Int) -> Signal,
        lengths: [Int], codes: [UInt32], usedLengths: [Int], width: Int
    ) -> Signal {
        let order = rankOrder(lengths)
        var total = m.constant(0, width: width), offset = m.constant(0, width: width)
        for l in usedLengths {
            guard let firstEntry = order.first(where: { lengths[$0] == l }), let firstRank = order.firstIndex(of: firstEntry) else { continue }
            let hit = m.wire("length\(l)", zip(classes, hits).filter { $0.0.length == l }.map(\.1).reduce(m.constant(0, width: 1)) { $0 || $1 })
            let modulus = UInt64(1) << UInt64(width)
            let constant = (UInt64(firstRank) &- UInt64(codes[firstEntry])) & (modulus - 1)
            total = total | mux(hit, prefix(l).resized(to: width), 0)
            offset = offset | mux(hit, m.constant(constant, width: width), 0)
        }
        return m.wire("code_rank", total + offset)
    }

    /// Entries with a code, in canonical order (length, then index).
    static func rankOrder(_ lengths: [Int]) -> [Int] {
        lengths.indices.filter { lengths[$0] > 0 }.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
    }

    /// Symbol by canonical rank (0 for ESC and EOF); at least two entries.
    static func rankedSymbols(lengths: [Int], symbolCount n: Int) -> [UInt64] {
        let table = rankOrder(lengths).map { $0 < n ? UInt64($0) : 0 }
        return table.count >= 2 ? table : table + [UInt64](repeating: 0, count: 2 - table.count)
    }

    /// Symbol by the next `maxLength` stream bits: every pattern that starts with a symbol's
    /// code maps to the symbol (0 for ESC, EOF and patterns that start no code).
    static func directSymbols(lengths: [Int], codes: [UInt32], symbolCount n: Int, maxLength: Int) -> [UInt64] {
        var table = [UInt64](repeating: 0, count: max(2, 1 << maxLength))
        for entry in 0..<n where lengths[entry] > 0 {
            let spread = maxLength - lengths[entry]
            let first = Int(codes[entry]) << spread
            for pattern in first..<(first + (1 << spread)) { table[pattern] = UInt64(entry) }
        }
        return table
    }
}

/// A set of codes of one length that the decoder treats alike: consecutive canonical codes of
/// symbols, or the ESC code, or the EOF code.
struct CodeClass: Equatable {
    enum Kind: Equatable {
        case symbol, escape, end
        var suffix: String { self == .symbol ? "" : self == .escape ? "_esc" : "_eof" }
    }
    let length: Int
    /// Codes `low..<high` (as `length`-bit numbers).
    let low: UInt64
    let high: UInt64
    let kind: Kind

    /// The classes of a canonical code: per length, the runs of symbol codes between ESC and EOF.
    static func classes(lengths: [Int], codes: [UInt32], escape: Int, endOfFrame: Int) -> [CodeClass] {
        var result: [CodeClass] = []
        for entry in HuffmanDecoderCore.rankOrder(lengths) {
            let l = lengths[entry], c = UInt64(codes[entry])
            let kind: Kind = entry == escape ? .escape : entry == endOfFrame ? .end : .symbol
            if kind == .symbol, let last = result.last, last.kind == .symbol, last.length == l, last.high == c {
                result[result.count - 1] = CodeClass(length: l, low: last.low, high: c + 1, kind: .symbol)
            } else {
                result.append(CodeClass(length: l, low: c, high: c + 1, kind: kind))
            }
        }
        return result
    }

    /// Whether `bits` (the next `length` stream bits) hold a code of this class: the range as a
    /// few aligned blocks, each a prefix comparison (plain LUT logic, no carry chain).
    func matches(_ bits: Signal, in m: ModuleBuilder) -> Signal {
        var terms: [Signal] = []
        var start = low
        while start < high {
            var k = 0
            while k < length, start % (UInt64(2) << UInt64(k)) == 0, start + (UInt64(2) << UInt64(k)) <= high { k += 1 }
            terms.append(k == length ? m.constant(1, width: 1) : bits[length - 1, k] == Int(start >> UInt64(k)))
            start += UInt64(1) << UInt64(k)
        }
        return terms.dropFirst().reduce(terms[0]) { $0 || $1 }
    }
}
