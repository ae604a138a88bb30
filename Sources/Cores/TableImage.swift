import Codec

/// A table image: a codebook's table as 32-bit words, for a loadable core's `s_table` port
/// (docs/FORMAT.md, "Table images"): a tANS decode table (for a loadable decoder), a Huffman
/// code table (for a loadable encoder) or a Huffman decode table (for a loadable decoder).
/// `hwgen tables` writes it.
///
/// Words (the first word first; `s_table_tlast` on the last):
/// - 0: `0x48575442` ("HWTB")
/// - 1: version (1) in bits 31-24, coder (1: Huffman, 2: tANS) in 23-16, slot in 15-8, tableLog
///   (tANS) or the longest code (Huffman) in 7-0
/// - 2: transform (0 identity, 1 split, 2 bf16-exponent) in 31-24, symbolBits in 23-16, rawBits in 15-8
/// - tANS, 3 .. 3 + 2^tableLog - 1: per state u, nb (the state bits its entry reads) in 31-28, the
///   next state's base in 27-13, the entry in 12-0 (a symbol below 2^symbolBits, then ESC, then EOF).
/// - Huffman, then two words per symbol s below 2^symbolBits: the bit count of its field, then the
///   field right-aligned (its code, or for an escaped symbol ESC's code followed by the literal);
///   then EOF's: its length, its code.
/// - Huffman decoding (coder 3), then per code length l = 1 .. the longest: the first code past
///   those of length l (`limit`, 17 bits) in bits 31-15 and the rank of length l's first code
///   less that code, modulo 2^15 (`offset`), in 14-0; then ESC's and EOF's: the length in 20-16,
///   the code left-aligned in 15-0; then the coded entries in canonical order (length, then
///   index), one word each (a symbol, ESC = 2^symbolBits or EOF = ESC + 1), as many as the last
///   length's limit plus its offset.
/// - tANS encoding (coder 4), then per symbol s below 2^symbolBits two words: bit 31 set when s
///   is escaped (the words are then ESC's), k (the entry's most state bits) in 27-24 and the
///   entry's state offset in 15-0; then its threshold (c << k) in 16-0; then EOF's two words;
///   then the 2^tableLog next states by entry rank (15-0).
public enum TableImage {
    public static let magic: UInt32 = 0x4857_5442
    public static let version: UInt32 = 1
    public static let huffmanCoder: UInt32 = 1
    public static let tansCoder: UInt32 = 2
    public static let huffmanDecodeCoder: UInt32 = 3
    public static let tansEncodeCoder: UInt32 = 4
    /// The largest tableLog and symbolBits an image holds (base: 15 bits, entry: 13 bits).
    public static let maxTableLog = 15

    /// The transform's code in word 2.
    public static func code(_ transform: Transform) -> UInt32 {
        switch transform {
        case .identity: 0
        case .split: 1
        case .bf16Exponent: 2
        }
    }

    /// The image of `codebook` (one lane) for slot `slot` (0-255) of a loadable core of `role`.
    /// - Throws: `CoreError` for a K-lane codebook, a tANS encoder (not built), or a slot past 255.
    public static func words(_ codebook: Codebook, slot: Int, role: CoreRequest.Role) throws -> [UInt32] {
        guard case .tans(let tableLog, let counts) = codebook.coder else {
            return role == .decoder ? try huffmanDecodeWords(codebook, slot: slot) : try huffmanWords(codebook, slot: slot)
        }
        guard role == .decoder else { return try tansEncodeWords(codebook, slot: slot) }
        guard codebook.lanes == 1 else { throw CoreError.unsupported("table images hold one-lane codebooks; '\(codebook.name)' has \(codebook.lanes) lanes") }
        guard (0...255).contains(slot) else { throw CoreError.unsupported("slot \(slot): an image names slot 0 to 255") }
        let layout = codebook.layout
        let tables = TANSTables(tableLog: tableLog, counts: counts)
        var words = [magic, version << 24 | tansCoder << 16 | UInt32(slot) << 8 | UInt32(tableLog),
                     code(layout.transform) << 24 | UInt32(layout.symbolBits) << 16 | UInt32(layout.rawBits) << 8]
        for u in 0..<(1 << tableLog) {
            words.append(UInt32(tables.bitCount[u]) << 28 | UInt32(tables.base[u]) << 13 | UInt32(tables.symbol[u]))
        }
        return words
    }

    /// A Huffman codebook's code table image.
    static func huffmanWords(_ codebook: Codebook, slot: Int) throws -> [UInt32] {
        guard codebook.lanes == 1 else { throw CoreError.unsupported("table images hold one-lane codebooks; '\(codebook.name)' has \(codebook.lanes) lanes") }
        guard (0...255).contains(slot) else { throw CoreError.unsupported("slot \(slot): an image names slot 0 to 255") }
        let tables = try HuffmanTables(codebook)
        let rom = try HuffmanCodeROM(tables)
        let layout = codebook.layout
        var words = [magic, version << 24 | huffmanCoder << 16 | UInt32(slot) << 8 | UInt32(tables.code.maxLength),
                     code(layout.transform) << 24 | UInt32(layout.symbolBits) << 16 | UInt32(layout.rawBits) << 8]
        for word in rom.contents {
            let count = rom.layout.unpack("length", of: word)
            words += [UInt32(count), UInt32(rom.layout.unpack("code", of: word) >> UInt64(rom.fieldWidth - Int(count)))]
        }
        words += [UInt32(tables.lengths[tables.endOfFrame]), tables.code.codes[tables.endOfFrame]]
        return words
    }

    /// A Huffman codebook's decode table image: per length its limit and rank offset, ESC's
    /// and EOF's codes, the entries by canonical rank.
    static func huffmanDecodeWords(_ codebook: Codebook, slot: Int) throws -> [UInt32] {
        guard codebook.lanes == 1 else { throw CoreError.unsupported("table images hold one-lane codebooks; '\(codebook.name)' has \(codebook.lanes) lanes") }
        guard (0...255).contains(slot) else { throw CoreError.unsupported("slot \(slot): an image names slot 0 to 255") }
        let tables = try HuffmanTables(codebook)
        let layout = codebook.layout
        let maxLength = tables.code.maxLength
        var words = [magic, version << 24 | huffmanDecodeCoder << 16 | UInt32(slot) << 8 | UInt32(maxLength),
                     code(layout.transform) << 24 | UInt32(layout.symbolBits) << 16 | UInt32(layout.rawBits) << 8]
        for limit in HuffmanDecodeLimits(lengths: tables.lengths).rows {
            words.append(UInt32(limit.limit) << 15 | UInt32(limit.offset & 0x7FFF))
        }
        for entry in [tables.escape, tables.endOfFrame] {
            let length = tables.lengths[entry]
            words.append(UInt32(length) << 16 | tables.code.codes[entry] << UInt32(16 - length))
        }
        words += HuffmanDecoderCore.rankOrder(tables.lengths).map(UInt32.init)
        return words
    }

    /// A tANS codebook's encode table image: per symbol its entry's step, EOF's, the next states.
    static func tansEncodeWords(_ codebook: Codebook, slot: Int) throws -> [UInt32] {
        guard case .tans(let tableLog, let counts) = codebook.coder else { throw CoreError.wrongCoder(expected: "tans", found: codebook.coder.name) }
        guard codebook.lanes == 1 else { throw CoreError.unsupported("table images hold one-lane codebooks; '\(codebook.name)' has \(codebook.lanes) lanes") }
        guard (0...255).contains(slot) else { throw CoreError.unsupported("slot \(slot): an image names slot 0 to 255") }
        let layout = codebook.layout
        let tables = TANSTables(tableLog: tableLog, counts: counts)
        let size = 1 << tableLog
        var words = [magic, version << 24 | tansEncodeCoder << 16 | UInt32(slot) << 8 | UInt32(tableLog),
                     code(layout.transform) << 24 | UInt32(layout.symbolBits) << 16 | UInt32(layout.rawBits) << 8]
        func pair(_ entry: Int, escaped: Bool) -> [UInt32] {
            let step = tables.encodeStep(for: entry)
            return [(escaped ? 1 << 31 : 0) | UInt32(step.k) << 24 | UInt32(step.stateOffset & (size - 1)), UInt32(step.threshold)]
        }
        for s in 0..<layout.symbolCount { words += counts[s] > 0 ? pair(s, escaped: false) : pair(layout.symbolCount, escaped: true) }
        words += pair(layout.symbolCount + 1, escaped: false)
        words += tables.statesByEntry.map(UInt32.init)
        return words
    }

    /// The words as bytes, each word big-endian (the file `hwgen tables` writes).
    public static func bytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { w in [UInt8(w >> 24), UInt8(truncatingIfNeeded: w >> 16), UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w)] }
    }
}

/// What a loadable core holds, fixed when it is generated: slots of tables of one coder, up to
/// 2^tableLog states (tANS) or codes up to `tableLog` bits (Huffman), for values of one layout.
public struct LoadableCapacity: Sendable, Equatable {
    public let slots: Int
    /// tANS: the largest tableLog; Huffman: the longest code.
    public let tableLog: Int
    public let layout: ValueLayout
    public let huffman: Bool

    public init(slots: Int, tableLog: Int, layout: ValueLayout, huffman: Bool = false) {
        (self.slots, self.tableLog, self.layout, self.huffman) = (slots, tableLog, layout, huffman)
    }

    /// Why `codebook` cannot be loaded into a core of this capacity, or nil when it can.
    public func refusal(_ codebook: Codebook, slot: Int) -> String? {
        let size: Int
        switch codebook.coder {
        case .tans(let r, _) where !huffman: size = r
        case .huffman(let lengths) where huffman: size = lengths.max() ?? 0
        default: return "'\(codebook.name)' is a \(codebook.coder.name) codebook, the core takes \(huffman ? "Huffman" : "tANS") tables"
        }
        if slot >= slots { return "slot \(slot): the core has slots 0 to \(slots - 1)" }
        if size > tableLog {
            return huffman ? "'\(codebook.name)' has codes of up to \(size) bits, the core's tables hold at most \(tableLog)"
                : "'\(codebook.name)' has tableLog \(size), the core's tables hold at most \(tableLog)"
        }
        if codebook.layout != layout {
            return "'\(codebook.name)' codes \(codebook.layout.transform.rawValue) with symbolBits \(codebook.layout.symbolBits) and rawBits \(codebook.layout.rawBits), the core \(layout.transform.rawValue) with \(layout.symbolBits) and \(layout.rawBits)"
        }
        return nil
    }
}
