import CCodecKernels

/// The table and value placement of the C four-frame tANS decode loop (`hwgen_tans_decode4`),
/// the twin of `TANSCoder`'s Swift step in `InterleavedFrames`.
///
/// One 64-bit word per state holds all a step needs, so a value costs one table load: a shift
/// count (bits 0-7: with raw bits, 64 minus the bits the entry reads, which one shift then
/// leaves right-aligned, state bits above raw bits; without, 64 - nb when no direct entry has
/// nb = 0, else 63 - nb after a shift by one), the bits it reads (state and raw bits, 8-15), the next
/// state's base (16-31), the value with the symbol's bits placed (32-62), and bit 63 where the
/// entry is ESC or EOF.
struct TANSDecodeKernel {
    let table: FixedTable<UInt64>
    /// Every direct entry has state bits (one shift takes them).
    let noZero: Bool
    /// How raw bits land in the value (`HWGEN_PLACE_*`).
    let placement: Int32

    /// Nil where some symbol's placed value needs 32 bits, or an entry reads more than 57 bits
    /// (the loop then stays in Swift).
    init?(tables t: TANSTables, layout: ValueLayout) {
        var words: [UInt64] = []
        words.reserveCapacity(t.tableSize)
        let noZero = (0..<t.tableSize).allSatisfy { t.bitCount[$0] > 0 || Int(t.symbol[$0]) >= layout.symbolCount }
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
            let shift = layout.rawBits > 0 ? 64 - used : noZero ? 64 - nb : 63 - nb
            words.append(UInt64(shift) | UInt64(used) << 8 | UInt64(t.base[u]) << 16 | value << 32)
        }
        table = FixedTable(words)
        self.noZero = noZero
        placement = layout.kernelPlacement
    }
}

/// The table and value placement of the C four-frame Huffman decode loop
/// (`hwgen_huffman_decode4`), the twin of `HuffmanCoder`'s Swift value step in
/// `InterleavedFrames`: a 32-bit word per pattern of the code's longest length, holding the bits
/// a value reads (code and raw bits, bits 0-5), bit 7 where the pattern starts no direct
/// symbol's code (ESC, EOF, no code), and the value with the symbol's bits placed (8-31).
struct HuffmanDecodeKernel {
    let table: FixedTable<UInt32>
    let placement: Int32

    /// Nil where some symbol's placed value needs more than 24 bits, or a value reads more than
    /// 57 bits (the loop then stays in Swift).
    init?(decodeTable: FixedTable<UInt32>, layout: ValueLayout) {
        let stops = HuffmanCoder.escapeFlag | HuffmanCoder.endFlag | HuffmanCoder.invalidFlag
        var words: [UInt32] = []
        words.reserveCapacity(decodeTable.count)
        for i in 0..<decodeTable.count {
            let slot = decodeTable[i]
            guard slot & stops == 0 else {
                words.append(0x80)
                continue
            }
            let used = slot & 0x3F
            let value = layout.value(symbol: (slot >> 16) & 0x1FFF, raw: 0)
            guard used <= 57, value < 1 << 24 else { return nil }
            words.append(used | value << 8)
        }
        table = FixedTable(words)
        placement = layout.kernelPlacement
    }
}

extension ValueLayout {
    /// How the C loops place a value's raw bits (`HWGEN_PLACE_*`).
    var kernelPlacement: Int32 {
        switch transform {
        case .identity: Int32(HWGEN_PLACE_NONE)
        case .split: Int32(rawBits == 0 ? HWGEN_PLACE_NONE : HWGEN_PLACE_LOW)
        case .bf16Exponent: Int32(HWGEN_PLACE_BF16)
        }
    }
}
