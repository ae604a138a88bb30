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
        try module(name: "\(codebook.name)_decoder", codebooks: [codebook], ids: nil, framing: framing)
    }

    /// The decoder for a codebook set (FORMAT.md section 13): section 12's input (`s_axis_tlast`
    /// on a frame's last word) with the frame's codebook id on `s_axis_tuser`, the id on
    /// `m_axis_tuser` with every value. One datapath serves every member: the bit queue, the
    /// pointer's add and the output are shared and sized for the widest member; each member
    /// adds its code classes (constant comparisons, enabled by its id) to the one-hot choices
    /// of the bits consumed; the members' symbol tables are one ROM addressed by canonical rank
    /// plus a per-member, per-length constant (a set of one keeps its own table). The id
    /// travels with each word through the queue, so consecutive frames of different codebooks
    /// follow each other at full rate. A word whose id names no codebook raises `error`.
    public static func module(set: CodebookSet, framing: DecoderFraming = .lastWords) throws -> Module {
        try module(name: "\(set.name)_decoder", codebooks: set.members, ids: try SetIds(set), framing: framing)
    }

    static func module(name: String, codebooks: [Codebook], ids: SetIds?, framing: DecoderFraming) throws -> Module {
        let members = try codebooks.map { HuffmanEntryDecoding(try HuffmanTables($0)) }
        let first = members[0]
        let layout = first.tables.layout, valueBits = layout.valueBits
        // One datapath for all: the widest window, the longest code.
        let width = members.map(\.width).max() ?? first.width
        let maxLength = members.map(\.tables.code.maxLength).max() ?? 0
        let lengthWidth = bitsToAddress(maxLength + 1)
        let single = members.count == 1
        // A set's members each prefix their names; one codebook keeps plain names.
        func prefix(_ j: Int) -> String { single ? "" : "m\(j)_" }
        // The symbol tables: one codebook's own (direct up to 12-bit codes); a set's, each by
        // canonical rank, one after another.
        let bases = members.reduce(into: [0]) { $0.append($0.last! + HuffmanDecoderCore.rankedSymbols(lengths: $1.tables.lengths, symbolCount: $1.tables.layout.symbolCount).count) }
        let symbolTable: [UInt64] = single ? first.symbolTable
            : members.flatMap { HuffmanDecoderCore.rankedSymbols(lengths: $0.tables.lengths, symbolCount: $0.tables.layout.symbolCount) }
        let symbolBits = members.map(\.tables.layout.symbolBits).max() ?? 1
        var heldFields: [(String, Int)] = [("window", width), ("length", lengthWidth), ("escape", 1)]
        if let ids { heldFields.append(("id", ids.bits)) }
        let heldLayout = single && ids == nil ? first.heldLayout : WordLayout(heldFields)
        let complete = members.allSatisfy(\.tables.code.isComplete)

        return try Module(name) { m in
            if let ids {
                m.comment("Huffman decoder for codebook set '\(name.dropLast("_decoder".count))': \(ids.count) codebook(s), \(valueBits)-bit values, codes up to \(maxLength) bits; the id of each frame's codebook on s_axis_tuser (\(ids.bits) bit(s)).")
                m.comment("32-bit stream words in (s_axis, first bit at bit 31, tlast on a frame's last word), values out (m_axis, tlast on a frame's last value, tuser its codebook's id); error is sticky until reset.")
                m.comment("An id that names no codebook, or a frame whose EOF does not end in its tlast word, raises error.")
                m.comment("The symbol tables (\(symbolTable.count) entries in all) are one ROM indexed by canonical code rank plus each codebook's offset.")
                SetIds.describe(m, codebooks, details: members.map { "codes up to \($0.tables.code.maxLength) bits" })
                m.comment("hwgen \(HWGenRelease.version). Throughput: one value per cycle while codes and raw bits average at most 32 bits per value, across frames of different codebooks.")
                m.comment("Word of out_held_entry (\(heldLayout.width) bits): \(heldLayout).")
            } else {
                let book = codebooks[0]
                m.comment("Huffman decoder for codebook '\(book.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), codes up to \(maxLength) bits.")
                m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
                m.comment("The symbol table (\(symbolTable.count) entries) is indexed by \(first.direct ? "the next \(maxLength) stream bits" : "canonical code rank").")
                CoreHeader.describe(m, codebook: book, timing: [
                    "Throughput: one value per cycle while codes and raw bits average at most 32 bits per value; measured 1.0 on the bundled sample (make sim).",
                    "Latency: 7 cycles from the first word taken to the first value offered, measured on the bundled sample (hwgen sim measures yours).",
                ], tables: [("symbols", WordLayout([("symbol", layout.symbolBits)])), ("out_held_entry", heldLayout)])
            }
            let ports = DecoderPorts(m, valueBits: valueBits, framing: framing, userBits: ids?.bits)
            // With a complete code every bit pattern starts a code: nothing can be invalid.
            let failed = complete && !framing.takesLast ? m.constant(0, width: 1) : m.register("failed", width: 1, reset: 0)
            // After an error, words are taken and dropped.
            let bits = BitQueue(m, name: "bits", width: width, data: ports.words.data, valid: ports.words.valid,
                                store: !failed, last: ports.words.last, tag: ports.words.user)
            ports.words.ready.assign(failed || bits.ready)
            let output = HeldValueOutput(m, name: "out", valueBits: valueBits, heldWidth: heldLayout.width, to: ports.values)
            // The frame's codebook: the id of the word at the pointer. One that names no
            // codebook raises error when the frames before it are decoded.
            let selects = ids.map { $0.selects(m, bits.tag(slot: 0), prefix: "codebook_is") } ?? [m.constant(1, width: 1)]
            let unnamed = ids.flatMap { ids in ids.allNamed ? nil : m.wire("id_names_none", bits.hasWord && ids.namesNone(m, bits.tag(slot: 0))) }
            if let unnamed { m.when(bits.readable && unnamed) { failed.assign(1) } }

            // Class detection: one constant range check per class, all in parallel, each
            // member's enabled by its id.
            let top = m.wire("code_bits", bits.window[width - 1, width - maxLength])
            func prefixBits(_ l: Int) -> Signal { top[maxLength - 1, maxLength - l] }
            let hits: [[Signal]] = members.enumerated().map { j, e in
                e.classes.enumerated().map { i, c in
                    let match = c.matches(prefixBits(c.length), in: m)
                    return m.wire("\(prefix(j))class\(i)_len\(c.length)\(c.kind.suffix)", single ? match : match && selects[j])
                }
            }
            func any(_ terms: [Signal]) -> Signal { terms.reduce(m.constant(0, width: 1)) { $0 || $1 } }
            // Every (member, class) pair with its hit.
            let all = members.indices.flatMap { j in zip(members[j].classes, hits[j]).map { (member: j, c: $0.0, hit: $0.1) } }
            func select(_ width: Int, _ value: (Int, CodeClass) -> Int) -> Signal {
                all.reduce(m.constant(0, width: width)) { acc, e in
                    value(e.member, e.c) == 0 ? acc : acc | mux(e.hit, m.constant(UInt64(value(e.member, e.c)), width: width), 0)
                }
            }
            // With complete codes some class always matches (and a slow-path step only follows
            // a match whose bits were all buffered), so neither the check nor `error` is needed.
            let anyCode = complete ? m.constant(1, width: 1) : m.wire("any_code", any(all.map(\.hit)))
            let isEscape = m.wire("is_escape", any(all.filter { $0.c.kind == .escape }.map(\.hit)))
            let memberEnds = members.indices.map { j in single ? nil : m.wire("\(prefix(j))is_end", any(all.filter { $0.member == j && $0.c.kind == .end }.map(\.hit))) }
            let isEnd = m.wire("is_end", single ? any(all.filter { $0.c.kind == .end }.map(\.hit)) : any(memberEnds.compactMap { $0 }))
            // Whether the entry's bits are buffered. Fast: the window holds the longest entry.
            // Slow (the end of a stream): the entry's bits were available last cycle and the
            // pointer has not moved since (a registered check, off the loop).
            let longest = all.map { members[$0.member].consumed($0.c) }.max() ?? 0
            let quiet = m.register("quiet", width: 1, reset: 0)
            let buffered = m.wire("entry_buffered", bits.available(atLeast: longest) || (quiet && bits.previousAdvanceBuffered))
            let codeLength = m.wire("code_length", select(lengthWidth) { $1.length })

            var stepCondition = bits.readable && anyCode && buffered && !failed && output.accepts
            if let unnamed { stepCondition = stepCondition && !unnamed }
            let step = m.wire("step", stepCondition)
            // The slow path trusts only a class that matched: its bits were then all buffered.
            quiet.assign(bits.readable && !step && anyCode)
            if !complete {
                let enough = single ? bits.available(atLeast: maxLength)
                    : any(members.indices.map { selects[$0] && bits.available(atLeast: members[$0].tables.code.maxLength) })
                let invalid = m.wire("invalid", bits.readable && !anyCode && enough)
                m.when(invalid) { failed.assign(1) }
            }
            // The pointer moves by the matching class's bits (EOF: its code, then on to the word
            // boundary).
            let choices = all.filter { $0.c.kind != .end }.map { (when: $0.hit, bits: members[$0.member].consumed($0.c)) }
            let ends = members.indices.map { j in (when: memberEnds[j] ?? isEnd, bits: members[j].tables.lengths[members[j].tables.endOfFrame]) }
            let sum = bits.consume(m, choices: choices, ends: ends, when: step)
            if framing.takesLast {
                m.when(bits.frameError(m, step: step, isEnd: isEnd, sum: sum, nextReadsBits: m.constant(1, width: 1))) { failed.assign(1) }
            }

            // The symbol table, read on the step: its data belongs to the held entry.
            let address = single ? first.symbolAddress(m, top: top, hits: hits[0])
                : Self.setRank(m, members: members, hits: hits, bases: bases, top: top, width: bitsToAddress(symbolTable.count))
            let symbolROM = m.rom("symbols", width: symbolBits, contents: symbolTable, style: TablePlacement.style(entries: symbolTable.count),
                                  address: address, readEnable: step, synchronous: true)
            let entry = ids == nil ? heldLayout.word(["window": bits.window, "length": codeLength, "escape": isEscape], in: m)
                : heldLayout.word(["window": bits.window, "length": codeLength, "escape": isEscape, "id": bits.tag(slot: 0)], in: m)
            let value: Signal
            let heldId = ids.map { _ in heldLayout.field("id", of: output.held) }
            if single {
                value = first.heldLayout == heldLayout ? first.value(m, held: output.held, symbols: symbolROM, name: "held_value")
                    : first.value(m, window: heldLayout.field("window", of: output.held), length: heldLayout.field("length", of: output.held),
                                  escape: heldLayout.field("escape", of: output.held), symbols: symbolROM, name: "held_value")
            } else {
                // Each member's value from the held entry, the held entry's id picks one.
                let heldSelects = ids.map { $0.selects(m, heldId ?? top, prefix: "held_is") } ?? []
                let values = members.enumerated().map { j, e in
                    e.value(m, window: heldLayout.field("window", of: output.held), length: heldLayout.field("length", of: output.held),
                            escape: heldLayout.field("escape", of: output.held), symbols: symbolROM, name: "\(prefix(j))value", prefix: prefix(j))
                }
                value = m.wire("held_value", SetIds.pick(m, values, by: heldSelects, width: valueBits))
            }
            output.update(m, step: step, isEnd: isEnd, entry: entry, value: value, user: heldId)
            ports.error.assign(failed)
        }
    }

    /// A set's symbol table address: the matched code's bits plus a constant per member and
    /// length (its first rank there, less its first code, plus the member's place in the table).
    static func setRank(_ m: ModuleBuilder, members: [HuffmanEntryDecoding], hits: [[Signal]], bases: [Int], top: Signal, width: Int) -> Signal {
        let maxLength = top.width
        let modulus = UInt64(1) << UInt64(width)
        var total = m.constant(0, width: width), offset = m.constant(0, width: width)
        let lengths = Set(members.flatMap { $0.classes.map(\.length) }).sorted()
        for l in lengths {
            // The code bits of a length-l match, whichever member matched.
            let hitsOfLength = members.indices.flatMap { j in zip(members[j].classes, hits[j]).filter { $0.0.length == l }.map(\.1) }
            let hit = m.wire("length\(l)", hitsOfLength.reduce(m.constant(0, width: 1)) { $0 || $1 })
            total = total | mux(hit, top[maxLength - 1, maxLength - l].resized(to: width), 0)
            for (j, e) in members.enumerated() {
                let order = rankOrder(e.tables.lengths)
                guard let firstEntry = order.first(where: { e.tables.lengths[$0] == l }), let firstRank = order.firstIndex(of: firstEntry) else { continue }
                let memberHit = m.wire("m\(j)_length\(l)", zip(e.classes, hits[j]).filter { $0.0.length == l }.map(\.1).reduce(m.constant(0, width: 1)) { $0 || $1 })
                let constant = (UInt64(bases[j] + firstRank) &- UInt64(e.tables.code.codes[firstEntry])) & (modulus - 1)
                offset = offset | mux(memberHit, m.constant(constant, width: width), 0)
            }
        }
        return m.wire("code_rank", total + offset)
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
