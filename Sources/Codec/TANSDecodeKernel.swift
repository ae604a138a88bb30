import CCodecKernels

/// The table and value placement of the C four-frame tANS decode loop (`hwgen_tans_decode4`),
/// the twin of `TANSCoder`'s Swift step in `InterleavedFrames`.
///
/// One 64-bit word per state holds all a step needs, so a value costs one table load: the bits
/// the entry reads (state and raw bits, bits 0-7), 63 minus its state bits (8-15: the state bits
/// are the top bits shifted right by one and then by this), the next state's base (16-31), the
/// value with the symbol's bits placed (32-62), and bit 63 where the entry is ESC or EOF.
struct TANSDecodeKernel {
    let table: FixedTable<UInt64>
    /// How raw bits land in the value (`HWGEN_PLACE_*`).
    let placement: Int32

    /// Nil where some symbol's placed value needs 32 bits, or an entry reads more than 57 bits
    /// (the loop then stays in Swift).
    init?(tables t: TANSTables, layout: ValueLayout) {
        var words: [UInt64] = []
        words.reserveCapacity(t.tableSize)
        for u in 0..<t.tableSize {
            let nb = Int(t.bitCount[u]), entry = Int(t.symbol[u])
            let used = nb + layout.rawBits
            guard used <= 57 else { return nil }
            guard entry < layout.symbolCount else {
                words.append(1 << 63)
                continue
            }
            let value = UInt64(layout.value(symbol: UInt32(entry), raw: 0))
            guard value < 1 << 31 else { return nil }
            words.append(UInt64(used) | UInt64(63 - nb) << 8 | UInt64(t.base[u]) << 16 | value << 32)
        }
        table = FixedTable(words)
        switch layout.transform {
        case .identity: placement = Int32(HWGEN_PLACE_NONE)
        case .split: placement = Int32(layout.rawBits == 0 ? HWGEN_PLACE_NONE : HWGEN_PLACE_LOW)
        case .bf16Exponent: placement = Int32(HWGEN_PLACE_BF16)
        }
    }
}
