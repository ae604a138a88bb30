import Foundation

/// Normalises weights to tANS counts summing to 2^tableLog at minimal coded size.
///
/// The cost sum(w_i * log2(T / c_i)) is convex in each count, so starting from any allocation
/// and repeatedly moving one unit from the count whose decrement costs least to the count whose
/// increment gains most, while that helps, reaches the optimum (a greedy exchange is exact).
public enum TANSNormalizer {
    /// Counts for entries of non-zero weight (each at least 1), 0 elsewhere. Needs at most
    /// 2^tableLog such entries.
    public static func counts(weights: [Int], tableLog: Int) -> [Int] {
        let size = 1 << tableLog
        let used = weights.indices.filter { weights[$0] > 0 }
        precondition(!used.isEmpty && used.count <= size, "\(used.count) entries cannot share \(size) states")
        let total = Double(used.reduce(0) { $0 + weights[$1] })
        var counts = [Int](repeating: 0, count: weights.count)
        for i in used { counts[i] = max(1, Int((Double(weights[i]) * Double(size) / total).rounded())) }
        // Gain of one more state for i, and loss of one fewer (infinite at 1: every used entry keeps a state).
        func gain(_ i: Int) -> Double { Double(weights[i]) * log2(Double(counts[i] + 1) / Double(counts[i])) }
        func loss(_ i: Int) -> Double {
            counts[i] <= 1 ? .infinity : Double(weights[i]) * log2(Double(counts[i]) / Double(counts[i] - 1))
        }
        var heapUp = IndexedHeap(keys: used, priority: gain)
        var heapDown = IndexedHeap(keys: used, priority: { -loss($0) })
        func move(from: Int?, to: Int?) {
            if let f = from { counts[f] -= 1 }
            if let t = to { counts[t] += 1 }
            for i in [from, to].compactMap({ $0 }) {
                heapUp.update(i, gain(i))
                heapDown.update(i, -loss(i))
            }
        }
        var sum = used.reduce(0) { $0 + counts[$1] }
        while sum < size { move(from: nil, to: heapUp.top); sum += 1 }
        while sum > size { move(from: heapDown.top, to: nil); sum -= 1 }
        // Exchange while it lowers the cost.
        while true {
            let up = heapUp.top, down = heapDown.top
            guard up != down, gain(up) > loss(down) + 1e-12 else { break }
            move(from: down, to: up)
        }
        return counts
    }

    /// The coded size in bits of `weights` under `counts` (infinite if a weighted entry has no state).
    public static func cost(weights: [Int], counts: [Int], tableLog: Int) -> Double {
        var bits = 0.0
        for (w, c) in zip(weights, counts) where w > 0 {
            guard c > 0 else { return .infinity }
            bits += Double(w) * (Double(tableLog) - log2(Double(c)))
        }
        return bits
    }
}

/// A max-heap of keys by a priority that changes; `update` re-sifts one key.
struct IndexedHeap {
    private var heap: [Int] = []
    private var position: [Int: Int] = [:]
    private var priority: [Int: Double] = [:]

    init(keys: [Int], priority p: (Int) -> Double) {
        for k in keys {
            priority[k] = p(k)
            position[k] = heap.count
            heap.append(k)
        }
        for i in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(i) }
    }

    var top: Int { heap[0] }

    mutating func update(_ key: Int, _ value: Double) {
        guard let i = position[key] else { return }
        priority[key] = value
        siftUp(i)
        if let j = position[key] { siftDown(j) }
    }

    private func higher(_ a: Int, _ b: Int) -> Bool {
        let pa = priority[heap[a]] ?? 0, pb = priority[heap[b]] ?? 0
        return pa > pb || (pa == pb && heap[a] < heap[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        position[heap[a]] = a
        position[heap[b]] = b
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0, higher(i, (i - 1) / 2) { swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            var best = i
            for c in [2 * i + 1, 2 * i + 2] where c < heap.count && higher(c, best) { best = c }
            if best == i { return }
            swapAt(i, best)
            i = best
        }
    }
}
