import HDL

/// Choosing among per-lane signals by a lane number, and counting them, as the K-lane cores and
/// blocks do.
public enum LaneSelect {
    /// `items[index]` as a tree of 2:1 multiplexers on the index's bits, low bit first
    /// (`index` < `items.count`; an index past the end picks one of the last items).
    public static func pick(_ items: [Signal], by index: Signal) -> Signal {
        var layer = items, bit = 0
        while layer.count > 1 {
            let b = bit
            layer = stride(from: 0, to: layer.count, by: 2).map { j in j + 1 < layer.count ? mux(index[b], layer[j + 1], layer[j]) : layer[j] }
            bit += 1
        }
        return layer[0]
    }

    /// The number of ones among `bits`, `width` bits wide, as a balanced tree of adds (a chain
    /// of K adds would sit on a round's path).
    public static func count(_ m: ModuleBuilder, _ bits: [Signal], width: Int) -> Signal {
        if bits.isEmpty { return m.constant(0, width: width) }
        if bits.count == 1 { return bits[0].zeroExtended(to: width) }
        let half = bits.count / 2
        return count(m, Array(bits[..<half]), width: width) + count(m, Array(bits[half...]), width: width)
    }

    /// The OR of `terms` (0 for none).
    public static func any(_ m: ModuleBuilder, _ terms: [Signal]) -> Signal { terms.reduce(m.constant(0, width: 1)) { $0 || $1 } }
}
