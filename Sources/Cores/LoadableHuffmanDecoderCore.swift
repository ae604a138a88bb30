import Codec
import HDL
import HDLBlocks

/// The loadable Huffman decoder (`--loadable` on a Huffman set or codebook): a slot per member,
/// each holding any canonical code of the core's value layout with codes up to the capacity's
/// longest, loaded at run time through `s_table` from a decode image (`TableImage`, coder 3).
///
/// **Tables.** A slot's table is its per-length limits and rank offsets and ESC's and EOF's
/// codes (a parameter RAM at `{slot, row}`, the image's words as they come) and its symbols by
/// canonical rank (a symbol RAM at `{slot, rank}`). When a word of another slot than the active
/// one reaches the window, between frames, its rows are copied into the active registers (a
/// row per cycle, about the longest code plus four cycles); frames of the same slot follow each
/// other at full rate.
///
/// **The loop.** As the ROM decoder's, with registers where it has constants: per code length l
/// the window's top l bits are compared with that length's limit; the limits rise like a
/// thermometer (the loader checks it), so the code's length is the first l whose comparison
/// holds, and ESC and EOF are masked comparisons with their codes. The bits consumed are the
/// length plus the raw bits (ESC: plus the literal; EOF: on to the word boundary), one of
/// `3 x longest` constant choices of the bit queue. The symbol RAM is read on the step at the
/// code's rank (its bits plus the length's offset); its data is the held entry's symbol.
///
/// A word of a slot that names none or holds no whole table, a bit pattern that starts no code,
/// a frame whose EOF does not end at its `tlast` word, or an image that does not fit raises
/// `error` (sticky until reset).
public enum LoadableHuffmanDecoderCore {
    /// The decoder for `capacity` (Huffman, 1-256 slots, codes of 1-16 bits, symbolBits up to 12).
    public static func module(capacity: LoadableCapacity, name: String) throws -> Module {
        let layout = capacity.layout
        guard capacity.huffman, (1...256).contains(capacity.slots), (1...16).contains(capacity.tableLog), layout.symbolBits <= 12 else {
            throw CoreError.unsupported("a loadable Huffman decoder holds 1 to 256 slots of codes of 1 to 16 bits, symbolBits up to 12")
        }
        let (symbolBits, rawBits, valueBits) = (layout.symbolBits, layout.rawBits, layout.valueBits)
        let longestCode = capacity.tableLog
        let ids = SetIds(count: capacity.slots)
        let rankBits = bitsToAddress(layout.symbolCount + 2)
        let rows = TableLoader.parameterRows(capacity), rowBits = bitsToAddress(rows)
        // The window holds the longest entry: ESC's code, the literal and the raw bits.
        let width = longestCode + symbolBits + rawBits
        let lengthWidth = bitsToAddress(longestCode + 1)
        let heldLayout = WordLayout([("window", width), ("length", lengthWidth), ("escape", 1), ("id", ids.bits)])
        let lengths = Array(1...longestCode)

        return try Module("\(name)_decoder") { m in
            TableLoader.describe(m, title: "Loadable Huffman decoder '\(name)': \(capacity.slots) slot(s) of canonical codes up to \(longestCode) bits for \(layout.transform.rawValue) values (symbolBits \(symbolBits), rawBits \(rawBits))",
                                 ports: "32-bit stream words in (s_axis, first bit at bit 31, tlast on a frame's last word, tuser the slot of the frame's table, \(ids.bits) bit(s)), values out (m_axis, tlast on a frame's last value, tuser the slot).",
                                 throughput: "one value per cycle while codes and raw bits average at most 32 bits per value; a frame of another slot than the last waits \(rows + 2) cycles while its table is copied into the active registers",
                                 table: ("out_held_entry", heldLayout))
            let ports = DecoderPorts(m, valueBits: valueBits, framing: .lastWords, userBits: ids.bits)
            let tablePort = m.sinkPort("s_table", StreamShape(dataWidth: 32, hasLast: true))
            let failed = m.register("failed", width: 1, reset: 0)
            // A frame is in flight from its first entry to its EOF: loads wait for it.
            let inFrame = m.register("in_frame", width: 1, reset: 0)
            let loader = TableLoader(m, port: tablePort, capacity: capacity, ids: ids, entries: .huffmanDecode(rankBits: rankBits), idle: !inFrame)
            m.when(loader.fail) { failed.assign(1) }
            let bits = BitQueue(m, name: "bits", width: width, data: ports.words.data, valid: ports.words.valid, store: !failed,
                                last: ports.words.last, tag: ports.words.user)
            ports.words.ready.assign(failed || bits.ready)
            let output = HeldValueOutput(m, name: "out", valueBits: valueBits, heldWidth: heldLayout.width, to: ports.values)
            let wordSlot = bits.tag(slot: 0)

            // The active slot's table, copied from the parameter RAM a row per cycle.
            let activeSlot = m.register("active_slot", width: ids.bits, reset: 0)
            let activeReady = m.register("active_ready", width: 1, reset: 0)
            let activeLongest = m.register("active_longest", width: 5, reset: 0)
            let copying = m.register("copying", width: 1, reset: 0)
            let copyRow = m.register("copy_row", width: rowBits, reset: 0)
            let copied = m.register("copied", width: 1, reset: 0)
            let copiedRow = m.register("copied_row", width: rowBits, reset: 0)
            // (The loader of a decode image always writes parameters.)
            let parameterWrite = loader.parameterWrite ?? m.constant(0, width: 1)
            let parameterAddress = loader.parameterAddress ?? ids.address(activeSlot, copyRow)
            let parameterData = loader.parameterData ?? m.constant(0, width: 32)
            let row = m.ram("parameters", width: 32, depth: 1 << ids.address(activeSlot, copyRow).width, writeEnable: parameterWrite,
                            writeAddress: parameterAddress, writeData: parameterData, readAddress: ids.address(activeSlot, copyRow), readEnable: copying)
            let limits = lengths.map { l in m.register("limit\(l)", width: l + 1, reset: 0) }
            let offsets = lengths.map { l in m.register("offset\(l)", width: rankBits, reset: 0) }
            let escapeCode = m.register("escape_code", width: longestCode, reset: 0)
            let escapeMask = m.register("escape_mask", width: longestCode, reset: 0)
            let endCode = m.register("end_code", width: longestCode, reset: 0)
            let endMask = m.register("end_mask", width: longestCode, reset: 0)

            // A word of another slot at the window, between frames: its table is copied in (a
            // slot that names none or holds no whole table raises error).
            let wordSelects = ids.selects(m, wordSlot, prefix: "word_slot_is")
            let slotEmpty = m.wire("slot_empty", ids.namesNone(m, wordSlot) || !SetIds.pick(m, loader.valid, by: wordSelects, width: 1))
            let needsCopy = m.wire("needs_copy", bits.hasWord && !failed && !inFrame && !copying && !copied && !loader.busy
                                   && !(activeReady && (activeSlot == wordSlot)))
            m.when(needsCopy) {
                m.when(slotEmpty) {
                    failed.assign(1)
                }.otherwise {
                    copying.assign(1)
                    copyRow.assign(0)
                    activeSlot.assign(wordSlot)
                    activeReady.assign(0)
                    activeLongest.assign(SetIds.pick(m, loader.logs, by: wordSelects, width: 5))
                }
            }
            m.when(copying) {
                copyRow.assign(copyRow + 1)
                m.when(copyRow == rows - 1) { copying.assign(0) }
            }
            copied.assign(copying)
            copiedRow.assign(copyRow)
            // The row's data: a length's limit and offset (past the slot's longest code, the
            // limit doubles, keeping the thermometer), or ESC's or EOF's code and its mask.
            let rowLimit = row[31, 15], rowOffset = row[rankBits - 1, 0]
            let rowLength = m.wire("row_code_length", row[20, 16])
            let rowCode = m.wire("row_code", row[15, 16 - longestCode])
            let rowMask = m.wire("row_mask", m.cat(lengths.map { i in rowLength >= i }))
            for (i, l) in lengths.enumerated() {
                m.when(copied && (copiedRow == i)) {
                    limits[i].assign(mux(activeLongest >= l, rowLimit.truncated(to: l + 1),
                                         i == 0 ? m.constant(2, width: 2) : cat(limits[i - 1], m.constant(0, width: 1))))
                    offsets[i].assign(rowOffset)
                }
            }
            m.when(copied && (copiedRow == longestCode)) {
                escapeCode.assign(rowCode)
                escapeMask.assign(rowMask)
            }
            m.when(copied && (copiedRow == longestCode + 1)) {
                endCode.assign(rowCode)
                endMask.assign(rowMask)
                activeReady.assign(1)
            }
            // A table written anew is copied again.
            m.when(loader.write || parameterWrite) {
                activeReady.assign(0)
                copying.assign(0)
                copied.assign(0)
            }

            // The code's length: the first l whose limit the window's top l bits are below.
            let top = m.wire("code_bits", bits.window[width - 1, width - longestCode])
            let below = lengths.map { l in m.wire("below_limit\(l)", top[longestCode - 1, longestCode - l].zeroExtended(to: l + 1) < limits[l - 1]) }
            let isLength = lengths.map { l in m.wire("length_is\(l)", l == 1 ? below[0] : below[l - 1] && !below[l - 2]) }
            let anyCode = below[longestCode - 1]
            let isEnd = m.wire("is_end", ((top ^ endCode) & endMask) == 0)
            let isEscape = m.wire("is_escape", (((top ^ escapeCode) & escapeMask) == 0) && !isEnd)
            let codeLength = m.wire("code_length", zip(lengths, isLength).reduce(m.constant(0, width: lengthWidth)) { acc, e in
                acc | mux(e.1, m.constant(UInt64(e.0), width: lengthWidth), 0)
            })

            // Whether the entry's bits are buffered, as in the ROM decoder: the window holds the
            // longest entry, or (the end of a stream) last cycle's advance was buffered.
            let quiet = m.register("quiet", width: 1, reset: 0)
            let buffered = m.wire("entry_buffered", bits.available(atLeast: width) || (quiet && bits.previousAdvanceBuffered))
            let tableReady = m.wire("table_ready", activeReady && (activeSlot == wordSlot) && (inFrame || !loader.busy))
            let step = m.wire("step", bits.readable && tableReady && anyCode && buffered && !failed && output.accepts)
            quiet.assign(bits.readable && !step && anyCode)
            m.when(bits.readable && tableReady && !anyCode && bits.available(atLeast: longestCode)) { failed.assign(1) }
            m.when(step) { inFrame.assign(!isEnd) }
            let choices = lengths.flatMap { l in
                [(when: isLength[l - 1] && !isEscape && !isEnd, bits: l + rawBits), (when: isLength[l - 1] && isEscape, bits: l + symbolBits + rawBits)]
            }
            let ends = lengths.map { l in (when: isLength[l - 1] && isEnd, bits: l) }
            let sum = bits.consume(m, choices: choices, ends: ends, when: step)
            m.when(bits.frameError(m, step: step, isEnd: isEnd, sum: sum, nextReadsBits: m.constant(1, width: 1))) { failed.assign(1) }

            // The symbol RAM, read on the step at the code's rank: its data is the held entry's.
            let codeValue = zip(lengths, isLength).reduce(m.constant(0, width: rankBits)) { acc, e in
                acc | mux(e.1, top[longestCode - 1, longestCode - e.0].resized(to: rankBits), 0)
            }
            let offset = zip(offsets, isLength).reduce(m.constant(0, width: rankBits)) { acc, e in acc | mux(e.1, e.0, 0) }
            let rank = m.wire("code_rank", codeValue + offset)
            let symbols = m.ram("symbols", width: symbolBits, depth: 1 << ids.address(wordSlot, rank).width, writeEnable: loader.write,
                                writeAddress: loader.writeAddress, writeData: loader.writeData, readAddress: ids.address(wordSlot, rank), readEnable: step)
            let entry = heldLayout.word(["window": bits.window, "length": codeLength, "escape": isEscape, "id": wordSlot], in: m)

            // The held entry's value: a symbol's raw bits follow its code; ESC's literal and raw
            // bits follow ESC's code.
            let heldWindow = heldLayout.field("window", of: output.held)
            let heldEscape = heldLayout.field("escape", of: output.held)
            let afterCode = m.wire("after_code", Funnel.top(symbolBits + rawBits, of: heldWindow, shiftedLeftBy: heldLayout.field("length", of: output.held),
                                                            name: "after_code", in: m))
            let symbol = m.wire("symbol", mux(heldEscape, afterCode[symbolBits + rawBits - 1, rawBits], symbols))
            let raw = rawBits == 0 ? nil : m.wire("raw_bits", mux(heldEscape, afterCode[rawBits - 1, 0], afterCode[symbolBits + rawBits - 1, symbolBits]))
            let value = m.wire("held_value", ValueFields.value(symbol: symbol, raw: raw, layout: layout))
            output.update(m, step: step, isEnd: isEnd, entry: entry, value: value, user: heldLayout.field("id", of: output.held))
            ports.error.assign(failed)
        }
    }
}
