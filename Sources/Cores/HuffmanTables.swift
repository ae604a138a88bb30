import Codec
import HDL
import HDLBlocks

/// A Huffman codebook as the cores need it: lengths, canonical codes, ESC and EOF indices.
struct HuffmanTables {
    let layout: ValueLayout
    let lengths: [Int]
    let code: CanonicalCode
    /// Entry index of ESC (n) and of EOF (n + 1).
    let escape: Int
    let endOfFrame: Int

    /// - Throws: `CoreError.wrongCoder` for a tANS codebook.
    init(_ codebook: Codebook) throws {
        guard case .huffman(let lengths) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "huffman", found: codebook.coder.name)
        }
        layout = codebook.layout
        self.lengths = lengths
        code = CanonicalCode(lengths: lengths)
        escape = layout.symbolCount
        endOfFrame = layout.symbolCount + 1
    }
}

/// What both Huffman decoders derive from a codebook to decode one entry: the code classes,
/// the bits each consumes, the held entry's layout, the symbol table, and the DSL that turns a
/// held entry into its value.
struct HuffmanEntryDecoding {
    let tables: HuffmanTables
    let classes: [CodeClass]
    /// ESC's code, literal and raw bits.
    let escapeBits: Int
    /// The longest entry, in bits.
    let longest: Int
    /// The entry window: the detection bits and every entry's bits.
    let width: Int
    /// The held entry: the window's bits, the code length and whether it is ESC.
    let heldLayout: WordLayout
    /// The symbol table is indexed by the next maxLength bits (else by canonical rank).
    let direct: Bool
    let symbolTable: [UInt64]

    init(_ tables: HuffmanTables) {
        self.tables = tables
        let (layout, lengths, code) = (tables.layout, tables.lengths, tables.code)
        classes = CodeClass.classes(lengths: lengths, codes: code.codes, escape: tables.escape, endOfFrame: tables.endOfFrame)
        escapeBits = lengths[tables.escape] + layout.symbolBits + layout.rawBits
        let rawBits = layout.rawBits, escapeBits = escapeBits
        longest = classes.map { c in
            switch c.kind { case .symbol: c.length + rawBits; case .escape: escapeBits; case .end: c.length }
        }.max() ?? 0
        width = max(code.maxLength, longest)
        heldLayout = WordLayout([("window", width), ("length", bitsToAddress(code.maxLength + 1)), ("escape", 1)])
        direct = code.maxLength <= HuffmanDecoderCore.directTableMaxLength
        symbolTable = direct
            ? HuffmanDecoderCore.directSymbols(lengths: lengths, codes: code.codes, symbolCount: layout.symbolCount, maxLength: code.maxLength)
            : HuffmanDecoderCore.rankedSymbols(lengths: lengths, symbolCount: layout.symbolCount)
    }

    /// The classes that match `top` (the next maxLength bits), in class order.
    func hits(_ m: ModuleBuilder, top: Signal) -> [Signal] {
        let maxLength = tables.code.maxLength
        return classes.map { c in c.matches(top[maxLength - 1, maxLength - c.length], in: m) }
    }

    /// Whether held bits (`top`, the next maxLength bits, of which `have` are held) start with a
    /// whole entry: a class matches them with all its bits held (the code is prefix-free).
    func startsWholeEntry(_ m: ModuleBuilder, top: Signal, have: Signal) -> Signal {
        Self.any(m, zip(classes, hits(m, top: top)).map { c, hit in hit && (have >= consumed(c)) })
    }

    /// What the class matches of `top` say about its entry, as wires: `class<i>`, `any_code`
    /// (a constant 1 for a complete code), `is_escape`, `is_end`, the bits consumed (named
    /// `consumedName`, `consumedWidth` bits) and `code_length`.
    struct Match {
        let hits: [Signal]
        let anyCode, isEscape, isEnd, consumed, codeLength: Signal
    }

    func match(_ m: ModuleBuilder, top: Signal, consumedName: String, consumedWidth: Int) -> Match {
        let hits = hits(m, top: top).enumerated().map { i, hit in m.wire("class\(i)", hit) }
        func select(_ width: Int, _ value: (CodeClass) -> Int) -> Signal {
            zip(classes, hits).reduce(m.constant(0, width: width)) { acc, e in
                value(e.0) == 0 ? acc : acc | mux(e.1, m.constant(UInt64(value(e.0)), width: width), 0)
            }
        }
        func any(_ kind: CodeClass.Kind) -> Signal { Self.any(m, zip(classes, hits).filter { $0.0.kind == kind }.map(\.1)) }
        return Match(hits: hits,
                     anyCode: tables.code.isComplete ? m.constant(1, width: 1) : m.wire("any_code", Self.any(m, hits)),
                     isEscape: m.wire("is_escape", any(.escape)), isEnd: m.wire("is_end", any(.end)),
                     consumed: m.wire(consumedName, select(consumedWidth) { consumed($0) }),
                     codeLength: m.wire("code_length", select(bitsToAddress(tables.code.maxLength + 1)) { $0.length }))
    }

    /// The OR of `terms` (0 when there are none).
    static func any(_ m: ModuleBuilder, _ terms: [Signal]) -> Signal { LaneSelect.any(m, terms) }

    /// The bits an entry of class `c` consumes (EOF: its code; the padding comes after).
    func consumed(_ c: CodeClass) -> Int {
        switch c.kind { case .symbol: c.length + tables.layout.rawBits; case .escape: escapeBits; case .end: c.length }
    }

    /// The symbol table's read address for the entry whose code bits are `top` (maxLength bits)
    /// and whose classes matched `hits`.
    func symbolAddress(_ m: ModuleBuilder, top: Signal, hits: [Signal]) -> Signal {
        guard !direct else { return top }
        let maxLength = tables.code.maxLength
        return HuffmanDecoderCore.rank(m, classes: classes, hits: hits, prefix: { top[maxLength - 1, maxLength - $0] },
                                       lengths: tables.lengths, codes: tables.code.codes,
                                       usedLengths: Set(classes.map(\.length)).sorted(), width: bitsToAddress(symbolTable.count))
    }

    /// The held entry's value (a wire named `name`): ESC's literal and raw bits sit at a fixed
    /// place behind ESC's code; a symbol's raw bits follow its code (a shift by the code length),
    /// its symbol is `symbols`, the table's data.
    func value(_ m: ModuleBuilder, held: Signal, symbols: Signal, name: String) -> Signal {
        value(m, window: heldLayout.field("window", of: held), length: heldLayout.field("length", of: held),
              escape: heldLayout.field("escape", of: held), symbols: symbols, name: name)
    }

    /// The value of a held entry given as its fields: `window` (at least `width` bits, the
    /// entry at its top), the code `length`, the `escape` flag; `symbols` is the table's data
    /// (at least symbolBits wide, the symbol in its low bits). Wires are named with `prefix`.
    func value(_ m: ModuleBuilder, window heldBits: Signal, length heldLength: Signal, escape heldEscape: Signal, symbols: Signal,
               name: String, prefix: String = "") -> Signal {
        let (symbolBits, rawBits) = (tables.layout.symbolBits, tables.layout.rawBits)
        let top = heldBits.width
        let escaped = m.wire(prefix + "escaped_fields", heldBits[top - 1 - tables.lengths[tables.escape], top - escapeBits])
        let symbolData = symbols.width == symbolBits ? symbols : symbols.bits(symbolBits - 1, 0)
        let symbol = m.wire(prefix + "symbol", mux(heldEscape, escaped[symbolBits + rawBits - 1, rawBits], symbolData))
        var raw: Signal? = nil
        if rawBits > 0 {
            let afterCode = Funnel.top(rawBits, of: heldBits, shiftedLeftBy: heldLength, name: prefix + "after_code", in: m)
            raw = m.wire(prefix + "raw_bits", mux(heldEscape, escaped[rawBits - 1, 0], afterCode))
        }
        return m.wire(name, ValueFields.value(symbol: symbol, raw: raw, layout: tables.layout))
    }
}

/// A canonical code's decoding limits, per code length l = 1 .. the longest: the codes of
/// length l are `limit - count ..< limit` (as l-bit numbers), and a code's canonical rank is its
/// value plus `offset` (modulo 2^15). The next `l` stream bits, as a number, are below `limit`
/// exactly when the code starting there is at most l bits long: the code's length is the
/// shortest l whose limit the stream's l bits are below (thermometer over l).
struct HuffmanDecodeLimits {
    struct Row: Equatable {
        /// The first code of length l past those of length l (up to 2^l).
        let limit: Int
        /// The rank of length l's first code less that code, modulo 2^15.
        let offset: Int
    }
    let rows: [Row]

    init(lengths: [Int]) {
        let maxLength = lengths.max() ?? 0
        var rows: [Row] = [], next = 0, rank = 0
        for l in stride(from: 1, through: maxLength, by: 1) {
            let count = lengths.filter { $0 == l }.count
            rows.append(Row(limit: next + count, offset: (rank - next) & 0x7FFF))
            rank += count
            next = (next + count) << 1
        }
        self.rows = rows
    }
}
