import Codec
import HDL

/// The tANS decode table as the decoders store it (FORMAT.md section 7): one word per state
/// holding R - nb (a right shift that leaves the state bits), the base of the next state, the
/// bits the state's entry consumes (state bits, ESC literal, raw bits), the entry's kind and
/// its symbol.
struct TANSDecodeTable {
    enum Kind: UInt64 { case symbol = 0, escape = 1, end = 2 }

    let tableLog: Int
    let layout: WordLayout
    /// One word of `layout` per state.
    let contents: [UInt64]
    /// The bits the longest entry consumes.
    let longestEntry: Int

    /// Width of the consumed-bits field: at most 15 state bits + 32 payload bits.
    static let consumedWidth = 6

    /// `stateWidth` and `symbolWidth` (a set's widest member: R and symbolBits) widen the base
    /// and symbol fields; the shift is then `stateWidth` - nb.
    /// The table word for states of `stateWidth` bits and symbols of `symbolWidth`.
    static func layout(stateWidth: Int, symbolWidth: Int) -> WordLayout {
        WordLayout([("shift", 4), ("base", stateWidth), ("consumed", consumedWidth), ("kind", 2), ("symbol", symbolWidth)])
    }

    init(tableLog r: Int, counts: [Int], layout values: ValueLayout, stateWidth: Int? = nil, symbolWidth: Int? = nil) throws {
        let wide = stateWidth ?? r
        let tables = TANSTables(tableLog: r, counts: counts)
        let (n, escape, endOfFrame) = (values.symbolCount, values.symbolCount, values.symbolCount + 1)
        func kind(_ entry: Int) -> Kind { entry == escape ? .escape : entry == endOfFrame ? .end : .symbol }
        func extraBits(_ k: Kind) -> Int { k == .escape ? values.symbolBits + values.rawBits : k == .symbol ? values.rawBits : 0 }
        let consumed = (0..<(1 << r)).map { u in Int(tables.bitCount[u]) + extraBits(kind(Int(tables.symbol[u]))) }
        let layout = Self.layout(stateWidth: wide, symbolWidth: symbolWidth ?? values.symbolBits)
        contents = try (0..<(1 << r)).map { u in
            let entry = Int(tables.symbol[u])
            let nb = Int(tables.bitCount[u])
            guard Int(tables.base[u]) & ((1 << nb) - 1) == 0 else {
                throw CoreError.unsupported("internal error: tANS state \(u) has a base with non-zero low bits")
            }
            return try layout.pack([
                "shift": UInt64(wide - nb), "base": UInt64(tables.base[u]), "consumed": UInt64(consumed[u]),
                "kind": kind(entry).rawValue, "symbol": UInt64(entry < n ? entry : 0),
            ])
        }
        tableLog = r
        self.layout = layout
        longestEntry = consumed.max() ?? 0
    }
}

extension TANSDecodeTable {
    /// A decoded entry's value from its `payload` (the bits after its state bits: the ESC
    /// literal, then the raw bits): the table's symbol, or the literal after ESC, with the raw bits.
    static func value(_ m: ModuleBuilder, payload: Signal, escape: Signal, tableSymbol: Signal, layout: ValueLayout) -> Signal {
        let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
        let payloadBits = symbolBits + rawBits
        let symbol = m.wire("symbol", mux(escape, payload[payloadBits - 1, rawBits], tableSymbol))
        let raw: Signal? = rawBits == 0 ? nil : m.wire("raw_bits", mux(escape, payload[rawBits - 1, 0], payload[payloadBits - 1, symbolBits]))
        return ValueFields.value(symbol: symbol, raw: raw, layout: layout)
    }
}
