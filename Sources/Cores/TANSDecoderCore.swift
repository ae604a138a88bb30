import Codec
import HDL
import HDLBlocks

/// The tANS decoder: 32-bit stream words in, values out, one value per cycle while the stream's
/// bits are buffered and the output can take it (FORMAT.md sections 7 and 8).
///
/// **The state loop.** The decode table is a block RAM read synchronously, and its read address
/// register is the decoder state: in the cycle after a step the RAM shows the new state's entry.
/// The loop is RAM output -> the top `nb` bits of the bit window (a right shift by R - nb, stored
/// in the table) -> OR with `base` (whose low `nb` bits are zero, so no adder) -> RAM address.
///
/// **The bits.** Stream words wait in a short queue of word slots (an input skid buffer in
/// front); a bit pointer `p` gives the position of the next bit in slot 0, and the window is the
/// slots shifted left by `p`. A step consumes the entry's bits (state bits, ESC literal, raw bits:
/// a count stored in the table) by moving `p`; a word is dropped from the queue when `p` passes
/// 32 (one per cycle, so a pointer past 63 waits a cycle). A step never waits for the table: it
/// goes when the window holds the codebook's longest entry, or, near the end of a stream, when a
/// registered check shows the current entry fits.
///
/// **Frames.** A frame starts word-aligned: R bits give the first state (the table's read address
/// comes from the window instead of the loop). At EOF the new state must be 0, else `error`; the
/// padding is the rest of the current word. The last value of a frame is held back one entry and
/// leaves with `tlast` when EOF is decoded.
///
/// **Errors.** `error` is sticky until reset: a frame that does not end in state 0. No frame can
/// run forever (an entry that reads no bits leads to a smaller state, docs/FORMAT.md). After an
/// error, words are taken and dropped so the input never hangs.
///
/// With `framing.takesLast` (an engine of a decoder with frame engines), each word's `tlast`
/// travels with it through the queue and a step that breaks section 12's frame end raises
/// `error`; with `marksEmptyFrames` an empty frame leaves a beat with `tkeep` 0.
public enum TANSDecoderCore {
    public static func module(codebook: Codebook, framing: DecoderFraming = .plain) throws -> Module {
        try module(name: "\(codebook.name)_decoder", codebooks: [codebook], ids: nil, framing: framing)
    }

    /// The decoder for a set of tANS codebooks (FORMAT.md section 13): section 12's input with
    /// each frame's codebook id on `s_axis_tuser`, the id on `m_axis_tuser` with every value. One
    /// state loop serves every member: the decode tables are one block RAM addressed by
    /// `{id, state}` (each member's 2^R states of the widest member's R, its entries' shifts
    /// counted from R), so the loop is the one-codebook loop with the frame's id above the state.
    /// A frame's first state is read from the first word's id (its member's tableLog bits), and
    /// the id is kept for the frame. An id that names no codebook raises `error` at its frame.
    public static func module(set: CodebookSet, framing: DecoderFraming = .lastWords) throws -> Module {
        try module(name: "\(set.name)_decoder", codebooks: set.members, ids: try SetIds(set), framing: framing)
    }

    /// A loadable decoder (`--loadable`): its decode tables are a RAM of `capacity.slots` slots of
    /// 2^tableLog states, loaded at run time through `s_table` (`TableImage`, `TableLoader`); a
    /// frame's `s_axis_tuser` names its slot; a slot not loaded (or whose load broke) raises
    /// `error` at its frame. The RAM starts empty: load a slot before its frames.
    public static func module(loadable capacity: LoadableCapacity, name: String, framing: DecoderFraming = .lastWords) throws -> Module {
        guard (1...TableImage.maxTableLog).contains(capacity.tableLog), (1...256).contains(capacity.slots), capacity.layout.symbolBits <= 12 else {
            throw CoreError.unsupported("a loadable core holds 1 to 256 slots of tableLog 1 to \(TableImage.maxTableLog), symbolBits up to 12")
        }
        return try module(name: "\(name)_decoder", codebooks: [], ids: SetIds(count: capacity.slots), framing: framing, loadable: capacity)
    }

    static func module(name: String, codebooks: [Codebook], ids: SetIds?, framing: DecoderFraming, loadable: LoadableCapacity? = nil) throws -> Module {
        let (logs, countsList) = try SetIds.tansCoders(codebooks)
        let single = codebooks.count == 1 && ids == nil
        // The value layouts: each member's, or a loadable core's one.
        let layouts = loadable.map { [$0.layout] } ?? codebooks.map(\.layout)
        let layout = layouts[0]
        // One table for all: each member's 2^R states (R the widest member's), symbols as wide as the widest.
        let r = loadable?.tableLog ?? logs.max() ?? 1, size = 1 << r
        let symbolWidth = layouts.map(\.symbolBits).max() ?? layout.symbolBits
        let tables = try codebooks.indices.map { j in
            try TANSDecodeTable(tableLog: logs[j], counts: countsList[j], layout: codebooks[j].layout,
                                stateWidth: single ? nil : r, symbolWidth: single ? nil : symbolWidth)
        }
        let tableLayout = tables.first?.layout ?? TANSDecodeTable.layout(stateWidth: r, symbolWidth: symbolWidth)
        let contents = single ? tables[0].contents
            : tables.flatMap { $0.contents + [UInt64](repeating: 0, count: size - $0.contents.count) }
        // A loadable core takes any table of its capacity: the longest entry reads R state bits and an ESC literal.
        let longestEntry = loadable.map { $0.tableLog + $0.layout.valueBits } ?? tables.map(\.longestEntry).max() ?? 0
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let valueBits = layout.valueBits
        // The window must hold the longest entry (and the R bits of a first state) from any
        // pointer position 0-31; one more slot lets a word arrive while the window is full.
        let windowBits = max(longestEntry, r, valueBits)
        func prefix(_ j: Int) -> String { layouts.count == 1 ? "" : "m\(j)_" }

        return try Module(name) { m in
            if let loadable, let ids {
                TableLoader.describe(m, title: "Loadable tANS decoder '\(name.dropLast("_decoder".count))': \(loadable.slots) slot(s) of decode tables up to tableLog \(r) for \(layout.transform.rawValue) values (symbolBits \(layout.symbolBits), rawBits \(layout.rawBits))",
                                     ports: "32-bit stream words in (s_axis, tlast on a frame's last word, tuser the slot of the frame's table, \(ids.bits) bit(s)), values out (m_axis, tlast on a frame's last value, tuser the slot).",
                                     throughput: "one value per cycle while state and raw bits average at most 32 bits per value", table: ("decode_table", tableLayout))
            } else if let ids {
                m.comment("tANS decoder for codebook set '\(name.dropLast("_decoder".count))': \(ids.count) codebook(s), \(valueBits)-bit values, tableLog up to \(r); the id of each frame's codebook on s_axis_tuser (\(ids.bits) bit(s)).")
                m.comment("32-bit stream words in (s_axis, first bit at bit 31, tlast on a frame's last word), values out (m_axis, tlast on a frame's last value, tuser its codebook's id); error is sticky until reset.")
                m.comment("The decode tables are one block RAM of \(contents.count) states whose registered read address is {id, state}. An id that names no codebook, a frame that does not end in state 0, or one whose EOF does not end in its tlast word, raises error.")
                SetIds.describe(m, codebooks, details: logs.map { "tableLog \($0)" })
                m.comment("hwgen \(HWGenRelease.version). Throughput: one value per cycle while state and raw bits average at most 32 bits per value, across frames of different codebooks.")
                m.comment("Word of decode_table (\(tableLayout.width) bits): \(tableLayout).")
            } else if let codebook = codebooks.first {
                m.comment("tANS decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(r).")
                m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
                m.comment("The \(size)-state decode table is a block RAM whose registered read address is the decoder state.")
                CoreHeader.describe(m, codebook: codebook, timing: [
                    "Throughput: one value per cycle while state and raw bits average at most 32 bits per value; measured 1.0 on the bundled sample (make sim).",
                    "Latency: 8 cycles from the first word taken to the first value offered, measured on the bundled sample (hwgen sim measures yours).",
                ], tables: [("decode_table", tableLayout)])
            }
            let ports = DecoderPorts(m, valueBits: valueBits, framing: framing, userBits: ids?.bits)
            let tablePort = loadable.map { _ in m.sinkPort("s_table", StreamShape(dataWidth: 32, hasLast: true)) }

            let failed = m.register("failed", width: 1, reset: 0)
            // The table's read data shows the current state's entry.
            let started = m.register("started", width: 1, reset: 0)
            var loader: TableLoader? = nil
            if let loadable, let tablePort, let ids {
                loader = TableLoader(m, port: tablePort, capacity: loadable, ids: ids, entries: .tans(tableLayout: tableLayout), idle: !started)
            }
            if let loader { m.when(loader.fail) { failed.assign(1) } }
            let output = HeldValueOutput(m, name: "out", valueBits: valueBits, heldWidth: ids.map { valueBits + $0.bits }, to: ports.values)

            // The bits: a skid stage (registered s_axis_tready) in front of the word slots;
            // after an error, words are taken and dropped.
            let bits = BitQueue(m, name: "bits", width: windowBits, data: ports.words.data, valid: ports.words.valid, store: !failed,
                                last: ports.words.last, tag: ports.words.user, feed: .throughSkid)
            ports.words.ready.assign(failed || bits.ready)
            let window = bits.window
            let offset = bits.offset
            // A set: the frame's id, read from its first word as the frame starts.
            let frameId = ids.map { m.register("frame_id", width: $0.bits, reset: 0) }
            let startSelects = ids.map { $0.selects(m, bits.tag(slot: 0), prefix: "first_word_is") } ?? [m.constant(1, width: 1)]
            let frameSelects = ids.map { $0.selects(m, frameId ?? bits.tag(slot: 0), prefix: "codebook_is") } ?? [m.constant(1, width: 1)]
            let unnamed = ids.flatMap { ids in ids.allNamed ? nil : m.wire("id_names_none", ids.namesNone(m, bits.tag(slot: 0))) }

            // The table: address is the next state, data the current state's entry.
            let tableRead = m.wire("table_read", width: 1)
            let nextState = m.wire("next_state", width: r)
            // A set's table address takes the first word's id as a frame starts (declared here).
            let setStart = frameId.map { _ in m.wire("start", width: 1) }
            let address = zip2(ids, frameId).map { ids, id in ids.address(mux(setStart ?? id, bits.tag(slot: 0), id), nextState) } ?? nextState
            let entry = loader.map { loader in
                m.ram("decode_table", width: tableLayout.width, depth: 1 << address.width, writeEnable: loader.write, writeAddress: loader.writeAddress,
                      writeData: loader.writeData, readAddress: address, readEnable: tableRead)
            } ?? m.rom("decode_table", width: tableLayout.width, contents: contents, style: .blockMemory,
                       address: address, readEnable: tableRead, synchronous: true)
            let rightShift = tableLayout.field("shift", of: entry)
            let base = tableLayout.field("base", of: entry)
            let entryBits = tableLayout.field("consumed", of: entry)
            let entryKind = tableLayout.field("kind", of: entry)
            let isEscape = m.wire("is_escape", entryKind == Int(TANSDecodeTable.Kind.escape.rawValue))
            let isEnd = m.wire("is_end", entryKind == Int(TANSDecodeTable.Kind.end.rawValue))

            // The state bits: the top nb bits of the window, right-aligned (R - nb is stored).
            let windowTop = window[windowBits - 1, windowBits - r]
            let stateBits = m.wire("state_bits", windowTop >> rightShift)
            // A frame's first state: its member's tableLog bits (a loadable core: its slot's, as loaded).
            let slotLog = loader.map { m.wire("first_state_bits", SetIds.pick(m, $0.logs, by: startSelects, width: 4)) }
            let firstState = slotLog.map { m.wire("first_state", windowTop >> (m.constant(UInt64(r), width: 4) - $0)) }
                ?? (Set(logs).count == 1 ? windowTop : m.wire("first_state", SetIds.pick(m, logs.map { windowTop >> (r - $0) }, by: startSelects, width: r)))
            nextState.assign(mux(started, base | stateBits, firstState))

            // The value: symbol (or ESC's literal) and raw bits behind the state bits.
            let nb = m.wire("nb", m.constant(UInt64(r), width: 4) - rightShift)
            let payload = m.wire("payload", Funnel.top(valueBits, of: window, shiftedLeftBy: nb, name: "after_state", in: m))
            let memberValues = layouts.enumerated().map { j, memberLayout in
                let (sb, rb) = (memberLayout.symbolBits, memberLayout.rawBits)
                let tableSymbol = tableLayout.field("symbol", of: entry)
                let symbol = m.wire(prefix(j) + "symbol", mux(isEscape, payload[valueBits - 1, rb], sb == tableSymbol.width ? tableSymbol : tableSymbol.bits(sb - 1, 0)))
                var raw: Signal? = nil
                if rb > 0 { raw = m.wire(prefix(j) + "raw_bits", mux(isEscape, payload[rb - 1, 0], payload[valueBits - 1, sb])) }
                return ValueFields.value(symbol: symbol, raw: raw, layout: memberLayout)
            }
            let decoded = m.wire("decoded", SetIds.pick(m, memberValues, by: frameSelects, width: valueBits))

            // When to step. Fast: the window holds the longest entry. Slow (the end of a
            // stream): the current entry's bits were available last cycle and nothing moved since.
            let quiet = m.register("quiet", width: 1, reset: 0)
            let fits = m.register("fits", width: 1, reset: 0)
            let inWindow = bits.readable && !failed
            let step = m.wire("step", started && inWindow && (bits.available(atLeast: longestEntry) || (quiet && fits)) && output.accepts)
            // (A loadable core: no frame starts while a table goes in; a frame of an empty slot is an error.)
            let atFrameStart = loader.map { !started && inWindow && (offset == 0) && bits.hasWord && !$0.busy } ?? (!started && inWindow && (offset == 0) && bits.hasWord)
            let emptySlot = loader.map { m.wire("slot_empty", !SetIds.pick(m, $0.valid, by: startSelects, width: 1)) }
            let refused = [unnamed, emptySlot].compactMap { $0 }
            let badFrame = refused.isEmpty ? nil : refused.dropFirst().reduce(refused[0]) { $0 || $1 }
            let start: Signal
            if let setStart {
                setStart.assign(badFrame.map { atFrameStart && !$0 } ?? atFrameStart)
                start = setStart
            } else {
                start = m.wire("start", atFrameStart)
            }
            if let badFrame { m.when(atFrameStart && badFrame) { failed.assign(1) } }
            // A consumed word leaves: past the pointer, or the rest of a word after EOF (padding).
            let skipPadding = m.wire("skip_padding", !started && inWindow && (offset != 0))
            let (sum, drop) = Set(logs).count == 1 && slotLog == nil
                ? bits.consume(m, advance: entryBits, when: step, align: skipPadding, restart: (bits: r, when: start))
                : bits.consume(m, advance: entryBits, when: step, align: skipPadding,
                               restartAt: slotLog.map { $0.zeroExtended(to: 6) }
                                   ?? m.wire("first_state_bits", SetIds.pick(m, constants: logs.map(UInt64.init), by: startSelects, width: 6)), when: start)
            tableRead.assign(step || start)
            // An entry that reads no bits always fits, even at a word boundary with no word left
            // (a frame's last bits ending a word, then an EOF state with nb = 0).
            fits.assign(started && ((entryBits == 0) || bits.holds(bitsTo: sum)))
            quiet.assign(!(step || start || drop))

            m.when(start) {
                started.assign(1)
                if let frameId { frameId.assign(bits.tag(slot: 0)) }
            }
            m.when(step && isEnd) {
                started.assign(0)
                m.when(nextState != 0) { failed.assign(1) }
            }
            if framing.takesLast {
                m.when(bits.frameError(m, step: step, isEnd: isEnd, sum: sum, nextReadsBits: started && (entryBits != 0))) { failed.assign(1) }
            }

            if let frameId {
                output.update(m, step: step, isEnd: isEnd, entry: cat(frameId, decoded), value: output.held.bits(valueBits - 1, 0),
                              user: output.held.bits(valueBits + frameId.width - 1, valueBits))
            } else {
                output.update(m, step: step, isEnd: isEnd, entry: decoded, value: output.held)
            }
            ports.error.assign(failed)
        }
    }
}
