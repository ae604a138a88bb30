import Codec
import Foundation

/// The paper's comparison for one group of values (a shard, a tensor, or everything).
public struct AnalysisRow: Sendable, Codable, Equatable {
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
    public static func analyze(_ data: TensorValues, codebook: Codebook, shardSize: Int) throws -> [AnalysisRow] {
        let layout = codebook.layout
        guard data.valueBits == layout.valueBits else {
            throw TrainingError.invalidOption("the data has \(data.valueBits)-bit values but the codebook codes \(layout.valueBits)-bit values")
        }
        guard shardSize > 0 else { throw TrainingError.invalidOption("--shard-size must be positive") }
        let codec = StreamCodec(codebook: codebook)
        let training = trainingHistogram(codebook)
        var rows: [AnalysisRow] = []
        var grand = Accumulator()
        for part in data.parts {
            var tensor = Accumulator()
            var start = 0
            var index = 0
            while start < part.values.count {
                let end = min(part.values.count, start + shardSize)
                let slice = Array(part.values[start..<end])
                let histogram = Histogram(slice, layout: layout)
                let codedBits = Double(try codec.encode(slice, frameSizes: [slice.count]).count * 8)
                let shard = Accumulator(histogram: histogram, codedBits: codedBits, layout: layout)
                rows.append(shard.row(name: part.name, shard: index, layout: layout, training: training, valueBits: data.valueBits))
                tensor.add(shard)
                start = end
                index += 1
            }
            rows.append(tensor.row(name: part.name, shard: nil, layout: layout, training: training, valueBits: data.valueBits))
            grand.add(tensor)
        }
        if data.parts.count > 1 {
            rows.append(grand.row(name: "(all)", shard: nil, layout: layout, training: training, valueBits: data.valueBits))
        }
        return rows
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
