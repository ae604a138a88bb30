/// Optimal length-limited prefix-code lengths by package-merge (Larmore and Hirschberg).
public enum LengthLimitedHuffman {
    /// Code lengths minimising sum(weight x length) with every length at most `maxLength`, for
    /// the entries of non-zero weight (others get 0). Needs at most 2^maxLength such entries.
    /// One entry alone gets length 1.
    public static func lengths(weights: [Int], maxLength: Int) -> [Int] {
        let used = weights.indices.filter { weights[$0] > 0 }
        var lengths = [Int](repeating: 0, count: weights.count)
        guard used.count > 1 else {
            for i in used { lengths[i] = 1 }
            return lengths
        }
        precondition(used.count <= 1 << maxLength, "\(used.count) codes cannot fit in \(maxLength) bits")
        let leaves = used.sorted { (weights[$0], $0) < (weights[$1], $1) }

        // Nodes: leaves are (weight, entry, -1); packages are (weight, left node, right node).
        var nodeWeight: [Int] = []
        var nodeLeft: [Int] = []
        var nodeRight: [Int] = []
        func leafNodes() -> [Int] {
            leaves.map { entry in
                nodeWeight.append(weights[entry]); nodeLeft.append(entry); nodeRight.append(-1)
                return nodeWeight.count - 1
            }
        }
        var list = leafNodes()
        for _ in 1..<maxLength {
            var packages: [Int] = []
            var i = 0
            while i + 1 < list.count {
                nodeWeight.append(nodeWeight[list[i]] + nodeWeight[list[i + 1]])
                nodeLeft.append(list[i]); nodeRight.append(list[i + 1])
                packages.append(nodeWeight.count - 1)
                i += 2
            }
            // Merge fresh leaves with the packages, by weight (leaves first on ties).
            let fresh = leafNodes()
            var merged: [Int] = []
            merged.reserveCapacity(fresh.count + packages.count)
            var a = 0, b = 0
            while a < fresh.count || b < packages.count {
                if b == packages.count || (a < fresh.count && nodeWeight[fresh[a]] <= nodeWeight[packages[b]]) {
                    merged.append(fresh[a]); a += 1
                } else {
                    merged.append(packages[b]); b += 1
                }
            }
            list = merged
        }
        // Each leaf occurrence among the first 2n - 2 items adds one to its length.
        var stack = Array(list.prefix(2 * used.count - 2))
        while let node = stack.popLast() {
            if nodeRight[node] < 0 {
                lengths[nodeLeft[node]] += 1
            } else {
                stack.append(nodeLeft[node])
                stack.append(nodeRight[node])
            }
        }
        return lengths
    }

    /// sum(weight x length).
    public static func cost(weights: [Int], lengths: [Int]) -> Int {
        zip(weights, lengths).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
