import Codec
import HDL
import HDLBlocks

/// A problem with a codebook for hardware generation.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    case wrongCoder(expected: String, found: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .wrongCoder(let expected, let found): return "this core needs a \(expected) codebook, the codebook is \(found)"
        case .unsupported(let message): return message
        }
    }
}

/// The single-stage Huffman encoder: the codebook is a ROM, no frequency analysis.
///
/// Pipeline: (1) the symbol addresses the code ROM (synchronous read) while the raw bits and
/// `tlast` are registered, and the ROM word is registered again; (2) the code, left-aligned in
/// the ROM, and the raw bits are composed into a chunk for the shared `WordPacker` (chunk
/// register, placement register, 96-bit accumulator, one 32-bit word out per cycle, output
/// register and skid buffer). The ROM is LUT logic up to 256 symbols (every 8-bit alphabet,
/// e.g. bf16 exponents): an ECP5 block RAM read without its output register (which Yosys does
/// not use) takes 5.8 ns from the clock, so block RAM alone held this core to about 135 MHz.
/// Larger alphabets use block RAM, the second register then being the RAM's output register.
/// After the last value of a frame, EOF's code follows as a chunk of its own that ends the
/// frame (padding, `m_axis_tlast`); the packer drains meanwhile, so a frame costs its values plus
/// about 2 + (its last bits / 32) cycles. One value per cycle in steady state while values
/// average at most 32 bits.
public enum HuffmanEncoderCore {
    /// The largest alphabet whose code ROM is LUT logic rather than block RAM.
    public static var largestLogicROM: Int { TablePlacement.largestLogicOnFastPath }

    /// The longest entry a K-lane encoder takes (two pieces of at most 32 bits into its lane).
    public static let longestLaneEntry = 64

    /// The encoder for `codebook`; for K lanes (FORMAT.md section 9) a `LaneWordPacker` puts
    /// entry j's bits into lane j mod K and the words in the section's order.
    public static func module(codebook: Codebook) throws -> Module {
        try module(name: "\(codebook.name)_encoder", codebooks: [codebook], ids: nil)
    }

    /// The encoder for a codebook set (FORMAT.md section 13): values in with the frame's
    /// codebook id on `s_axis_tuser`, words out with the id on `m_axis_tuser`. One datapath
    /// serves every member: the code ROM holds every member's codes, addressed by id and symbol
    /// (each member's part 2^symbolBits entries of the widest member), the raw bits are taken
    /// per member's transform and left-aligned, and EOF's code is the frame's member's. A frame
    /// whose id names no codebook is dropped and raises `error` (sticky until reset).
    public static func module(set: CodebookSet) throws -> Module {
        try module(name: "\(set.name)_encoder", codebooks: set.members, ids: try SetIds(set))
    }

    /// A loadable encoder (`--loadable`): its code table is a RAM of `capacity.slots` slots of
    /// 2^symbolBits code words (codes up to `capacity.tableLog` bits, ESC's code and a literal),
    /// loaded at run time through `s_table` (`TableImage`, `TableLoader`), EOF's code in each
    /// slot's registers; a frame's `s_axis_tuser` names its slot, and a frame of a slot not loaded
    /// (or whose load broke) is dropped and raises `error`. A load waits for the frame in flight.
    public static func module(loadable capacity: LoadableCapacity, name: String) throws -> Module {
        guard (1...16).contains(capacity.tableLog), (1...256).contains(capacity.slots), capacity.layout.symbolBits <= 12 else {
            throw CoreError.unsupported("a loadable Huffman encoder holds 1 to 256 slots of codes up to 16 bits, symbolBits up to 12")
        }
        return try module(name: "\(name)_encoder", codebooks: [], ids: SetIds(count: capacity.slots), loadable: capacity)
    }

    static func module(name: String, codebooks: [Codebook], ids: SetIds?, loadable: LoadableCapacity? = nil) throws -> Module {
        let roms = try codebooks.map { try HuffmanCodeROM(try HuffmanTables($0)) }
        let k = codebooks.first?.lanes ?? 1
        // The value layouts: each member's, or a loadable core's one.
        let layouts = loadable.map { [$0.layout] } ?? codebooks.map(\.layout)
        let layout = layouts[0]
        let single = codebooks.count == 1
        // One code ROM: a codebook's own, or a set's members' codes, each member 2^symbolBits
        // entries of the widest member, in id order (a loadable core: a RAM of the same words).
        let symbolBits = layouts.map(\.symbolBits).max() ?? layout.symbolBits
        let rom = try loadable.map { HuffmanCodeROM(fieldWidth: $0.tableLog + $0.layout.symbolBits, maxLength: $0.tableLog, rawBits: $0.layout.rawBits) }
            ?? (single ? roms[0] : try HuffmanCodeROM(union: roms, entriesEach: 1 << symbolBits))
        let (codeLayout, romContents, maxItem) = (rom.layout, rom.contents, rom.longest)
        let rawBits = layouts.map(\.rawBits).max() ?? 0
        if k > 1, maxItem > longestLaneEntry, let codebook = codebooks.first {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(maxItem) bits; the K-lane Huffman encoder takes entries of at most \(longestLaneEntry) bits")
        }
        let reorderDepth = LaneReorder.depth(lanes: k, shortestChunk: rom.valueChunks.min() ?? 1, longestChunk: maxItem)

        return try Module(name) { m in
            if let loadable, let ids {
                TableLoader.describe(m, title: "Loadable Huffman encoder '\(name.dropLast("_encoder".count))': \(loadable.slots) slot(s) of code tables (codes up to \(loadable.tableLog) bits) for \(layout.transform.rawValue) values (symbolBits \(layout.symbolBits), rawBits \(layout.rawBits))",
                                     ports: "Values in (s_axis, tlast ends a frame, tuser the slot of the frame's table, \(ids.bits) bit(s)), 32-bit stream words out (m_axis, tlast on a frame's last word, tuser the slot).",
                                     throughput: "one value per cycle", table: ("code", codeLayout))
            } else if let ids {
                m.comment("Huffman encoder for codebook set '\(name.dropLast("_encoder".count))': \(ids.count) codebook(s), \(layout.valueBits)-bit values; the id of each frame's codebook on s_axis_tuser (\(ids.bits) bit(s)).")
                m.comment("Single-stage: the canonical codes of every codebook are one ROM, addressed by id and symbol. Values in (s_axis), 32-bit stream words out (m_axis, tlast on a frame's last word, tuser its codebook's id).")
                m.comment("Each input frame (ended by s_axis_tlast) becomes one frame: values, EOF, zero padding to 32 bits. A frame whose id names no codebook is dropped and raises error (sticky until reset).")
                SetIds.describe(m, codebooks)
                m.comment("hwgen \(HWGenRelease.version). Throughput: one value per cycle, across frames of different codebooks.")
                m.comment("Word of code (\(codeLayout.width) bits): \(codeLayout).")
            } else if let codebook = codebooks.first {
                m.comment("Huffman encoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits).")
                m.comment("Single-stage: the canonical codes are a ROM. Values in (s_axis), 32-bit stream words out (m_axis, tlast on a frame's last word).")
                m.comment("Each input frame (ended by s_axis_tlast) becomes one frame: values, EOF, zero padding to 32 bits.")
                let timing = k == 1 ? [
                    "Throughput: one value per cycle; measured 1.0 on the bundled sample (make sim).",
                    "Latency: 9 cycles from the first value taken to the first word offered, measured on the bundled sample (hwgen sim measures yours).",
                ] : [
                    "Lanes: K = \(k), P = 1 value and Q = 1 word per beat (FORMAT.md sections 9 and 10): entry j goes into lane j mod K; a lane's word takes its place in the stream when the lane's first bit lands in it.",
                    "Reorder buffer: \(reorderDepth) words (block RAM), enough for every word this codebook's lanes can open while an earlier one is open.",
                    "Throughput: one value per cycle (an entry of more than 32 bits takes two), less K + 1 cycles per frame (every lane's last word written after EOF); measured 0.998 values/cycle at K = 8 on the bundled sample (make sim).",
                    "Latency: a word leaves once its lane has filled it; 23 cycles to the first word at K = 8 on the bundled sample (hwgen sim measures yours).",
                ]
                CoreHeader.describe(m, codebook: codebook, timing: timing, tables: [("code", codeLayout)])
            }
            let ports = EncoderPorts(m, valueBits: layout.valueBits, userBits: ids?.bits)
            let tablePort = loadable.map { _ in m.sinkPort("s_table", StreamShape(dataWidth: 32, hasLast: true)) }
            let inputId = ports.values.user
            let inputSelects = ids.map { $0.selects(m, inputId ?? ports.values.valid, prefix: "in_codebook_is") } ?? []

            // Stage 1: code ROM read, raw bits and tlast registered alongside.
            let stageValid = m.register("stage_valid", width: 1, reset: 0)
            let stageLast = m.register("stage_last", width: 1, reset: nil)
            let stageId = ids.map { m.register("stage_id", width: $0.bits, reset: nil) }
            // The raw bits, left-aligned in the widest member's.
            let raw: Signal? = single ? ValueFields.raw(of: ports.values.data, layout: layout)
                : rawBits == 0 ? nil
                : m.wire("in_raw", SetIds.pick(m, layouts.map { memberLayout in
                    ValueFields.raw(of: ports.values.data, layout: memberLayout).map { r in
                        r.width == rawBits ? r : cat(r, m.constant(0, width: rawBits - r.width))
                    } ?? m.constant(0, width: rawBits)
                }, by: inputSelects, width: rawBits))
            let stageRaw = raw.map { m.register("stage_raw", width: $0.width, reset: nil) }
            let advanceWord = m.wire("advance_word", width: 1)
            let advance = m.wire("advance", !stageValid || advanceWord)
            let symbol: Signal
            if single && loadable == nil {
                symbol = ValueFields.symbol(of: ports.values.data, layout: layout)
            } else {
                let memberSymbol = m.wire("in_symbol", SetIds.pick(m, layouts.map { ValueFields.symbol(of: ports.values.data, layout: $0) }, by: inputSelects, width: symbolBits))
                symbol = loadable != nil ? (ids?.address(inputId ?? ports.values.valid, memberSymbol) ?? memberSymbol) : cat(inputId ?? ports.values.valid, memberSymbol)
            }
            // A loadable core: the loader, idle when no frame is in flight (the stages' valid
            // registers are declared here for it).
            let earlyEndPending = loadable.map { _ in m.register("end_pending", width: 1, reset: 0) }
            let earlyWordValid = loadable.map { _ in m.register("word_valid", width: 1, reset: 0) }
            var loader: TableLoader? = nil
            // A frame is in from its first value taken to its last.
            let inFrame = loadable.map { _ in m.register("in_frame", width: 1, reset: 0) }
            if let loadable, let ids, let tablePort, let earlyEndPending, let earlyWordValid, let inFrame {
                m.when(ports.values.valid && ports.values.ready) { inFrame.assign(!ports.valuesLast) }
                loader = TableLoader(m, port: tablePort, capacity: loadable, ids: ids,
                                     entries: .huffman(codeLayout: codeLayout, fieldWidth: rom.fieldWidth, maxLength: loadable.tableLog),
                                     idle: !inFrame && !stageValid && !earlyWordValid && !earlyEndPending)
            }
            let romWord = loader.map { loader in
                m.ram("code", width: codeLayout.width, depth: 1 << symbol.width, writeEnable: loader.write, writeAddress: loader.writeAddress,
                      writeData: loader.writeData, readAddress: symbol, readEnable: advance)
            } ?? m.rom("code", width: codeLayout.width, contents: romContents, style: TablePlacement.style(entries: romContents.count, fastPath: true),
                       address: symbol, readEnable: advance, synchronous: true)
            // A frame whose id names no codebook (or an empty slot) is taken and dropped.
            let named = ids.map { m.wire("id_names_none", $0.namesNone(m, inputId ?? ports.values.valid)) }
            let unnamed = loader.map { loader in m.wire("frame_dropped", (named ?? ports.values.valid) || !SetIds.pick(m, loader.valid, by: inputSelects, width: 1)) } ?? named
            // (A load lets the frame in flight finish, then holds the next frames until it is in.)
            let takes = zip2(loader, inFrame).map { loader, inFrame in m.wire("takes", advance && !loader.holdsNewFrames(inFrame: inFrame)) } ?? advance
            m.when(takes) {
                stageValid.assign(unnamed.map { ports.values.valid && !$0 } ?? ports.values.valid)
                stageLast.assign(ports.valuesLast)
                if let stageRaw, let raw { stageRaw.assign(raw) }
                if let stageId, let inputId { stageId.assign(inputId) }
            }
            if loader != nil { m.when(advance && !takes) { stageValid.assign(0) } }
            ports.values.ready.assign(takes)
            if let unnamed {
                let failed = m.register("failed", width: 1, reset: 0)
                m.when(ports.values.valid && takes && unnamed) { failed.assign(1) }
                if let loader { m.when(loader.fail) { failed.assign(1) } }
                m.output("error").assign(failed)
            }

            // Stage 1b: the ROM word registered (block RAM output register), so the RAM's slow
            // clock-to-output does not lead into the chunk composition.
            let wordValid = earlyWordValid ?? m.register("word_valid", width: 1, reset: 0)
            let wordData = m.register("word_data", width: codeLayout.width, reset: nil)
            let wordLast = m.register("word_last", width: 1, reset: nil)
            let wordRaw = stageRaw.map { m.register("word_raw", width: $0.width, reset: nil) }
            let wordId = ids.map { m.register("word_id", width: $0.bits, reset: nil) }
            m.when(advanceWord) {
                wordValid.assign(stageValid)
                wordData.assign(romWord)
                wordLast.assign(stageLast)
                if let wordRaw, let stageRaw { wordRaw.assign(stageRaw) }
                if let wordId, let stageId { wordId.assign(stageId) }
            }

            // Stage 2: the chunk for the packer, left-aligned in 64 bits, with its length: a
            // value's code (or ESC and literal) and raw bits, or after a frame's last value, EOF
            // (which ends the frame: the packer pads it and sets tlast). A set's member is the
            // word's id (which stays while EOF waits).
            let endPending = earlyEndPending ?? m.register("end_pending", width: 1, reset: 0)
            // While EOF waits, the word stage may already hold the next frame's first value: a
            // set's EOF is the member of the frame's last value, kept from when it left.
            let endId = ids.map { m.register("end_id", width: $0.bits, reset: nil) }
            let wordSelects = ids.map { $0.selects(m, wordId ?? wordValid, prefix: "codebook_is") } ?? []
            let endSelects = ids.map { $0.selects(m, endId ?? wordValid, prefix: "end_codebook_is") } ?? []
            let (composed, valueBits) = single || loadable != nil ? rom.valueChunk(m, word: wordData, raw: wordRaw, countWidth: 7)
                : rom.valueChunk(m, word: wordData, raw: wordRaw, rawCount: SetIds.pick(m, constants: layouts.map { UInt64($0.rawBits) }, by: wordSelects, width: 7), countWidth: 7)
            let endLeft: Signal, endLength: Signal
            if let loader, let loadable {
                // A loadable core's EOF: the slot's registers.
                endLeft = m.wire("eof_code", cat(SetIds.pick(m, loader.endCodes, by: endSelects, width: loadable.tableLog), m.constant(0, width: 64 - loadable.tableLog)))
                endLength = m.wire("eof_length", SetIds.pick(m, loader.endLengths, by: endSelects, width: 6).zeroExtended(to: 7))
            } else {
                endLeft = single ? m.constant(rom.endLeft, width: 64) : m.wire("eof_code", SetIds.pick(m, constants: roms.map(\.endLeft), by: endSelects, width: 64))
                endLength = single ? m.constant(UInt64(rom.endLength), width: 7) : m.wire("eof_length", SetIds.pick(m, constants: roms.map { UInt64($0.endLength) }, by: endSelects, width: 7))
            }
            let chunkId: Signal? = if let wordId, let endId { mux(endPending, endId, wordId) } else { nil }
            let chunk = WordPacker.Chunk(
                valid: endPending || wordValid, data: mux(endPending, endLeft, composed),
                bits: mux(endPending, endLength, valueBits), last: endPending, user: chunkId)
            let accepts = k == 1 ? WordPacker(m, name: "packer", maxChunk: maxItem, chunk: chunk, to: ports.words).accepts
                : LaneWordPacker(m, name: "packer", lanes: k, depth: reorderDepth, maxChunk: maxItem, chunk: chunk, stays: nil, to: ports.words).accepts
            advanceWord.assign(!wordValid || (accepts && !endPending))
            m.when(accepts && endPending) {
                endPending.assign(0)
            }.elseWhen(accepts && wordValid && wordLast) {
                endPending.assign(1)
                if let endId, let wordId { endId.assign(wordId) }
            }
        }
    }
}

/// The Huffman encoders' code ROM: per symbol its code (or ESC's code then the literal),
/// left-aligned in `fieldWidth` bits, and the number of those bits.
struct HuffmanCodeROM {
    let layout: WordLayout
    let contents: [UInt64]
    let fieldWidth: Int
    /// Per symbol, its entry's bits (field and raw bits).
    let valueChunks: [Int]
    /// EOF's code: its length, and the code left-aligned in 64 bits.
    let endLength: Int
    let endLeft: UInt64
    /// The longest entry (a value's, or EOF's).
    let longest: Int
    let rawBits: Int

    /// A value's chunk from its ROM `word` and `raw` bits: the code (or ESC and literal) and the
    /// raw bits left-aligned in 64 bits, and their count in `countWidth` bits.
    func valueChunk(_ m: ModuleBuilder, word: Signal, raw: Signal?, countWidth: Int) -> (data: Signal, bits: Signal) {
        let fieldCount = layout.field("length", of: word)
        var composed = WordPacker.leftAligned(layout.field("code", of: word), in: m)
        if let raw { composed = composed | (WordPacker.leftAligned(raw, in: m) >> fieldCount) }
        return (composed, (fieldCount.zeroExtended(to: countWidth + 1) + rawBits).truncated(to: countWidth))
    }

    /// As `valueChunk(_:word:raw:countWidth:)`, the raw bits (left-aligned in `raw`) counting
    /// `rawCount` (a set's members differ).
    func valueChunk(_ m: ModuleBuilder, word: Signal, raw: Signal?, rawCount: Signal, countWidth: Int) -> (data: Signal, bits: Signal) {
        let fieldCount = layout.field("length", of: word)
        var composed = WordPacker.leftAligned(layout.field("code", of: word), in: m)
        if let raw { composed = composed | (WordPacker.leftAligned(raw, in: m) >> fieldCount) }
        return (composed, (fieldCount.zeroExtended(to: countWidth + 1) + rawCount.zeroExtended(to: countWidth + 1)).truncated(to: countWidth))
    }

    /// The words of a loadable code table: fields up to `fieldWidth` bits (a code up to
    /// `maxLength` bits, or ESC's code and a literal), no contents (they are loaded).
    init(fieldWidth: Int, maxLength: Int, rawBits: Int) {
        layout = WordLayout([("code", fieldWidth), ("length", 5)])
        contents = []
        self.fieldWidth = fieldWidth
        valueChunks = [1 + rawBits]
        endLength = maxLength
        endLeft = 0
        longest = max(fieldWidth + rawBits, maxLength)
        self.rawBits = rawBits
    }

    /// One ROM for a set's members: member j's words at j x `entriesEach` (its symbols, then
    /// zeros), each code left-aligned in the widest member's field. EOF and the raw bits stay
    /// each member's (`endLeft` and `endLength` here are member 0's).
    init(union roms: [HuffmanCodeROM], entriesEach: Int) throws {
        let fieldWidth = roms.map(\.fieldWidth).max() ?? 1
        let layout = WordLayout([("code", fieldWidth), ("length", 5)])
        var contents: [UInt64] = []
        for rom in roms {
            let shift = UInt64(fieldWidth - rom.fieldWidth)
            for word in rom.contents {
                let code = rom.layout.unpack("code", of: word), length = rom.layout.unpack("length", of: word)
                contents.append(try layout.pack(["code": code << shift, "length": length]))
            }
            contents.append(contentsOf: [UInt64](repeating: 0, count: entriesEach - rom.contents.count))
        }
        self.layout = layout
        self.contents = contents
        self.fieldWidth = fieldWidth
        valueChunks = roms.flatMap(\.valueChunks)
        endLength = roms[0].endLength
        endLeft = roms[0].endLeft
        longest = roms.map(\.longest).max() ?? 1
        rawBits = roms.map(\.rawBits).max() ?? 0
    }

    init(_ tables: HuffmanTables) throws {
        let (values, lengths, code) = (tables.layout, tables.lengths, tables.code)
        let (escape, endOfFrame) = (tables.escape, tables.endOfFrame)
        let fields: [(bits: UInt64, count: Int)] = (0..<values.symbolCount).map { s in
            lengths[s] > 0
                ? (UInt64(code.codes[s]), lengths[s])
                : (UInt64(code.codes[escape]) << UInt64(values.symbolBits) | UInt64(s), lengths[escape] + values.symbolBits)
        }
        let fieldWidth = max(1, fields.map(\.count).max() ?? 1)
        let countWidth = 5  // up to 28 bits
        let layout = WordLayout([("code", fieldWidth), ("length", countWidth)])
        contents = try fields.map { try layout.pack(["code": $0.bits << UInt64(fieldWidth - $0.count), "length": UInt64($0.count)]) }
        self.layout = layout
        self.fieldWidth = fieldWidth
        valueChunks = fields.map { $0.count + values.rawBits }
        endLength = lengths[endOfFrame]
        endLeft = UInt64(code.codes[endOfFrame]) << UInt64(64 - endLength)
        longest = max(fieldWidth + values.rawBits, endLength)
        rawBits = values.rawBits
    }
}
