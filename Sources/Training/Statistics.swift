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

    /// Counts the symbols of `values` under `layout` (the transform is resolved once, outside
    /// the loop). Values must fit the layout's value bits (the readers check that); a symbol is
    /// masked to symbolBits before it indexes the counts, so no value can reach outside them.
    public init(_ values: UnsafeBufferPointer<UInt32>, layout: ValueLayout) {
        var counts = [Int](repeating: 0, count: layout.symbolCount)
        let mask = UInt32(layout.symbolCount - 1)
        counts.withUnsafeMutableBufferPointer { c in
            switch layout.transform {
            case .identity: for v in values { c[Int(v & mask)] &+= 1 }
            case .split:
                let shift = UInt32(layout.rawBits)
                for v in values { c[Int((v &>> shift) & mask)] &+= 1 }
            case .bf16Exponent: for v in values { c[Int((v &>> 7) & 0xFF)] &+= 1 }
            }
        }
        self.counts = counts
    }

    /// Adds the symbols of `values` under `layout` (as `init(_:layout:)`).
    public mutating func add(_ values: UnsafeBufferPointer<UInt32>, layout: ValueLayout) {
        let more = Histogram(values, layout: layout)
        for i in counts.indices { counts[i] &+= more.counts[i] }
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

/// What training needs from its data: the pooled histogram of all values (the average of the
/// shard histograms scaled by the values seen) and how many shards of `shardSize` they make.
public struct PooledHistogram: Sendable, Equatable {
    public var histogram: Histogram
    public let shardSize: Int
    public var shardCount: Int { (histogram.total + shardSize - 1) / shardSize }

    public init(histogram: Histogram, shardSize: Int) {
        self.histogram = histogram
        self.shardSize = max(1, shardSize)
    }
}

/// Histograms of values streamed through in chunks, for several layouts at once.
///
/// For values of up to 16 bits it keeps one count per value, so every layout's histogram comes
/// from one pass (a split's symbol is a run of whole values); wider values are counted per layout.
public struct HistogramAccumulator: Sendable {
    public let valueBits: Int
    public let layouts: [ValueLayout]
    private var byValue: [Int]
    private var byLayout: [Histogram]
    public private(set) var count = 0

    public init(valueBits: Int, layouts: [ValueLayout]) {
        self.valueBits = valueBits
        self.layouts = layouts
        byValue = valueBits <= 16 ? [Int](repeating: 0, count: 1 << valueBits) : []
        byLayout = valueBits <= 16 ? [] : layouts.map { Histogram(symbolCount: $0.symbolCount) }
    }

    /// An accumulator holding counts per value (`byValue`, 2^valueBits of them, valueBits <= 16).
    public init(valueBits: Int, byValue: [Int], layouts: [ValueLayout]) {
        self.valueBits = valueBits
        self.layouts = layouts
        self.byValue = byValue
        byLayout = []
        count = byValue.reduce(0, +)
    }

    /// An accumulator holding one histogram per layout (values wider than 16 bits).
    public init(valueBits: Int, layouts: [ValueLayout], histograms: [Histogram], count: Int) {
        self.valueBits = valueBits
        self.layouts = layouts
        byValue = []
        byLayout = histograms
        self.count = count
    }

    /// What the accumulator counts: per value (one list) or per layout.
    public var rawCounts: [[Int]] { byValue.isEmpty ? byLayout.map(\.counts) : [byValue] }

    /// Adds `values`; a value wider than `valueBits` is an error naming its index in the stream.
    public mutating func add(_ values: [UInt32]) throws(StreamError) {
        if let bad = firstValueTooWide(values, valueBits: valueBits) {
            throw .valueTooWide(index: count + bad, value: values[bad], valueBits: valueBits)
        }
        values.withUnsafeBufferPointer { v in
            if byValue.isEmpty {
                for i in byLayout.indices { byLayout[i].add(v, layout: layouts[i]) }
            } else {
                let mask = UInt32(byValue.count - 1)
                byValue.withUnsafeMutableBufferPointer { c in for x in v { c[Int(x & mask)] &+= 1 } }
            }
        }
        count += values.count
    }

    /// The histogram of every value added so far under `layouts[index]`.
    public func histogram(_ index: Int) -> Histogram {
        guard !byValue.isEmpty else { return byLayout[index] }
        let layout = layouts[index]
        var counts = [Int](repeating: 0, count: layout.symbolCount)
        for (v, c) in byValue.enumerated() where c > 0 {
            counts[Int(layout.symbol(of: UInt32(v)))] += c
        }
        return Histogram(counts: counts)
    }
}
