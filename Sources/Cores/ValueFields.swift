import Codec
import HDL

/// The symbol and raw bits of a value signal under a layout, as DSL slices, wired from the
/// layout's bit map (Codec's definition of the transform, FORMAT.md section 1).
enum ValueFields {
    /// The symbol bits of `value` (valueBits wide).
    static func symbol(of value: Signal, layout: ValueLayout) -> Signal {
        gather(from: value, layout: layout, width: layout.symbolBits) { if case .symbol(let i) = $0 { i } else { nil } } ?? value
    }

    /// The raw bits of `value`, or nil when the layout has none.
    static func raw(of value: Signal, layout: ValueLayout) -> Signal? {
        gather(from: value, layout: layout, width: layout.rawBits) { if case .raw(let i) = $0 { i } else { nil } }
    }

    /// The value rebuilt from a symbol and raw bits.
    static func value(symbol: Signal, raw: Signal?, layout: ValueLayout) -> Signal {
        let map = layout.bitMap
        guard let raw, layout.rawBits > 0 else { return symbol }
        // Value bits from the top: runs of consecutive bits of one field become one slice.
        var parts: [Signal] = []
        var index = map.count - 1
        while index >= 0 {
            let (source, first) = field(map[index], symbol: symbol, raw: raw)
            var low = first, next = index - 1
            while next >= 0, case let (s, bit) = field(map[next], symbol: symbol, raw: raw), s == source, bit == low - 1 {
                low = bit
                next -= 1
            }
            parts.append((source == 0 ? symbol : raw).bits(first, low))
            index = next
        }
        return symbol.builderCat(parts)
    }

    /// Which field a value bit comes from (0 symbol, 1 raw) and its bit there.
    private static func field(_ bit: ValueLayout.FieldBit, symbol: Signal, raw: Signal) -> (Int, Int) {
        switch bit {
        case .symbol(let i): return (0, i)
        case .raw(let i): return (1, i)
        }
    }

    /// The `width` bits of one field of `value`, from its top bit down, gathered from the value
    /// bits that `pick` maps into it; nil for a field of no bits.
    private static func gather(from value: Signal, layout: ValueLayout, width: Int, pick: (ValueLayout.FieldBit) -> Int?) -> Signal? {
        guard width > 0 else { return nil }
        var position = [Int](repeating: -1, count: width)
        for (valueBit, bit) in layout.bitMap.enumerated() { if let i = pick(bit), i < width { position[i] = valueBit } }
        // Field bits from the top: runs of consecutive value bits become one slice.
        var parts: [Signal] = []
        var i = width - 1
        while i >= 0 {
            let high = position[i]
            var j = i
            while j - 1 >= 0, position[j - 1] == position[j] - 1 { j -= 1 }
            parts.append(value.bits(high, position[j]))
            i = j - 1
        }
        return value.builderCat(parts)
    }
}

extension Signal {
    /// `cat` of parts of this signal's module (one part is itself).
    fileprivate func builderCat(_ parts: [Signal]) -> Signal {
        parts.count == 1 ? parts[0] : cat(parts[0], Array(parts[1...]))
    }
}
