import Codec
import Foundation

/// The paper's comparison for one group of values (a shard, a tensor, or everything).
public struct AnalysisRow: Sendable, Codable, Equatable {
    /// The input file the row's values came from (set by the caller that read it; nil for rows
    /// over several files).
    public var file: String? = nil
    public let tensor: String
    /// Shard index within the tensor, or nil for a tensor's or the grand total.
    public let shard: Int?
    public let values: Int
    /// Shannon entropy of the symbols plus the raw bits, per value: the bound for this layout.
    public let entropyBitsPerValue: Double
    /// An optimal Huffman code (lengths up to 16) built for this group alone, plus raw bits.
    public let optimalHuffmanBitsPerValue: Double
    /// The fixed codebook's real coded size per value (frames of the shard size, EOF and padding included).
    public let codebookBitsPerValue: Double
    /// KL divergence of this group's symbols from the training average (bits; the average is
    /// smoothed by half a count per symbol), when the codebook carries its training histogram.
    public let divergenceFromTraining: Double?
    /// (codebook - optimal Huffman) / optimal Huffman, in percent.
    public let gapToOptimalHuffmanPercent: Double
    /// (codebook - entropy) / entropy, in percent.
    public let gapToEntropyPercent: Double
    /// valueBits / codebook bits per value.
    public let compressionRatio: Double
}

/// Measures how a fixed codebook does on data, shard by shard, against per-shard optimal codes.
public enum Analyzer {
    /// The rows for values held in memory.
    public static func analyze(_ data: TensorValues, codebook: Codebook, shardSize: Int) throws -> [AnalysisRow] {
        var accumulator = try AnalysisAccumulator(codebook: codebook, valueBits: data.valueBits, shardSize: shardSize)
        for part in data.parts { try accumulator.add(part: part.name, part.values) }
        return try accumulator.finish()
    }

    /// The rows for an input streamed through in chunks (memory: one shard), and its first
    /// `sampleSize` values (for `LaneCost.table`).
    public static func analyze(_ input: TensorInput, codebook: Codebook, shardSize: Int, sampleSize: Int = 0) throws -> (rows: [AnalysisRow], sample: [UInt32]) {
        var accumulator = try AnalysisAccumulator(codebook: codebook, valueBits: input.valueBits, shardSize: shardSize)
        var sample: [UInt32] = []
        try input.forEachChunk { part, values in
            if sample.count < sampleSize { sample += values.prefix(sampleSize - sample.count) }
            try accumulator.add(part: input.parts[part].name, values)
        }
        return (try accumulator.finish(), sample)
    }

    /// The training histogram stored in the codebook's provenance by `hwgen train`, if any.
    static func trainingHistogram(_ codebook: Codebook) -> Histogram? {
        guard case .object(let members)? = codebook.provenance,
              case .array(let items)? = members.first(where: { $0.key == "trainingHistogram" })?.value,
              items.count == codebook.symbolCount else { return nil }
        let counts = items.compactMap { item -> Int? in
            if case .number(_, let n?) = item { return Int(n) } else { return nil }
        }
        return counts.count == items.count ? Histogram(counts: counts) : nil
    }

    /// Bits of an optimal Huffman code (up to 16 bits) for `histogram` alone, EOF included.
    static func optimalHuffmanBits(_ histogram: Histogram) -> Double {
        let weights = histogram.counts + [1]
        var lengths = LengthLimitedHuffman.lengths(weights: weights, maxLength: 16)
        if weights.filter({ $0 > 0 }).count == 1 { lengths = lengths.map { $0 == 0 ? 0 : 1 } }
        return Double(LengthLimitedHuffman.cost(weights: weights, lengths: lengths))
    }

    /// Sums over shards: entropy and optimal code are per shard (each shard coded on its own).
    struct Accumulator {
        var values = 0
        var entropyBits = 0.0
        var optimalBits = 0.0
        var codedBits = 0.0
        var histogram: Histogram? = nil

        init() {}

        init(histogram: Histogram, codedBits: Double, layout: ValueLayout) {
            values = histogram.total
            entropyBits = histogram.entropy * Double(values) + Double(values * layout.rawBits)
            optimalBits = Analyzer.optimalHuffmanBits(histogram) + Double(values * layout.rawBits)
            self.codedBits = codedBits
            self.histogram = histogram
        }

        mutating func add(_ other: Accumulator) {
            values += other.values
            entropyBits += other.entropyBits
            optimalBits += other.optimalBits
            codedBits += other.codedBits
            if let h = other.histogram { histogram = histogram.map { $0 + h } ?? h }
        }

        func row(name: String, shard: Int?, layout: ValueLayout, training: Histogram?, valueBits: Int) -> AnalysisRow {
            let n = Double(max(1, values))
            let coded = codedBits / n, optimal = optimalBits / n, entropy = entropyBits / n
            return AnalysisRow(
                tensor: name, shard: shard, values: values, entropyBitsPerValue: entropy,
                optimalHuffmanBitsPerValue: optimal, codebookBitsPerValue: coded,
                divergenceFromTraining: training.flatMap { t in histogram.map { $0.divergence(from: t) } },
                gapToOptimalHuffmanPercent: (coded - optimal) / optimal * 100,
                gapToEntropyPercent: (coded - entropy) / entropy * 100,
                compressionRatio: Double(valueBits) / coded)
        }
    }
}

/// Builds the analysis rows from values handed over in chunks: a row per shard, one per part
/// (tensor) and, for several parts, one for all of them. Holds one shard of values at a time.
public struct AnalysisAccumulator {
    private let codec: StreamCodec
    private let layout: ValueLayout
    private let valueBits: Int
    private let shardSize: Int
    private let training: Histogram?
    private var rows: [AnalysisRow] = []
    private var grand = Analyzer.Accumulator()
    private var parts = 0
    private var currentPart: String?
    private var tensor = Analyzer.Accumulator()
    private var shard: [UInt32] = []
    private var shardIndex = 0

    public init(codebook: Codebook, valueBits: Int, shardSize: Int) throws {
        layout = codebook.layout
        guard valueBits == layout.valueBits else {
            throw TrainingError.invalidOption("the data has \(valueBits)-bit values but the codebook codes \(layout.valueBits)-bit values")
        }
        guard shardSize > 0, shardSize <= StreamLimits.maxFrameValues else {
            throw TrainingError.invalidOption("--shard-size must be 1 to \(StreamLimits.maxFrameValues), is \(shardSize)")
        }
        codec = StreamCodec(codebook: codebook)
        self.valueBits = valueBits
        self.shardSize = shardSize
        training = Analyzer.trainingHistogram(codebook)
    }

    /// Adds values of the part named `part` (a new name ends the part before).
    public mutating func add(part: String, _ values: [UInt32]) throws {
        if currentPart != part {
            try endPart()
            currentPart = part
        }
        var start = 0
        while start < values.count {
            let take = min(values.count - start, shardSize - shard.count)
            shard.append(contentsOf: values[start..<(start + take)])
            start += take
            if shard.count == shardSize { try endShard() }
        }
    }

    /// Every row, in order.
    public mutating func finish() throws -> [AnalysisRow] {
        try endPart()
        if parts > 1 {
            rows.append(grand.row(name: "(all)", shard: nil, layout: layout, training: training, valueBits: valueBits))
        }
        return rows
    }

    private mutating func endShard() throws {
        guard !shard.isEmpty, let name = currentPart else { return }
        let histogram = Histogram(shard, layout: layout)
        let codedBits = Double(try codec.encode(shard, frameSizes: [shard.count]).count * 8)
        let row = Analyzer.Accumulator(histogram: histogram, codedBits: codedBits, layout: layout)
        rows.append(row.row(name: name, shard: shardIndex, layout: layout, training: training, valueBits: valueBits))
        tensor.add(row)
        shardIndex += 1
        shard.removeAll(keepingCapacity: true)
    }

    private mutating func endPart() throws {
        guard let name = currentPart else { return }
        try endShard()
        rows.append(tensor.row(name: name, shard: nil, layout: layout, training: training, valueBits: valueBits))
        grand.add(tensor)
        tensor = Analyzer.Accumulator()
        shardIndex = 0
        parts += 1
        currentPart = nil
    }
}

/// What lanes cost: bits per value, the lanes' padding and tANS initial states included, for
/// several lane counts and frame sizes, measured by coding values for real.
public struct LaneCost: Sendable, Codable, Equatable {
    public let lanes: Int
    public let frameSize: Int
    public let bitsPerValue: Double
    public let values: Int

    /// The lane counts and frame sizes the table shows.
    public static let laneCounts = [1, 2, 4, 8, 16, 32]
    public static let frameSizes = [1024, 4096, 65536]

    /// The cost of `codebook`'s code with each lane count and frame size, on `values`.
    public static func table(_ codebook: Codebook, values: [UInt32], lanes: [Int] = laneCounts, frameSizes: [Int] = frameSizes) throws -> [LaneCost] {
        guard !values.isEmpty else { return [] }
        var costs: [LaneCost] = []
        for frameSize in frameSizes {
            for k in lanes {
                var book = codebook
                book.lanes = k
                let bytes = try StreamCodec(codebook: book).encode(values, frameSize: frameSize).count
                costs.append(LaneCost(lanes: k, frameSize: frameSize, bitsPerValue: Double(bytes * 8) / Double(values.count), values: values.count))
            }
        }
        return costs
    }
}
