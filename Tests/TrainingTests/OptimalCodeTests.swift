import Testing
import TestSupport
import Training

/// The cheapest cost over every length assignment with lengths 1...maxLength and Kraft sum <= 1.
private func bruteForceCost(_ weights: [Int], maxLength: Int) -> Int {
    let used = weights.filter { $0 > 0 }
    var best = Int.max
    var lengths = [Int](repeating: 1, count: used.count)
    func search(_ i: Int, _ kraft: Int) {
        if i == used.count {
            best = min(best, zip(used, lengths).reduce(0) { $0 + $1.0 * $1.1 })
            return
        }
        for l in 1...maxLength {
            let k = kraft + (1 << (maxLength - l))
            if k <= 1 << maxLength {
                lengths[i] = l
                search(i + 1, k)
            }
        }
    }
    search(0, 0)
    return best
}

@Suite("Optimal codes: package-merge and tANS normalisation")
struct OptimalCodeTests {
    @Test("package-merge equals brute force on small alphabets")
    func packageMerge() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<300 {
            let n = 2 + Int(random.next() % 6)
            let maxLength = max(2, Int(random.next() % 5) + 1)
            guard n <= 1 << maxLength else { continue }
            var weights = (0..<n).map { _ in Int(random.next() % 1000) + 1 }
            if random.next() % 3 == 0 { weights[0] = 0 }  // an unused entry
            guard weights.filter({ $0 > 0 }).count >= 2 else { continue }
            let lengths = LengthLimitedHuffman.lengths(weights: weights, maxLength: maxLength)
            #expect(lengths.indices.allSatisfy { (weights[$0] == 0) == (lengths[$0] == 0) })
            #expect(lengths.allSatisfy { $0 <= maxLength })
            #expect(lengths.reduce(0) { $0 + ($1 == 0 ? 0 : 1 << (maxLength - $1)) } <= 1 << maxLength)
            #expect(LengthLimitedHuffman.cost(weights: weights, lengths: lengths) == bruteForceCost(weights, maxLength: maxLength),
                    "weights \(weights) max \(maxLength)")
        }
    }

    @Test("the length limit binds: skewed weights get a flatter code")
    func limitBinds() {
        let weights = (0..<10).map { 1 << $0 }  // unlimited Huffman would need 9 bits
        let lengths = LengthLimitedHuffman.lengths(weights: weights, maxLength: 4)
        #expect(lengths.max() == 4)
        #expect(LengthLimitedHuffman.cost(weights: weights, lengths: lengths) == bruteForceCost(weights, maxLength: 4))
    }

    @Test("tANS counts are optimal: no single move lowers the cost, and brute force agrees on small tables")
    func tansOptimal() {
        var random = SeededRandom(seed: 9)
        for _ in 0..<200 {
            let n = 2 + Int(random.next() % 3)
            let tableLog = 5
            let weights = (0..<n).map { _ in Int(random.next() % 500) + 1 }
            let counts = TANSNormalizer.counts(weights: weights, tableLog: tableLog)
            #expect(counts.reduce(0, +) == 32)
            #expect(counts.allSatisfy { $0 >= 1 })
            let cost = TANSNormalizer.cost(weights: weights, counts: counts, tableLog: tableLog)
            // Brute force over all count vectors of n entries summing to 32.
            var best = Double.infinity
            func search(_ i: Int, _ left: Int, _ c: inout [Int]) {
                if i == n - 1 {
                    guard left >= 1 else { return }
                    c[i] = left
                    best = min(best, TANSNormalizer.cost(weights: weights, counts: c, tableLog: tableLog))
                    return
                }
                for v in 1...max(1, left - (n - 1 - i)) {
                    c[i] = v
                    search(i + 1, left - v, &c)
                }
            }
            var c = [Int](repeating: 0, count: n)
            search(0, 32, &c)
            #expect(abs(cost - best) < 1e-9, "weights \(weights): \(counts) costs \(cost), best \(best)")
        }
    }

    @Test("tANS normalisation keeps every used entry at a count of at least 1")
    func tansKeepsRare() {
        let weights = [1_000_000, 1, 1, 0, 3]
        let counts = TANSNormalizer.counts(weights: weights, tableLog: 5)
        #expect(counts == [counts[0], 1, 1, 0, 1])
        #expect(counts.reduce(0, +) == 32)
    }
}
