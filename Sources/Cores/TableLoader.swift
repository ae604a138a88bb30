import Codec
import HDL

/// The `s_table` side of a loadable tANS decoder: takes a table image (`TableImage`), checks its
/// header against the core's capacity before anything is written, then writes its entries into
/// the decode-table RAM at `{slot, state}`, converted to the table's word (shift R - nb, base,
/// bits consumed, kind, symbol). The entries go in only while the decoder is idle (`idle`: no
/// frame started), and no frame starts while they do, so a load waits for the frames in flight.
/// A slot's tableLog and validity change only when its whole image is in: a header that does not
/// fit raises `fail` and the image is taken and dropped; an image whose `tlast` comes early or
/// late raises `fail` and leaves its slot invalid (its frames then raise `error`), never half
/// a table in use.
struct TableLoader {
    let write: Signal
    let writeAddress: Signal
    let writeData: Signal
    /// Per slot: the loaded tableLog (4 bits), whether a whole table is in.
    let logs: [Signal]
    let valid: [Signal]
    /// Entries are being written: no frame may start.
    let busy: Signal
    /// The image broke a rule this cycle.
    let fail: Signal

    init(_ m: ModuleBuilder, port: HDL.Stream, capacity: LoadableCapacity, ids: SetIds, tableLayout: WordLayout, idle: Signal) {
        let (r, layout) = (capacity.tableLog, capacity.layout)
        let n = layout.symbolCount
        let scope = m.scope("loader")
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        // 0-2: header words; 3: entries; 4: dropping the rest of a refused image.
        let phase = m.register("phase", width: 3, reset: 0)
        let slot = m.register("slot", width: ids.bits, reset: 0)
        let log = m.register("log", width: 4, reset: 0)
        let state = m.register("state", width: r + 1, reset: 0)
        logs = (0..<capacity.slots).map { m.register("slot\($0)_log", width: 4, reset: 0) }
        valid = (0..<capacity.slots).map { m.register("slot\($0)_valid", width: 1, reset: 0) }
        let word = port.data, last = port.last ?? port.valid
        let inEntries = phase == 3
        busy = m.wire("busy", inEntries)
        port.ready.assign(!inEntries || idle)
        let takes = m.wire("takes", port.valid && (!inEntries || idle))

        // The header, checked word by word.
        let magicOK: Signal = word == Int(TableImage.magic)
        let kindOK: Signal = (word[31, 24] == Int(TableImage.version)) && (word[23, 16] == Int(TableImage.tansCoder))
        let fitsOK: Signal = (word[15, 8] <= capacity.slots - 1) && (word[7, 0] != 0) && (word[7, 0] <= r)
        let layoutOK: Signal = (word[31, 24] == Int(TableImage.code(layout.transform))) && (word[23, 16] == layout.symbolBits) && (word[15, 8] == layout.rawBits)
        let headerOK = m.wire("header_ok", mux(phase == 0, magicOK, mux(phase == 1, kindOK && fitsOK, layoutOK)))
        let inHeader = phase < 3
        // The entry: nb, the next state's base, the entry index (symbol, ESC = n, EOF = n + 1).
        let nb = word[31, 28], base = word[27, 13], entry = word[12, 0]
        let isEscape: Signal = entry == n, isEnd: Signal = entry == n + 1
        let baseLimit = (m.constant(1, width: 16) << log).truncated(to: 16)
        let entryOK = m.wire("entry_ok", (entry <= n + 1) && (nb <= log) && (base.zeroExtended(to: 16) < baseLimit))
        let extra = mux(isEnd, m.constant(0, width: 6), mux(isEscape, m.constant(UInt64(layout.symbolBits + layout.rawBits), width: 6),
                                                             m.constant(UInt64(layout.rawBits), width: 6)))
        let kind = mux(isEnd, m.constant(TANSDecodeTable.Kind.end.rawValue, width: 2),
                       mux(isEscape, m.constant(TANSDecodeTable.Kind.escape.rawValue, width: 2), m.constant(TANSDecodeTable.Kind.symbol.rawValue, width: 2)))
        writeData = m.wire("entry_word", tableLayout.word([
            "shift": m.constant(UInt64(r), width: 4) - nb, "base": base.truncated(to: r), "consumed": nb.zeroExtended(to: 6) + extra, "kind": kind,
            "symbol": mux(isEscape || isEnd, m.constant(0, width: layout.symbolBits), entry.truncated(to: layout.symbolBits)),
        ], in: m))
        writeAddress = m.wire("write_address", ids.address(slot, state.truncated(to: r)))
        let lastState = m.wire("last_state", state == ((m.constant(1, width: r + 1) << log).truncated(to: r + 1) - 1))
        write = m.wire("write", takes && inEntries && entryOK)
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
                    log.assign(word[3, 0])
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
