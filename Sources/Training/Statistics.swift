import Codec
import Foundation

/// Symbol counts of some values under one layout (symbols only; raw bits are not modelled).
public struct Histogram: Sendable, Equatable {
    public var counts: [Int]
    public var total: Int { counts.reduce(0, +) }

    public init(symbolCount: Int) { counts = [Int](repeating: 0, count: symbolCount) }
    public init(counts: [Int]) { self.counts = counts }

    /// Counts the symbols of `values` under `layout`.
    public init(_ values: ArraySlice<UInt32>, layout: ValueLayout) {
        self = values.withUnsafeBufferPointer { Histogram($0, layout: layout) }
    }

    /// Counts the symbols of `values` under `layout`.
    public init(_ values: [UInt32], layout: ValueLayout) {
        self = values.withUnsafeBufferPointer { Histogram($0, layout: layout) }
    }

    /// Counts the symbols of `values` under `layout` (the transform is resolved once, outside the loop).
    public init(_ values: UnsafeBufferPointer<UInt32>, layout: ValueLayout) {
        var counts = [Int](repeating: 0, count: layout.symbolCount)
        counts.withUnsafeMutableBufferPointer { c in
            switch layout.transform {
            case .identity: for v in values { c[Int(v)] &+= 1 }
            case .split:
                let shift = UInt32(layout.rawBits)
                for v in values { c[Int(v &>> shift)] &+= 1 }
            case .bf16Exponent: for v in values { c[Int((v &>> 7) & 0xFF)] &+= 1 }
            }
        }
        self.counts = counts
    }

    public static func + (a: Histogram, b: Histogram) -> Histogram {
        Histogram(counts: zip(a.counts, b.counts).map { $0 + $1 })
    }

    /// Shannon entropy in bits per symbol.
    public var entropy: Double {
        let n = Double(total)
        guard n > 0 else { return 0 }
        return counts.reduce(0.0) { h, c in c == 0 ? h : h - Double(c) / n * log2(Double(c) / n) }
    }

    /// KL divergence D(self || reference) in bits. The reference is smoothed by adding
    /// `smoothing` to every count (0.5: the Krichevsky-Trofimov estimate), so a symbol the
    /// reference never saw gives a large but finite divergence instead of infinity.
    public func divergence(from reference: Histogram, smoothing: Double = 0.5) -> Double {
        let n = Double(total)
        let m = Double(reference.total) + smoothing * Double(reference.counts.count)
        guard n > 0, m > 0 else { return 0 }
        var d = 0.0
        for (c, r) in zip(counts, reference.counts) where c > 0 {
            let q = (Double(r) + smoothing) / m
            guard q > 0 else { return .infinity }
            let p = Double(c) / n
            d += p * log2(p / q)
        }
        return d
    }
}

/// Splits values into shards (the paper's batches) and histograms each.
public struct ShardedHistogram: Sendable {
    public let shardSize: Int
    public let shards: [Histogram]
    /// The pooled histogram: the average of the shard histograms scaled by the values seen
    /// (equal to their plain average when all shards are full).
    public let pooled: Histogram

    public init(_ values: [UInt32], layout: ValueLayout, shardSize: Int) {
        self.shardSize = shardSize
        var shards: [Histogram] = []
        var start = 0
        while start < values.count {
            let end = min(values.count, start + shardSize)
            shards.append(Histogram(values[start..<end], layout: layout))
            start = end
        }
        self.shards = shards
        pooled = shards.reduce(Histogram(symbolCount: layout.symbolCount), +)
    }
}
