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
        guard case .tans(let tableLog, let counts) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "tans", found: codebook.coder.name)
        }
        let layout = codebook.layout
        let table = try TANSDecodeTable(tableLog: tableLog, counts: counts, layout: layout)
        let (tableLayout, contents, longestEntry) = (table.layout, table.contents, table.longestEntry)
        let r = tableLog, size = 1 << tableLog
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        // The window must hold the longest entry (and the R bits of a first state) from any
        // pointer position 0-31; one more slot lets a word arrive while the window is full.
        let windowBits = max(longestEntry, r, symbolBits + rawBits)

        return try Module("\(codebook.name)_decoder") { m in
            m.comment("tANS decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(symbolBits), rawBits \(rawBits), tableLog \(r).")
            m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
            m.comment("The \(size)-state decode table is a block RAM whose registered read address is the decoder state.")
            CoreHeader.describe(m, codebook: codebook, timing: [
                "Throughput: one value per cycle while state and raw bits average at most 32 bits per value; measured 1.0 on the bundled sample (make sim).",
                "Latency: 8 cycles from the first word taken to the first value offered, measured on the bundled sample (hwgen sim measures yours).",
            ], tables: [("decode_table", tableLayout)])
            let ports = DecoderPorts(m, valueBits: layout.valueBits, framing: framing)

            let failed = m.register("failed", width: 1, reset: 0)
            // The table's read data shows the current state's entry.
            let started = m.register("started", width: 1, reset: 0)
            let output = HeldValueOutput(m, name: "out", valueBits: layout.valueBits, to: ports.values)

            // The bits: a skid stage (registered s_axis_tready) in front of the word slots;
            // after an error, words are taken and dropped.
            let bits = BitQueue(m, name: "bits", width: windowBits, data: ports.words.data, valid: ports.words.valid, store: !failed,
                                last: ports.words.last, feed: .throughSkid)
            ports.words.ready.assign(failed || bits.ready)
            let window = bits.window
            let offset = bits.offset

            // The table: address is the next state, data the current state's entry.
            let tableRead = m.wire("table_read", width: 1)
            let nextState = m.wire("next_state", width: r)
            let entry = m.rom("decode_table", width: tableLayout.width, contents: contents, style: .blockMemory,
                              address: nextState, readEnable: tableRead, synchronous: true)
            let rightShift = tableLayout.field("shift", of: entry)
            let base = tableLayout.field("base", of: entry)
            let entryBits = tableLayout.field("consumed", of: entry)
            let entryKind = tableLayout.field("kind", of: entry)
            let isEscape = m.wire("is_escape", entryKind == Int(TANSDecodeTable.Kind.escape.rawValue))
            let isEnd = m.wire("is_end", entryKind == Int(TANSDecodeTable.Kind.end.rawValue))

            // The state bits: the top nb bits of the window, right-aligned (R - nb is stored).
            let windowTop = window[windowBits - 1, windowBits - r]
            let stateBits = m.wire("state_bits", windowTop >> rightShift)
            nextState.assign(mux(started, base | stateBits, windowTop))

            // The value: symbol (or ESC's literal) and raw bits behind the state bits.
            let nb = m.wire("nb", m.constant(UInt64(r), width: 4) - rightShift)
            let payloadBits = symbolBits + rawBits
            let payload = m.wire("payload", Funnel.top(payloadBits, of: window, shiftedLeftBy: nb, name: "after_state", in: m))
            let symbol = m.wire("symbol", mux(isEscape, payload[payloadBits - 1, rawBits], tableLayout.field("symbol", of: entry)))
            var raw: Signal? = nil
            if rawBits > 0 {
                raw = m.wire("raw_bits", mux(isEscape, payload[rawBits - 1, 0], payload[payloadBits - 1, symbolBits]))
            }
            let decoded = m.wire("decoded", ValueFields.value(symbol: symbol, raw: raw, layout: layout))

            // When to step. Fast: the window holds the longest entry. Slow (the end of a
            // stream): the current entry's bits were available last cycle and nothing moved since.
            let quiet = m.register("quiet", width: 1, reset: 0)
            let fits = m.register("fits", width: 1, reset: 0)
            let inWindow = bits.readable && !failed
            let step = m.wire("step", started && inWindow && (bits.available(atLeast: longestEntry) || (quiet && fits)) && output.accepts)
            let start = m.wire("start", !started && inWindow && (offset == 0) && bits.hasWord)
            // A consumed word leaves: past the pointer, or the rest of a word after EOF (padding).
            let skipPadding = m.wire("skip_padding", !started && inWindow && (offset != 0))
            let (sum, drop) = bits.consume(m, advance: entryBits, when: step, align: skipPadding, restart: (bits: r, when: start))
            tableRead.assign(step || start)
            // An entry that reads no bits always fits, even at a word boundary with no word left
            // (a frame's last bits ending a word, then an EOF state with nb = 0).
            fits.assign(started && ((entryBits == 0) || bits.holds(bitsTo: sum)))
            quiet.assign(!(step || start || drop))

            m.when(start) { started.assign(1) }
            m.when(step && isEnd) {
                started.assign(0)
                m.when(nextState != 0) { failed.assign(1) }
            }
            if framing.takesLast {
                m.when(bits.frameError(m, step: step, isEnd: isEnd, sum: sum, nextReadsBits: started && (entryBits != 0))) { failed.assign(1) }
            }

            output.update(m, step: step, isEnd: isEnd, entry: decoded, value: output.held)
            ports.error.assign(failed)
        }
    }
}
