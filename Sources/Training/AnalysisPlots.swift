import Codec
import Foundation

/// The pictures of `hwgen analyze --svg DIR`: how a codebook fits the data.
public enum AnalysisPlots {
    /// SVG files by name:
    /// - `symbols.svg`: per symbol, log2 of its probability in `sample` (bars) against the
    ///   probability the codebook implies (points: 2^-length for Huffman, count/T for tANS, an
    ///   escaped symbol's by the ESC entry and its literal bits);
    /// - `code.svg`: the code length (Huffman) or count (tANS) per symbol, escaped ones left out;
    /// - `kl.svg` and `ratio.svg`: per shard of `rows`, in order, the KL divergence from the
    ///   training histogram (when the codebook carries one) and the compression ratio.
    public static func files(codebook: Codebook, sample: [UInt32], rows: [AnalysisRow]) -> [(name: String, text: String)] {
        let layout = codebook.layout
        let n = layout.symbolCount
        var counts = [Int](repeating: 0, count: n)
        for v in sample { counts[Int(layout.symbol(of: v))] += 1 }
        let total = Double(max(1, sample.count))
        let dataPoints = counts.enumerated().filter { $0.element > 0 }.map { (x: $0.offset, y: log2(Double($0.element) / total)) }

        var implied: [(x: Int, y: Double)] = []
        var code: [(x: Int, y: Double)] = []
        let codeLabel: String
        switch codebook.coder {
        case .huffman(let lengths):
            codeLabel = "code length (bits)"
            for s in 0..<n {
                if lengths[s] > 0 {
                    implied.append((s, -Double(lengths[s])))
                    code.append((s, Double(lengths[s])))
                } else if counts[s] > 0, lengths[n] > 0 {
                    implied.append((s, -Double(lengths[n] + layout.symbolBits)))
                }
            }
        case .tans(let tableLog, let tableCounts):
            codeLabel = "count (of 2^\(tableLog))"
            let size = Double(1 << tableLog)
            for s in 0..<n {
                if tableCounts[s] > 0 {
                    implied.append((s, log2(Double(tableCounts[s]) / size)))
                    code.append((s, Double(tableCounts[s])))
                } else if counts[s] > 0, tableCounts[n] > 0 {
                    implied.append((s, log2(Double(tableCounts[n]) / size) - Double(layout.symbolBits)))
                }
            }
        }
        var symbols = SVGChart(title: "\(codebook.name): symbol probabilities, data (\(sample.count) values) against the codebook",
                               xLabel: "symbol", yLabel: "log2 probability")
        symbols.series = [SVGChart.Series("data", color: "#4878a8", style: .bars, points: dataPoints),
                          SVGChart.Series("implied by the codebook", color: "#d04a02", style: .points, points: implied)]
        var lengths = SVGChart(title: "\(codebook.name): \(codebook.coder.name) \(codeLabel) per symbol", xLabel: "symbol", yLabel: codeLabel)
        lengths.series = [SVGChart.Series(codeLabel, color: "#4878a8", style: .bars, points: code)]

        let shards = rows.filter { $0.shard != nil }
        var kl = SVGChart(title: "\(codebook.name): KL divergence of each shard from the training histogram", xLabel: "shard (in input order)", yLabel: "bits")
        kl.series = [SVGChart.Series("KL divergence", color: "#4878a8", style: .line,
                                     points: shards.enumerated().compactMap { i, r in r.divergenceFromTraining.map { (i, $0) } })]
        var ratio = SVGChart(title: "\(codebook.name): compression ratio of each shard", xLabel: "shard (in input order)", yLabel: "ratio")
        ratio.series = [SVGChart.Series("codebook", color: "#4878a8", style: .line, points: shards.enumerated().map { ($0.offset, $0.element.compressionRatio) }),
                        SVGChart.Series("optimal per-shard Huffman", color: "#d04a02", style: .line,
                                        points: shards.enumerated().map { ($0.offset, Double(layout.valueBits) / $0.element.optimalHuffmanBitsPerValue) })]
        return [("symbols.svg", symbols.text), ("code.svg", lengths.text), ("kl.svg", kl.text), ("ratio.svg", ratio.text)]
    }
}
