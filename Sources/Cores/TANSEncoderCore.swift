import Codec
import HDL
import HDLBlocks

/// The tANS encoder: values in, 32-bit stream words out (FORMAT.md sections 7 and 8).
///
/// tANS codes a frame backwards, so the encoder holds the frame. Three stages run at once on
/// three frames, one value per cycle each:
/// 1. **Fill**: values go into a value buffer (a `ReversingBuffer`: block RAM, frames alternate
///    between its two ends). A frame ends with `s_axis_tlast` or at `maxFrame` values (the
///    `MAX_FRAME` of FORMAT.md section 8): a longer input frame is cut into frames of `maxFrame`
///    values, each a valid frame of its own.
/// 2. **Encode**: the values come back last first; EOF is coded first of all, then each value:
///    per entry a symbol-indexed ROM gives the threshold `c << k`, `k` and the offset of the
///    entry's states, the state loop (state -> nb -> X >> nb + offset -> state ROM -> state) runs
///    one entry per cycle through a block RAM, and each value's chunk (state bits, ESC literal,
///    raw bits) goes into a chunk buffer (a second `ReversingBuffer`). EOF's chunk and the final
///    state (the frame's first R bits) are kept per frame beside it.
/// 3. **Write**: the chunks come back in value order behind the R-bit state, EOF's chunk last,
///    into a `WordPacker` (zero padding, `m_axis_tlast` on the frame's last word).
///
/// Latency: a frame must be whole before its encoding starts; its first word leaves about its
/// length + 8 cycles after its last value went in (the backward pass), its last word about
/// another frame time later (the forward pass). Throughput: one value per cycle in steady state
/// (the three stages overlap on three frames) while chunks average at most 32 bits, less a few
/// cycles per frame; measured 1.0 on the bundled sample (`make sim`).
public enum TANSEncoderCore {
    public static let defaultMaxFrame = StreamLimits.defaultFrameValues
    /// The MAX_FRAME values the encoder can be generated for.
    public static let maxFrameRange = 1...(1 << 20)

    /// The longest chunk a K-lane encoder takes (two pieces of at most 32 bits into its lane).
    public static let longestLaneEntry = 64

    /// The encoder for `codebook`; for K lanes (FORMAT.md section 9) each lane keeps a state of its
    /// own (the states take turns in the loop) and a `LaneWordPacker` writes the words in the
    /// section's order, each lane's state bits just before its first entry.
    public static func module(codebook: Codebook, maxFrame: Int = defaultMaxFrame) throws -> Module {
        try module(name: "\(codebook.name)_encoder", codebooks: [codebook], ids: nil, maxFrame: maxFrame)
    }

    /// The encoder for a set of tANS codebooks (FORMAT.md section 13): values in with the frame's
    /// codebook id on `s_axis_tuser`, words out with it on `m_axis_tuser`. One datapath for every
    /// member: the id is stored with each value in the value buffer; the entry ROM holds every
    /// member's symbol words at `{id, symbol}`, the state ROM every member's next states at
    /// `{id, state index}` (2^R of the widest member's R each); in the loop X = 2^r + state with
    /// the frame member's r, and the state index wraps at its table size; each frame's final
    /// state goes out as its member's r bits. A frame whose id names no codebook is taken and
    /// dropped, and raises `error` (sticky until reset).
    public static func module(set: CodebookSet, maxFrame: Int = defaultMaxFrame) throws -> Module {
        try module(name: "\(set.name)_encoder", codebooks: set.members, ids: try SetIds(set), maxFrame: maxFrame)
    }

    /// A loadable encoder (`--loadable`): its entry parameters (a RAM at `{slot, symbol}`), each
    /// slot's EOF step (registers) and next states (a RAM at `{slot, index}`) are loaded at run
    /// time through `s_table` (`TableImage`, coder 4; `TableLoader`); a slot per member, tables up
    /// to tableLog `capacity.tableLog`. The datapath is the set encoder's with each frame's
    /// tableLog read from its slot. A load lets the frame being taken in finish, waits until no
    /// frame is anywhere in the encoder, and holds the next frames meanwhile; a frame of an empty
    /// slot is taken and dropped and raises `error`.
    public static func module(loadable capacity: LoadableCapacity, name: String, maxFrame: Int = defaultMaxFrame) throws -> Module {
        guard !capacity.huffman, (1...256).contains(capacity.slots), (2...TableImage.maxTableLog).contains(capacity.tableLog), capacity.layout.symbolBits <= 12,
              capacity.layout.symbolBits + capacity.layout.rawBits <= 32 else {
            throw CoreError.unsupported("a loadable tANS encoder holds 1 to 256 slots of tableLog 2 to \(TableImage.maxTableLog), symbolBits up to 12")
        }
        // The datapath is sized by a stand-in table of the capacity that escapes a symbol (any
        // loaded table may): its widths, not its contents, are used.
        let r = capacity.tableLog, size = 1 << r
        var counts = [Int](repeating: 0, count: capacity.layout.symbolCount + 2)
        counts[capacity.layout.symbolCount] = size - 2
        counts[capacity.layout.symbolCount + 1] = 1
        counts[capacity.layout.symbolCount > 1 ? 1 : 0] += 1
        let standIn = try Codebook(name: name, coder: .tans(tableLog: r, counts: counts), layout: capacity.layout)
        return try module(name: "\(name)_encoder", codebooks: [standIn], ids: SetIds(count: capacity.slots), maxFrame: maxFrame, loadable: capacity)
    }

    /// Throws unless `maxFrame` is a MAX_FRAME the encoders can be generated for.
    static func checkMaxFrame(_ maxFrame: Int) throws {
        guard maxFrameRange.contains(maxFrame) else {
            throw CoreError.unsupported("MAX_FRAME must be \(maxFrameRange.lowerBound) to \(maxFrameRange.upperBound) values, is \(maxFrame)")
        }
    }

    static func module(name: String, codebooks: [Codebook], ids: SetIds?, maxFrame: Int, loadable: LoadableCapacity? = nil) throws -> Module {
        let (logs, countsList) = try SetIds.tansCoders(codebooks)
        let codebook = codebooks[0]
        let tableLog = logs.max() ?? logs[0]
        try checkMaxFrame(maxFrame)
        let lanes = codebook.lanes
        let layout = codebook.layout
        let isSet = ids != nil
        let memberTables = codebooks.indices.map { TANSTables(tableLog: logs[$0], counts: countsList[$0]) }
        let tables = memberTables[0]
        let r = tableLog, size = 1 << tableLog
        let symbolBits = codebooks.map(\.layout.symbolBits).max() ?? layout.symbolBits
        let rawBits = layout.rawBits
        let n = 1 << symbolBits
        let depth = 1 << max(1, bitsToAddress(maxFrame))

        // A set: every member's tables with the widest R, then its chunks as wide as the widest.
        var encodings = try codebooks.indices.map { try TANSEncodeTables(tables: memberTables[$0], layout: codebooks[$0].layout, stateWidth: isSet ? r : nil) }
        let chunkWidth = encodings.map(\.chunkWidth).max() ?? encodings[0].chunkWidth
        if isSet {
            encodings = try codebooks.indices.map { try TANSEncodeTables(tables: memberTables[$0], layout: codebooks[$0].layout, stateWidth: r, chunkWidth: chunkWidth) }
        }
        let encoding = encodings[0]
        let (parameters, parameterWidth) = (encoding.parameters, encoding.parameters.width)
        // A set's symbol words: each member's 2^symbolBits (of the widest member), in id order.
        let symbolWords = isSet ? encodings.flatMap { $0.symbolWords + [UInt64](repeating: 0, count: n - $0.symbolWords.count) } : encoding.symbolWords
        let chunkLayout = isSet ? WordLayout([("chunk", chunkWidth), ("length", encoding.lengthWidth)]) : encoding.chunkLayout
        let endLayout = encoding.endLayout
        if lanes > 1, chunkWidth > longestLaneEntry {
            throw CoreError.unsupported("codebook '\(codebook.name)' has entries of up to \(chunkWidth) bits; the K-lane tANS encoder takes entries of at most \(longestLaneEntry) bits")
        }
        // The reorder buffer (K lanes): values' chunks have at least their fewest state bits and
        // the raw bits; EOF's chunk does not count (the frame's end writes every open word); each
        // lane's state is a chunk of R bits that keeps the lane.
        let fewestBits = encoding.fewestValueBits
        let reorderDepth = LaneReorder.depth(lanes: lanes, shortestChunk: min(r, fewestBits.min() ?? 0), longestChunk: chunkWidth,
                                             extraChunks: lanes - 1, framedChunks: maxFrame + 1 + lanes)

        return try Module(name) { m in
          if let loadable, let ids {
            TableLoader.describe(m, title: "Loadable tANS encoder '\(name.dropLast("_encoder".count))': \(loadable.slots) slot(s) of encode tables up to tableLog \(r) for \(layout.transform.rawValue) values (symbolBits \(symbolBits), rawBits \(rawBits))",
                                 ports: "Values in (s_axis, tlast ends a frame, tuser the slot of the frame's table, \(ids.bits) bit(s)), 32-bit stream words out (m_axis, tlast on a frame's last word, tuser the slot). MAX_FRAME = \(maxFrame).",
                                 throughput: "one value per cycle in steady state (three frames overlap), less the frames a load waits for", table: ("entry_parameters", parameters))
          } else if let ids {
            m.comment("tANS encoder for codebook set '\(name.dropLast("_encoder".count))': \(ids.count) codebook(s), \(layout.valueBits)-bit values, tableLog up to \(r); the id of each frame's codebook on s_axis_tuser (\(ids.bits) bit(s)).")
            m.comment("Values in (s_axis, tlast ends a frame), 32-bit stream words out (m_axis, tlast on a frame's last word, tuser its codebook's id). A frame whose id names no codebook is dropped and raises error (sticky until reset).")
            m.comment("MAX_FRAME = \(maxFrame): a longer input frame is cut into frames of at most \(maxFrame) values, each a valid frame.")
            SetIds.describe(m, codebooks, details: logs.map { "tableLog \($0)" })
            m.comment("hwgen \(HWGenRelease.version). Latency: a frame is coded backwards once it is whole. Throughput: one value per cycle in steady state (three frames overlap).")
            m.comment("Word of entry_parameters (\(parameterWidth) bits): \(parameters). Word of the chunk buffer (\(chunkLayout.width) bits): \(chunkLayout).")
          } else {
            m.comment("tANS encoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(r).")
            m.comment("Values in (s_axis, tlast ends a frame), 32-bit stream words out (m_axis, tlast on a frame's last word).")
            m.comment("MAX_FRAME = \(maxFrame): a longer input frame is cut into frames of at most \(maxFrame) values, each a valid frame.")
            let laneLines = lanes == 1 ? [] : [
                "Lanes: K = \(lanes), P = 1 value and Q = 1 word per beat (FORMAT.md sections 9 and 10): entry j goes into lane j mod K, each lane has its own state (the K states take turns in the loop) and its R state bits go out just before its first entry.",
                "Reorder buffer: \(reorderDepth) words (block RAM), enough for every word this codebook's lanes can open while an earlier one is open.",
            ]
            CoreHeader.describe(m, codebook: codebook, timing: laneLines + [
                "Latency: a frame is coded backwards once it is whole: its first word leaves about its length + 8 cycles after its last value.",
                "Throughput: one value per cycle in steady state (three frames overlap)\(lanes == 1 ? "" : ", less K + 1 cycles per frame (the lanes' states and last words), and an entry of more than 32 bits takes two"); measured 1.0 on the bundled sample (make sim).",
            ], tables: [("entry_parameters", parameters), ("the chunk buffer", chunkLayout), ("frame_end", endLayout)])
          }
            let ports = EncoderPorts(m, valueBits: layout.valueBits, userBits: ids?.bits)
            let tablePort = loadable.map { _ in m.sinkPort("s_table", StreamShape(dataWidth: 32, hasLast: true)) }
            // A loadable encoder: the loader, idle when no frame is anywhere (declared here, its
            // signals assigned below); a frame is in from its first value taken to its last.
            let idle = loadable.map { _ in m.wire("tables_idle", width: 1) }
            let inFrame = loadable.map { _ in m.register("in_frame", width: 1, reset: 0) }
            var loader: TableLoader? = nil
            if let loadable, let ids, let tablePort, let idle {
                loader = TableLoader(m, port: tablePort, capacity: loadable, ids: ids, entries: .tansEncode(parameterLayout: parameters), idle: idle)
            }

            // 1. Fill (a set: each value with its frame's id; a frame whose id names none is dropped).
            let valueReady = m.wire("value_ready", width: 1)
            var unnamed = ids.flatMap { ids in ids.allNamed ? nil : m.wire("id_names_none", ids.namesNone(m, ports.values.user ?? ports.values.valid)) }
            if let loader, let ids {
                // A frame of a slot that holds no whole table is dropped too.
                let empty = !SetIds.pick(m, loader.valid, by: ids.selects(m, ports.values.user ?? ports.values.valid, prefix: "input_slot_is"), width: 1)
                unnamed = m.wire("frame_dropped", unnamed.map { $0 || empty } ?? empty)
            }
            // (A load lets the frame being taken in finish, then holds the next frames until it is in.)
            let held = zip2(loader, inFrame).map { loader, inFrame in m.wire("held_for_load", loader.holdsNewFrames(inFrame: inFrame)) } ?? m.constant(0, width: 1)
            let stored = ports.values.user.map { cat($0, ports.values.data) } ?? ports.values.data
            let values = ReversingBuffer(m, name: "values", depth: depth, maxLength: maxFrame, width: stored.width,
                                         writeValid: unnamed.map { ports.values.valid && !$0 && !held } ?? (ports.values.valid && !held), writeData: stored,
                                         writeLast: ports.valuesLast, readReady: valueReady)
            // (Named only in a loadable encoder: the other cores' Verilog stays as it was.)
            let readyTerm = !held && (unnamed.map { values.writeReady || (ports.values.valid && $0) } ?? values.writeReady)
            let inputReady = loader == nil ? readyTerm : m.wire("input_ready", readyTerm)
            ports.values.ready.assign(inputReady)
            if let inFrame { m.when(ports.values.valid && inputReady) { inFrame.assign(!ports.valuesLast) } }
            if ids != nil {
                // Every id names a member when M is a power of two: error then stays low.
                if let unnamed {
                    let failed = m.register("failed", width: 1, reset: 0)
                    m.when(ports.values.valid && inputReady && unnamed) { failed.assign(1) }
                    if let loader { m.when(loader.fail) { failed.assign(1) } }
                    m.output("error").assign(failed)
                } else {
                    m.output("error").assign(m.constant(0, width: 1))
                }
            }
            let readValue = isSet ? values.readData.bits(layout.valueBits - 1, 0) : values.readData
            let readId = ids.map { values.readData.bits(layout.valueBits + $0.bits - 1, layout.valueBits) }
            let readSelects = ids.map { $0.selects(m, readId ?? valueReady, prefix: "read_codebook_is") } ?? []

            // 2. Encode. Entry register: EOF before a frame's values, then the values last first.
            let loopStep = m.wire("loop_step", width: 1)
            let entryValid = m.register("entry_valid", width: 1, reset: 0)
            let entryIsEnd = m.register("entry_is_end", width: 1, reset: nil)
            let entryFrameStart = m.register("entry_frame_start", width: 1, reset: nil)
            let entrySymbol = m.register("entry_symbol", width: symbolBits, reset: nil)
            // A set keeps the whole value (each member takes its raw bits in the chunk) and the id.
            let raw = isSet ? readValue : ValueFields.raw(of: values.readData, layout: layout)
            let entryRaw = raw.map { m.register(isSet ? "entry_value" : "entry_raw", width: $0.width, reset: nil) }
            let entryId = ids.map { m.register("entry_id", width: $0.bits, reset: nil) }
            let endDone = m.register("end_done", width: 1, reset: 0)
            // K lanes: the entry's parameters are registered once more before the state loop
            // (the block RAM's slow clock-to-output is then off the loop's path).
            let loopAdvance = lanes == 1 ? loopStep : m.wire("param_advance", width: 1)
            let entryAdvance = m.wire("entry_advance", !entryValid || loopAdvance)
            let needEnd = m.wire("need_end", values.readValid && values.readFirst && !endDone)
            valueReady.assign(entryAdvance && !needEnd)
            let symbol = isSet ? m.wire("read_symbol", SetIds.pick(m, codebooks.map { ValueFields.symbol(of: readValue, layout: $0.layout) }, by: readSelects, width: symbolBits))
                : ValueFields.symbol(of: values.readData, layout: layout)
            let entryAddress = zip2(ids, readId).map { $0.address($1, symbol) } ?? symbol.resized(to: max(1, bitsToAddress(max(2, n))))
            let romWord = loader.map { loader in
                m.ram("entry_parameters", width: parameterWidth, depth: 1 << entryAddress.width, writeEnable: loader.parameterWrite ?? entryAdvance & 0,
                      writeAddress: loader.parameterAddress ?? entryAddress, writeData: loader.parameterData ?? m.constant(0, width: parameterWidth),
                      readAddress: entryAddress, readEnable: entryAdvance)
            } ?? m.rom("entry_parameters", width: parameterWidth, contents: symbolWords.count >= 2 ? symbolWords : symbolWords + [0],
                       style: TablePlacement.style(entries: symbolWords.count), address: entryAddress, readEnable: entryAdvance, synchronous: true)
            m.when(entryAdvance) {
                entryValid.assign(values.readValid)
                entryIsEnd.assign(needEnd)
                entryFrameStart.assign(values.readLast && !needEnd)
                entrySymbol.assign(symbol)
                if let entryRaw, let raw { entryRaw.assign(raw) }
                if let entryId, let readId { entryId.assign(readId) }
                m.when(values.readValid) { endDone.assign(needEnd) }
            }

            // The state loop: X in [T, 2T); the state ROM's read register holds X - T.
            let entrySelects = ids.map { $0.selects(m, entryId ?? entryValid, prefix: "codebook_is") } ?? []
            let endWord = loader.map { m.wire("eof_parameters", SetIds.pick(m, $0.endSteps, by: entrySelects, width: parameterWidth)) }
                ?? (isSet ? m.wire("eof_parameters", SetIds.pick(m, constants: encodings.map(\.endWord), by: entrySelects, width: parameterWidth))
                    : m.constant(encoding.endWord, width: parameterWidth))
            // A loadable encoder: the entry's slot's tableLog.
            let entryLog = loader.map { m.wire("entry_table_log", SetIds.pick(m, $0.logs, by: entrySelects, width: 5)) }
            let entryParameters = mux(entryIsEnd, endWord, romWord)
            // What the state loop codes: the entry stage's, or (K lanes) the parameter stage's.
            let (loopValid, loopIsEnd, loopFrameStart, loopSymbol, loopRaw, parametersWord): (Signal, Signal, Signal, Signal, Signal?, Signal)
            // K lanes: k - 1 (the entry's fewer state bits), computed in the parameter stage.
            var parameterKLess: Signal? = nil
            if lanes == 1 {
                (loopValid, loopIsEnd, loopFrameStart, loopSymbol, loopRaw, parametersWord) = (entryValid, entryIsEnd, entryFrameStart, entrySymbol, entryRaw, entryParameters)
            } else {
                let paramValid = m.register("param_valid", width: 1, reset: 0)
                let paramIsEnd = m.register("param_is_end", width: 1, reset: nil)
                let paramFrameStart = m.register("param_frame_start", width: 1, reset: nil)
                let paramSymbol = m.register("param_symbol", width: symbolBits, reset: nil)
                let paramRaw = entryRaw.map { m.register("param_raw", width: $0.width, reset: nil) }
                let paramWord = m.register("param_word", width: parameterWidth, reset: nil)
                loopAdvance.assign(!paramValid || loopStep)
                m.when(loopAdvance) {
                    paramValid.assign(entryValid)
                    paramIsEnd.assign(entryIsEnd)
                    paramFrameStart.assign(entryFrameStart)
                    paramSymbol.assign(entrySymbol)
                    if let paramRaw, let entryRaw { paramRaw.assign(entryRaw) }
                    paramWord.assign(entryParameters)
                }
                let kLess = m.register("param_k_less", width: 4, reset: nil)
                m.when(loopAdvance) { kLess.assign(parameters.field("k", of: entryParameters) - 1) }
                parameterKLess = kLess
                (loopValid, loopIsEnd, loopFrameStart, loopSymbol, loopRaw, parametersWord) = (paramValid, paramIsEnd, paramFrameStart, paramSymbol, paramRaw, paramWord)
            }
            let offset = parameters.field("offset", of: parametersWord)
            let threshold = parameters.field("threshold", of: parametersWord)
            let k = parameters.field("k", of: parametersWord)
            let escaped = parameters.field("escaped", of: parametersWord) && !loopIsEnd
            let stateIndex = m.wire("state_index", width: r)
            let stateContents = isSet ? memberTables.flatMap { $0.statesByEntry.map(UInt64.init) + [UInt64](repeating: 0, count: size - $0.statesByEntry.count) }
                : tables.statesByEntry.map(UInt64.init)
            let stateAddress = zip2(ids, entryId).map { $0.address($1, stateIndex) } ?? stateIndex
            let nextState = loader.map { loader in
                m.ram("states", width: r, depth: 1 << stateAddress.width, writeEnable: loader.write, writeAddress: loader.writeAddress,
                      writeData: loader.writeData, readAddress: stateAddress, readEnable: loopStep)
            } ?? m.rom("states", width: r, contents: stateContents, style: .blockMemory, address: stateAddress, readEnable: loopStep, synchronous: true)
            // EOF is a frame's first entry: X = T there. K lanes: the states take turns, the
            // current lane's first; the state ROM's register is the last lane's (the one just
            // coded), and each lane starts the frame at X = T (its first K entries, EOF first).
            let laneStates = (0..<max(0, lanes - 1)).map { m.register("lane_state\($0)", width: r, reset: nil) }
            let fresh: Signal
            let currentState: Signal
            if lanes == 1 {
                (fresh, currentState) = (loopIsEnd, nextState)
            } else {
                // Whether fewer than K entries of the frame are coded, kept in a register of its own.
                let coded = m.register("lanes_coded", width: bitsToAddress(lanes + 1), reset: nil)
                let belowK = m.register("lanes_below_k", width: 1, reset: nil)
                fresh = m.wire("lane_fresh", loopIsEnd || belowK)
                currentState = laneStates[0]
                let codedNext = m.wire("lanes_coded_after", mux(loopIsEnd, m.constant(1, width: coded.width), mux(belowK, coded + 1, coded)))
                m.when(loopStep) {
                    coded.assign(codedNext)
                    belowK.assign(codedNext != lanes)
                    for i in 0..<(lanes - 1) { laneStates[i].assign(i + 1 < lanes - 1 ? laneStates[i + 1] : nextState) }
                }
            }
            // X in [T, 2T) of the frame's member: T at EOF, else T + the state (a set: the
            // member's T, the entry's id).
            let x: Signal
            if isSet {
                let tableSize = entryLog.map { m.wire("table_size", (m.constant(1, width: r + 1) << $0).truncated(to: r + 1)) }
                    ?? m.wire("table_size", SetIds.pick(m, constants: logs.map { UInt64(1) << UInt64($0) }, by: entrySelects, width: r + 1))
                x = m.wire("x", mux(fresh, tableSize, tableSize | currentState.zeroExtended(to: r + 1)))
            } else {
                x = m.wire("x", mux(fresh, m.constant(UInt64(size), width: r + 1), cat(m.constant(1, width: 1), currentState)))
            }
            let nb = m.wire("nb", mux(x >= threshold, k, k - 1))
            if let kLess = parameterKLess {
                // X shifted by the entry's fewer state bits while the comparison decides on one
                // more (so the comparison and the shift run side by side, not one after the other).
                let fewer = m.wire("x_shifted", x >> kLess)
                let more = m.wire("x_ge_threshold", x >= threshold)
                stateIndex.assign((mux(more, fewer >> 1, fewer).truncated(to: r) + offset).truncated(to: r))
            } else if isSet {
                // The index wraps at the member's table size.
                let mask = entryLog.map { m.wire("state_mask", ((m.constant(1, width: r + 1) << $0) - 1).truncated(to: r)) }
                    ?? m.wire("state_mask", SetIds.pick(m, constants: logs.map { (UInt64(1) << UInt64($0)) - 1 }, by: entrySelects, width: r))
                stateIndex.assign(((x >> nb).truncated(to: r) + offset).truncated(to: r) & mask)
            } else {
                stateIndex.assign(((x >> nb).truncated(to: r) + offset).truncated(to: r))
            }

            // The chunk, left-aligned in chunkWidth bits: the low nb bits of X, the literal, raw bits.
            let stateBitsLeft: Signal, chunk: Signal, chunkLength: Signal
            if let loopRaw, isSet {
                // Each member's chunk from the value (its literal and raw bits), the entry's id picks one.
                let chunks = codebooks.indices.map { j in
                    encodings[j].chunk(m, x: x, nb: nb, escaped: escaped, symbol: ValueFields.symbol(of: loopRaw, layout: codebooks[j].layout),
                                       raw: ValueFields.raw(of: loopRaw, layout: codebooks[j].layout), isEnd: nil, prefix: "m\(j)_")
                }
                stateBitsLeft = chunks[0].stateBitsLeft
                chunk = m.wire("coded_bits", SetIds.pick(m, chunks.map(\.chunk), by: entrySelects, width: chunkWidth))
                chunkLength = m.wire("coded_length", SetIds.pick(m, chunks.map(\.length), by: entrySelects, width: encoding.lengthWidth))
            } else {
                let coded = encoding.chunk(m, x: x, nb: nb, escaped: escaped, symbol: loopSymbol, raw: raw == nil ? nil : loopRaw, isEnd: nil)
                (stateBitsLeft, chunk, chunkLength) = (coded.stateBitsLeft, coded.chunk, coded.length)
            }

            // 3. The chunk register feeds the chunk buffer; EOF's chunk waits beside it.
            let chunkValid = m.register("coded_valid", width: 1, reset: 0)
            let chunkData = m.register("coded_chunk", width: chunkLayout.width, reset: nil)
            let chunkLast = m.register("coded_last", width: 1, reset: nil)
            let endChunk = m.register("end_chunk", width: endLayout.width, reset: nil)
            let chunkId = ids.map { m.register("coded_id", width: $0.bits, reset: nil) }
            let writeReady = m.wire("coded_write_ready", width: 1)
            let chunkFree = m.wire("coded_free", !chunkValid || writeReady)
            loopStep.assign(loopValid && chunkFree)
            m.when(loopStep && loopIsEnd) {
                endChunk.assign(endLayout.word(["state_bits": stateBitsLeft, "count": nb], in: m))
            }
            m.when(loopStep && !loopIsEnd) {
                chunkValid.assign(1)
                chunkData.assign(chunkLayout.word(["chunk": chunk, "length": chunkLength], in: m))
                chunkLast.assign(loopFrameStart)
                if let chunkId, let entryId { chunkId.assign(entryId) }
            }.elseWhen(chunkFree) {
                chunkValid.assign(0)
            }
            let chunkReady = m.wire("chunks_take", width: 1)
            // K lanes: the chunk buffer's ready is a register, off the state loop's step.
            let chunks = ReversingBuffer(m, name: "chunks", depth: depth, maxLength: depth, width: chunkLayout.width,
                                         writeValid: chunkValid, writeData: chunkData, writeLast: chunkLast, readReady: chunkReady,
                                         registeredReady: lanes > 1)
            writeReady.assign(chunks.writeReady)
            // Per frame (by the chunk buffer's parity): the final state and EOF's chunk, stored as
            // the frame's last chunk is written (the state ROM then shows the final state). K
            // lanes: lane L's final state is the one coded L entries before the last (lane 0's).
            let finalStates = [nextState] + laneStates.reversed()
            let frameStates = (0..<2).map { q in
                (0..<lanes).map { lane in m.register(lanes == 1 ? "frame_state\(q)" : "frame_state\(q)_lane\(lane)", width: r, reset: nil) }
            }
            let frameEnd = (0..<2).map { m.register("frame_end\($0)", width: endLayout.width, reset: nil) }
            let frameIds = ids.map { ids in (0..<2).map { m.register("frame_id\($0)", width: ids.bits, reset: 0) } }
            for q in 0..<2 {
                m.when(chunkValid && chunkLast && writeReady && (chunks.writeParity == q)) {
                    for lane in 0..<lanes { frameStates[q][lane].assign(finalStates[lane]) }
                    frameEnd[q].assign(endChunk)
                    if let frameIds, let chunkId { frameIds[q].assign(chunkId) }
                }
            }

            // 4. Write: the state, the chunks in value order, EOF's chunk with `last`. K lanes:
            // each lane's state just before its first entry (entries 0 .. K-1), as a chunk that
            // keeps the lane.
            let wroteState = m.register("wrote_state", width: 1, reset: 0)
            let endPending = m.register("end_pending", width: 1, reset: 0)
            let pendingEnd = m.register("pending_end", width: endLayout.width, reset: nil)
            let offerFirstState = m.wire("offer_state", !endPending && chunks.readValid && chunks.readFirst && !wroteState)
            let q = chunks.readParity
            // A set: the frame's id, its state as its member's r bits (left-aligned in R).
            let writeId = frameIds.map { mux(q, $0[1], $0[0]) }
            let writeSelects = ids.map { $0.selects(m, writeId ?? q, prefix: "write_codebook_is") } ?? []
            let frameState = mux(q, frameStates[1][0], frameStates[0][0])
            // (A loadable encoder: the frame's slot's tableLog.)
            let writeLog = loader.map { m.wire("write_table_log", SetIds.pick(m, $0.logs, by: writeSelects, width: 5)) }
            let stateItem = writeLog.map { m.wire("write_state", (frameState << (m.constant(UInt64(r), width: 5) - $0)).truncated(to: r)) }
                ?? (isSet ? m.wire("write_state", SetIds.pick(m, logs.map { frameState << (r - $0) }, by: writeSelects, width: r)) : frameState)
            let stateBits = writeLog.map { m.wire("write_state_bits", $0.zeroExtended(to: 7)) }
                ?? (isSet ? m.wire("write_state_bits", SetIds.pick(m, constants: logs.map(UInt64.init), by: writeSelects, width: 7))
                    : m.constant(UInt64(r), width: 7))
            let endItem = mux(q, frameEnd[1], frameEnd[0])
            // Lanes 1 .. K-1: their states, taken from the frame's as its first state goes out,
            // and whether a state is due next (after each of the frame's first K - 1 entries).
            let laterStates = (1..<lanes).map { m.register("write_state\($0)", width: r, reset: nil) }
            let stateDue = lanes == 1 ? nil : m.register("state_due", width: 1, reset: 0)
            let statesLeft = lanes == 1 ? nil : m.register("states_left", width: bitsToAddress(lanes), reset: 0)
            let offerState = stateDue.map { offerFirstState || $0 } ?? offerFirstState
            let offeredState = stateDue.map { mux($0, laterStates[0], stateItem) } ?? stateItem
            let chunkItem = chunks.readData
            func left(_ s: Signal) -> Signal { WordPacker.leftAligned(s, in: m) }
            let itemValid = (stateDue.map { $0 || endPending } ?? endPending) || chunks.readValid
            // EOF's chunk goes out once no state is due before it (a lane whose first entry is EOF).
            let endNow = stateDue.map { endPending && !$0 } ?? endPending
            let itemData = mux(endNow, left(endLayout.field("state_bits", of: pendingEnd)),
                               mux(offerState, left(offeredState), left(chunkLayout.field("chunk", of: chunkItem))))
            let itemBits = mux(endNow, endLayout.field("count", of: pendingEnd).zeroExtended(to: 7),
                               mux(offerState, stateBits, chunkLayout.field("length", of: chunkItem).zeroExtended(to: 7)))
            // The frame's id goes with all its items: taken as its first state goes out (the chunk
            // buffer's parity moves on to the next frame once the last chunk is read, before EOF).
            let frameWriteId = writeId.map { m.register("write_id", width: $0.width, reset: 0) }
            let itemId = zip2(writeId, frameWriteId).map { mux(offerFirstState, $0, $1) }
            let offer = WordPacker.Chunk(valid: itemValid, data: itemData, bits: itemBits, last: endNow, user: itemId)
            let accepts: Signal
            if lanes == 1 {
                accepts = WordPacker(m, name: "packer", maxChunk: chunkWidth, chunk: offer, to: ports.words).accepts
            } else {
                accepts = LaneWordPacker(m, name: "packer", lanes: lanes, depth: reorderDepth, maxChunk: chunkWidth, chunk: offer,
                                         stays: offerState, to: ports.words).accepts
            }
            chunkReady.assign(accepts && !endPending && !offerState)
            let valueEndsFrame = stateDue.map { chunks.readLast && !$0 } ?? chunks.readLast
            m.when(accepts && itemValid) {
                m.when(endNow) {
                    endPending.assign(0)
                    wroteState.assign(0)
                }.elseWhen(offerFirstState) {
                    wroteState.assign(1)
                    pendingEnd.assign(endItem)
                    if let frameWriteId, let writeId { frameWriteId.assign(writeId) }
                    for i in 0..<laterStates.count { laterStates[i].assign(mux(q, frameStates[1][i + 1], frameStates[0][i + 1])) }
                    if let statesLeft { statesLeft.assign(UInt64(lanes - 1)) }
                }.elseWhen(valueEndsFrame) {
                    endPending.assign(1)
                }
            }
            if let idle, let inFrame {
                // No frame anywhere: none being taken in, none in the value buffer, the entry
                // stage, the loop's chunk register, the chunk buffer or the write stage.
                idle.assign(!inFrame && values.isEmpty && !entryValid && !chunkValid && chunks.isEmpty && !wroteState && !endPending)
            }
            if let stateDue, let statesLeft {
                // A lane's state goes out after each of the frame's first K - 1 entries (a value's
                // chunk; EOF ends the frame).
                m.when(accepts && itemValid && !endNow) {
                    m.when(stateDue) {
                        for i in 0..<(laterStates.count - 1) { laterStates[i].assign(laterStates[i + 1]) }
                        stateDue.assign(0)
                        statesLeft.assign(statesLeft - 1)
                    }.elseWhen(!offerFirstState) {
                        stateDue.assign(statesLeft != 0)
                    }
                }
            }
        }
    }
}

/// The tANS encoders' tables: per symbol the encode rule of its entry (or ESC's) as a ROM word,
/// EOF's, and the chunks' widths.
struct TANSEncodeTables {
    /// Symbol ROM word: the entry's state offset, threshold c << k, k and whether it is escaped.
    let parameters: WordLayout
    let symbolWords: [UInt64]
    let endWord: UInt64
    /// The literal's bits when some symbol is escaped, else 0.
    let escapeBits: Int
    /// A value's chunk (state bits, literal, raw bits) at its longest, and its length's width.
    let chunkWidth: Int
    let lengthWidth = 6
    /// The chunk buffer's word: the chunk left-aligned, and its length.
    let chunkLayout: WordLayout
    /// EOF's chunk as kept per frame: its state bits left-aligned in R bits, and their count.
    var endLayout: WordLayout { WordLayout([("state_bits", tableLog), ("count", 4)]) }
    /// Per symbol, the fewest bits its value's chunk has (its entry's fewest state bits, raw bits, literal).
    let fewestValueBits: [Int]

    let tableLog: Int
    let symbolBits: Int
    let rawBits: Int

    /// An entry's chunk from X and its nb state bits: `stateBitsLeft` (the low nb bits of X,
    /// left-aligned in R bits), `stateChunk` (those alone, left-aligned in chunkWidth bits: EOF's
    /// chunk), `chunk` (then the literal if `escaped`, and the raw bits) and its `length`. `isEnd`
    /// (nil: never) marks EOF, whose length is its state bits alone.
    func chunk(_ m: ModuleBuilder, x: Signal, nb: Signal, escaped: Signal, symbol: Signal, raw: Signal?, isEnd: Signal?, prefix: String = "")
        -> (stateBitsLeft: Signal, stateChunk: Signal, chunk: Signal, length: Signal) {
        let r = tableLog
        let stateBitsLeft = m.wire(prefix + "state_bits_left", (x.truncated(to: r) << (m.constant(UInt64(r), width: 4) - nb)))
        let stateChunk = m.wire(prefix + "state_chunk", cat(stateBitsLeft, m.constant(0, width: chunkWidth - r + 1))[chunkWidth, 1])
        var chunk = stateChunk
        var extra = raw
        if escapeBits > 0 {
            let literal = mux(escaped, symbol, 0)
            extra = extra.map { mux(escaped, cat(literal, $0), cat($0, m.constant(0, width: symbolBits))) } ?? literal
        }
        if let extra {
            let extraLeft = cat(extra, m.constant(0, width: chunkWidth - extra.width + 1))[chunkWidth, 1]
            chunk = chunk | (extraLeft >> nb)
        }
        let plain = m.constant(UInt64(rawBits), width: lengthWidth)
        let others = mux(escaped, m.constant(UInt64(escapeBits + rawBits), width: lengthWidth),
                         isEnd.map { mux($0, m.constant(0, width: lengthWidth), plain) } ?? plain)
        return (stateBitsLeft, stateChunk, chunk, nb.zeroExtended(to: lengthWidth) + others)
    }

    /// `stateWidth` (a set's widest member's R) widens the offset and threshold fields and the
    /// state bits of a chunk; `chunkWidth` (a set's widest) widens the chunk.
    init(tables: TANSTables, layout: ValueLayout, stateWidth: Int? = nil, chunkWidth wideChunk: Int? = nil) throws {
        let size = 1 << tables.tableLog, counts = tables.counts
        let r = stateWidth ?? tables.tableLog
        let (n, escape, endOfFrame) = (layout.symbolCount, layout.symbolCount, layout.symbolCount + 1)
        let parameters = WordLayout([("offset", r), ("threshold", r + 1), ("k", 4), ("escaped", 1)])
        func word(_ p: TANSTables.EncodeStep, escaped: Bool) throws -> UInt64 {
            try parameters.pack([
                "offset": UInt64(p.stateOffset & (size - 1)), "threshold": UInt64(p.threshold), "k": UInt64(p.k), "escaped": escaped ? 1 : 0,
            ])
        }
        symbolWords = try (0..<n).map { s in
            counts[s] > 0 ? try word(tables.encodeStep(for: s), escaped: false) : try word(tables.encodeStep(for: escape), escaped: true)
        }
        endWord = try word(tables.encodeStep(for: endOfFrame), escaped: false)
        self.parameters = parameters
        (tableLog, symbolBits, rawBits) = (r, layout.symbolBits, layout.rawBits)
        let maxNb = (0..<size).map { Int(tables.bitCount[$0]) }.max() ?? r
        escapeBits = counts.prefix(n).contains(0) ? layout.symbolBits : 0
        chunkWidth = max(wideChunk ?? 0, r, maxNb + escapeBits + layout.rawBits)
        chunkLayout = WordLayout([("chunk", chunkWidth), ("length", lengthWidth)])
        var fewestStateBits = [Int](repeating: r, count: n + 2)  // per entry, over its states
        for u in 0..<size { fewestStateBits[Int(tables.symbol[u])] = min(fewestStateBits[Int(tables.symbol[u])], Int(tables.bitCount[u])) }
        fewestValueBits = (0..<n).map { s in
            counts[s] > 0 ? fewestStateBits[s] + layout.rawBits : fewestStateBits[escape] + layout.rawBits + layout.symbolBits
        }
    }
}
