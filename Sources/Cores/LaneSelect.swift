import HDL

/// Choosing among per-lane signals by a lane number, as the K-lane cores do.
enum LaneSelect {
    /// `items[index]` as a tree of 2:1 multiplexers on the index's bits, low bit first
    /// (`index` < `items.count`; an index past the end picks one of the last items).
    static func pick(_ items: [Signal], by index: Signal) -> Signal {
        var layer = items, bit = 0
        while layer.count > 1 {
            let b = bit
            layer = stride(from: 0, to: layer.count, by: 2).map { j in j + 1 < layer.count ? mux(index[b], layer[j + 1], layer[j]) : layer[j] }
            bit += 1
        }
        return layer[0]
    }
}
