import Codec
import HDL

/// The `s_table` side of a loadable core: takes a table image (`TableImage`), checks its header
/// against the core's capacity before anything is written, then writes its entries into the
/// core's table RAM at `{slot, index}`, converted to the table's word: a tANS decode-table word
/// (shift R - nb, base, bits consumed, kind, symbol), a Huffman code word (the code, or ESC's
/// code and the literal, left-aligned, and its length; EOF's code goes to the slot's registers),
/// or a Huffman decoder's symbol by canonical rank (its per-length limits and ESC's and EOF's
/// codes go, as the image's words, into a parameter RAM at `{slot, row}`).
/// The entries go in only while the core is idle (`idle`: no frame in flight), and no frame
/// starts while they do, so a load waits for the frames in flight. A slot's parameters and
/// validity change only when its whole image is in: a header that does not fit raises `fail`
/// and the image is taken and dropped; an image whose `tlast` comes early or late, or an entry
/// out of range, raises `fail` and leaves its slot invalid (its frames then raise `error`),
/// never half a table in use.
struct TableLoader {
    /// What the entries are.
    enum Entries {
        /// 2^tableLog decode-table words.
        case tans(tableLayout: WordLayout)
        /// A (count, field) pair of words per symbol, then EOF's (count, code): code words of
        /// `codeLayout` (fields up to `fieldWidth` bits), EOF's code up to `maxLength` bits.
        case huffman(codeLayout: WordLayout, fieldWidth: Int, maxLength: Int)
        /// Per code length a limit and rank offset, then ESC's and EOF's codes (the image's
        /// words into the parameter RAM: length l at row l - 1, ESC at row `maxLength`, EOF
        /// at `maxLength + 1`), then a symbol per canonical rank (`rankBits` bits of address).
        case huffmanDecode(rankBits: Int)
        /// A pair of words per symbol, then EOF's (its step: k, offset, threshold, escaped,
        /// into `parameterLayout` words of the parameter RAM at `{slot, symbol}`, EOF's into the
        /// slot's registers), then 2^tableLog next states (the state RAM at `{slot, index}`).
        case tansEncode(parameterLayout: WordLayout)
    }

    /// A Huffman decoder's parameter rows per slot: one per code length up to the capacity's,
    /// ESC's and EOF's.
    static func parameterRows(_ capacity: LoadableCapacity) -> Int { capacity.tableLog + 2 }

    let write: Signal
    let writeAddress: Signal
    let writeData: Signal
    /// Per slot: the loaded tableLog or longest code (4 bits), whether a whole table is in.
    let logs: [Signal]
    let valid: [Signal]
    /// Huffman: per slot, EOF's code left-aligned in maxLength bits, and its length.
    let endCodes: [Signal]
    let endLengths: [Signal]
    /// A tANS encoder's per-slot EOF step (parameter words).
    let endSteps: [Signal]
    /// A Huffman decoder's parameter RAM writes (`write` is then its symbol RAM's); a tANS
    /// encoder's entry parameter writes (`write` is then its state RAM's).
    let parameterWrite: Signal?
    let parameterAddress: Signal?
    let parameterData: Signal?
    /// Entries are being written: no frame may start.
    let busy: Signal
    /// The image broke a rule this cycle.
    let fail: Signal

    /// For an encoder: a new frame must wait. While a load waits for the frames in flight or
    /// goes in, the frame being taken in (`inFrame`) finishes and the next ones wait (holding
    /// the one being taken in would keep the load waiting forever).
    func holdsNewFrames(inFrame: Signal) -> Signal { busy && !inFrame }

    /// A loadable core's header lines: what it is (`title`), its ports (`ports`), its load
    /// rules, its throughput and its table word.
    static func describe(_ m: ModuleBuilder, title: String, ports: String, throughput: String, table: (name: String, layout: WordLayout)) {
        m.comment(title + ", loaded at run time through s_table (docs/FORMAT.md, Table images).")
        m.comment(ports)
        m.comment("A load waits for the frame in flight and holds the next frames until it is in; an image that does not fit raises error and is dropped, one cut short or too long leaves its slot empty; a frame of an empty slot raises error (an encoder drops it).")
        m.comment("hwgen \(HWGenRelease.version). Throughput: \(throughput).")
        m.comment("Word of \(table.name) (\(table.layout.width) bits): \(table.layout).")
    }

    init(_ m: ModuleBuilder, port: HDL.Stream, capacity: LoadableCapacity, ids: SetIds, entries format: Entries, idle: Signal) {
        let layout = capacity.layout
        let n = layout.symbolCount
        let scope = m.scope("loader")
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        // 0-2: header words; 3: entries; 4: dropping the rest of a refused image.
        let phase = m.register("phase", width: 3, reset: 0)
        let slot = m.register("slot", width: ids.bits, reset: 0)
        let log = m.register("log", width: 5, reset: 0)
        let words: Int
        switch format {
        case .tans: words = 1 << capacity.tableLog
        case .huffman: words = 2 * (n + 1)
        case .huffmanDecode: words = Self.parameterRows(capacity) + n + 2
        case .tansEncode: words = 2 * (n + 1) + (1 << capacity.tableLog)
        }
        let state = m.register("state", width: bitsToAddress(words + 1), reset: 0)
        logs = (0..<capacity.slots).map { m.register("slot\($0)_log", width: 5, reset: 0) }
        valid = (0..<capacity.slots).map { m.register("slot\($0)_valid", width: 1, reset: 0) }
        let word = port.data, last = port.last ?? port.valid
        let inEntries = phase == 3
        busy = m.wire("busy", inEntries)
        port.ready.assign(!inEntries || idle)
        let takes = m.wire("takes", port.valid && (!inEntries || idle))

        // The header, checked word by word.
        let coder: UInt32
        switch format {
        case .tans: coder = TableImage.tansCoder
        case .huffman: coder = TableImage.huffmanCoder
        case .huffmanDecode: coder = TableImage.huffmanDecodeCoder
        case .tansEncode: coder = TableImage.tansEncodeCoder
        }
        let magicOK: Signal = word == Int(TableImage.magic)
        let kindOK: Signal = (word[31, 24] == Int(TableImage.version)) && (word[23, 16] == Int(coder))
        let fitsOK: Signal = (word[15, 8] <= capacity.slots - 1) && (word[7, 0] != 0) && (word[7, 0] <= capacity.tableLog)
        let layoutOK: Signal = (word[31, 24] == Int(TableImage.code(layout.transform))) && (word[23, 16] == layout.symbolBits) && (word[15, 8] == layout.rawBits)
        let headerOK = m.wire("header_ok", mux(phase == 0, magicOK, mux(phase == 1, kindOK && fitsOK, layoutOK)))
        let inHeader = phase < 3

        let entryOK: Signal, lastState: Signal, writes: Signal
        var endCodes: [Signal] = [], endLengths: [Signal] = [], endSteps: [Signal] = []
        var parameters: (write: Signal, address: Signal, data: Signal)? = nil
        switch format {
        case .tans(let tableLayout):
            let r = capacity.tableLog
            // The entry: nb, the next state's base, the entry index (symbol, ESC = n, EOF = n + 1).
            let nb = word[31, 28], base = word[27, 13], entry = word[12, 0]
            let isEscape: Signal = entry == n, isEnd: Signal = entry == n + 1
            let baseLimit = (m.constant(1, width: 16) << log).truncated(to: 16)
            entryOK = m.wire("entry_ok", (entry <= n + 1) && (nb <= log) && (base.zeroExtended(to: 16) < baseLimit))
            let extra = mux(isEnd, m.constant(0, width: 6), mux(isEscape, m.constant(UInt64(layout.symbolBits + layout.rawBits), width: 6),
                                                                 m.constant(UInt64(layout.rawBits), width: 6)))
            let kind = mux(isEnd, m.constant(TANSDecodeTable.Kind.end.rawValue, width: 2),
                           mux(isEscape, m.constant(TANSDecodeTable.Kind.escape.rawValue, width: 2), m.constant(TANSDecodeTable.Kind.symbol.rawValue, width: 2)))
            writeData = m.wire("entry_word", tableLayout.word([
                "shift": m.constant(UInt64(r), width: 4) - nb, "base": base.truncated(to: r), "consumed": nb.zeroExtended(to: 6) + extra, "kind": kind,
                "symbol": mux(isEscape || isEnd, m.constant(0, width: layout.symbolBits), entry.truncated(to: layout.symbolBits)),
            ], in: m))
            writeAddress = m.wire("write_address", ids.address(slot, state.truncated(to: r)))
            lastState = m.wire("last_state", state == ((m.constant(1, width: state.width) << log).truncated(to: state.width) - 1))
            writes = m.wire("write", takes && inEntries && entryOK)
        case .huffman(let codeLayout, let fieldWidth, let maxLength):
            // Even words: a field's bit count; odd words: the field, right-aligned. The pair of
            // index n is EOF's (its count at most the image's longest code).
            let count = m.register("count", width: 6, reset: 0)
            let index = state[state.width - 1, 1]
            let isCount = m.wire("is_count", !state[0])
            let isEnd = m.wire("is_eof_pair", index == n)
            let limit = mux(isEnd, m.constant(UInt64(maxLength), width: 6), m.constant(UInt64(fieldWidth), width: 6))
            let fieldFits = (word.zeroExtended(to: 33) >> count.zeroExtended(to: 6)) == 0
            entryOK = m.wire("entry_ok", mux(isCount, (word <= 32) && (word.truncated(to: 6) <= limit), fieldFits))
            m.when(takes && inEntries && isCount) { count.assign(word.truncated(to: 6)) }
            let shifted = m.wire("field_left", (word.truncated(to: fieldWidth) << (m.constant(UInt64(fieldWidth), width: 6) - count)).truncated(to: fieldWidth))
            writeData = m.wire("entry_word", codeLayout.word(["code": shifted, "length": count.truncated(to: 5)], in: m))
            writeAddress = m.wire("write_address", ids.address(slot, index.truncated(to: layout.symbolBits)))
            lastState = m.wire("last_state", state == words - 1)
            writes = m.wire("write", takes && inEntries && entryOK && !isCount && !isEnd)
            // EOF's field is the image's last word: the slot's EOF changes with its validity.
            endCodes = (0..<capacity.slots).map { m.register("slot\($0)_eof_code", width: maxLength, reset: 0) }
            endLengths = (0..<capacity.slots).map { m.register("slot\($0)_eof_length", width: 6, reset: 0) }
            for j in 0..<capacity.slots {
                m.when(takes && inEntries && (slot == j) && last && lastState && entryOK) {
                    endCodes[j].assign((word.truncated(to: maxLength) << (m.constant(UInt64(maxLength), width: 6) - count)).truncated(to: maxLength))
                    endLengths[j].assign(count)
                }
            }
        case .huffmanDecode(let rankBits):
            // Words 0 .. log - 1: a length's limit (bits 31-15, at most 2^l and at least twice
            // the last length's, so the limits keep their thermometer) and rank offset; then
            // ESC's and EOF's lengths (1 .. log) and codes; then `total` entries, total being
            // the last length's limit plus its offset (2 .. n + 2).
            let rows = Self.parameterRows(capacity)
            let limit = word[31, 15], offset = word[14, 0]
            let previous = m.register("previous_limit", width: 17, reset: 0)
            let total = m.register("total", width: 15, reset: 0)
            let stateWide = state.zeroExtended(to: max(state.width, 16))
            let inLengths = m.wire("in_lengths", stateWide < log.zeroExtended(to: stateWide.width))
            let inCodes = m.wire("in_codes", !inLengths && (stateWide < (log.zeroExtended(to: stateWide.width) + 2)))
            let lengthHere = m.wire("length_here", (stateWide + 1).truncated(to: 5))
            let most = m.wire("most_limit", (m.constant(1, width: 18) << lengthHere).truncated(to: 18))
            let sum = m.wire("entry_total", (offset + limit.truncated(to: 15)).truncated(to: 15))
            let lastLength = m.wire("last_length", stateWide == (log.zeroExtended(to: stateWide.width) - 1))
            let lengthOK = (limit.zeroExtended(to: 18) <= most) && (limit.zeroExtended(to: 18) >= (previous.zeroExtended(to: 18) << 1))
                && (!lastLength || ((sum >= 2) && (sum <= n + 2)))
            let codeOK = (word[20, 16] != 0) && (word[20, 16] <= log) && (word[31, 21] == 0)
            let entry = word[12, 0]
            entryOK = m.wire("entry_ok", mux(inLengths, lengthOK, mux(inCodes, codeOK, (entry <= n + 1) && (word[31, 13] == 0))))
            m.when(takes && inEntries && inLengths) {
                previous.assign(limit)
                m.when(lastLength) { total.assign(sum) }
            }
            m.when(takes && inHeader) { previous.assign(0) }
            // The parameter rows: length l at l - 1, ESC and EOF at the capacity's rows.
            let row = mux(inLengths, stateWide.truncated(to: bitsToAddress(rows)),
                          (stateWide - log.zeroExtended(to: stateWide.width) + capacity.tableLog).truncated(to: bitsToAddress(rows)))
            parameters = (m.wire("parameter_write", takes && inEntries && entryOK && (inLengths || inCodes)),
                          m.wire("parameter_address", ids.address(slot, row)), word)
            let rank = (stateWide - log.zeroExtended(to: stateWide.width) - 2).truncated(to: rankBits)
            writeData = m.wire("entry_symbol", mux(entry >= n, m.constant(0, width: layout.symbolBits), entry.truncated(to: layout.symbolBits)))
            writeAddress = m.wire("write_address", ids.address(slot, rank))
            lastState = m.wire("last_state", !inLengths && !inCodes
                               && (stateWide == (log.zeroExtended(to: stateWide.width) + 1 + total.zeroExtended(to: stateWide.width)).truncated(to: stateWide.width)))
            writes = m.wire("write", takes && inEntries && entryOK && !inLengths && !inCodes)
        case .tansEncode(let parameterLayout):
            // Pairs: the first word (escaped, k, offset) waits in a register for the second
            // (the threshold); pair n is EOF's. Then the next states.
            let r = capacity.tableLog
            let pairs = 2 * (n + 1)
            let first = m.register("step_word", width: 32, reset: 0)
            let stateWide = state.zeroExtended(to: max(state.width, 18))
            let inPairs = m.wire("in_pairs", stateWide < pairs)
            let isFirst = m.wire("is_first", !state[0])
            let index = stateWide[stateWide.width - 1, 1]
            let isEnd = m.wire("is_eof_pair", index == n)
            let logWide = log.zeroExtended(to: 6)
            let tableSize = m.wire("table_size", (m.constant(1, width: 18) << logWide).truncated(to: 18))
            let firstOK = (word[30, 28] == 0) && (word[23, 16] == 0) && (word[27, 24].zeroExtended(to: 6) <= logWide)
                && (word[15, 0].zeroExtended(to: 18) < tableSize)
            let secondOK = (word[31, 17] == 0) && (word.truncated(to: 17).zeroExtended(to: 18) < (tableSize << 1))
            let stateOK = (word[31, 16] == 0) && (word[15, 0].zeroExtended(to: 18) < tableSize)
            entryOK = m.wire("entry_ok", mux(inPairs, mux(isFirst, firstOK, secondOK), stateOK))
            m.when(takes && inEntries && inPairs && isFirst) { first.assign(word) }
            let step = m.wire("step_parameters", parameterLayout.word([
                "offset": first[15, 0].resized(to: r), "threshold": word.truncated(to: 17).resized(to: r + 1), "k": first[27, 24], "escaped": first[31],
            ], in: m))
            parameters = (m.wire("parameter_write", takes && inEntries && entryOK && inPairs && !isFirst && !isEnd),
                          m.wire("parameter_address", ids.address(slot, index.truncated(to: layout.symbolBits))), step)
            writeData = m.wire("state_word", word.truncated(to: r))
            writeAddress = m.wire("write_address", ids.address(slot, (stateWide - pairs).truncated(to: r)))
            lastState = m.wire("last_state", !inPairs && ((stateWide - pairs + 1).truncated(to: 17) == tableSize.truncated(to: 17)))
            writes = m.wire("write", takes && inEntries && entryOK && !inPairs)
            // EOF's step goes to the slot's registers with its validity (kept meanwhile).
            let endStep = m.register("end_step", width: parameterLayout.width, reset: 0)
            m.when(takes && inEntries && inPairs && !isFirst && isEnd) { endStep.assign(step) }
            endSteps = (0..<capacity.slots).map { m.register("slot\($0)_eof_step", width: parameterLayout.width, reset: 0) }
            for j in 0..<capacity.slots {
                m.when(takes && inEntries && (slot == j) && last && lastState && entryOK) { endSteps[j].assign(endStep) }
            }
        }
        self.endSteps = endSteps
        parameterWrite = parameters?.write
        parameterAddress = parameters?.address
        parameterData = parameters?.data
        self.endCodes = endCodes
        self.endLengths = endLengths
        write = writes
        // A rule broken: a header word that does not fit, a header cut short, an entry out of
        // range, tlast before the last entry or missing on it.
        fail = m.wire("fail", takes && ((inHeader && (!headerOK || last)) || (inEntries && (!entryOK || (last != lastState)))))

        m.when(takes) {
            m.when(phase == 4) {
                m.when(last) { phase.assign(0) }
            }.elseWhen(fail) {
                phase.assign(mux(last, m.constant(0, width: 3), m.constant(4, width: 3)))
            }.elseWhen(inHeader) {
                phase.assign(phase + 1)
                m.when(phase == 1) {
                    slot.assign(word[15, 8].truncated(to: ids.bits))
                    log.assign(word[4, 0])
                }
                state.assign(0)
            }.otherwise {
                state.assign(state + 1)
                m.when(last) { phase.assign(0) }
            }
        }
        // The slot is invalid from its first entry until its last is in.
        for j in 0..<capacity.slots {
            let here = slot == j
            m.when(takes && inEntries && here) {
                m.when(last && !fail) {
                    valid[j].assign(1)
                    logs[j].assign(log)
                }.otherwise {
                    valid[j].assign(0)
                }
            }
        }
    }
}
