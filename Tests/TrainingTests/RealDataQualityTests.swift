import Codec
import Foundation
import Testing
import TestSupport
import Training

/// The single-stage claims, measured on real MiniLM tensors: a fixed codebook trained on some
/// shards of a tensor codes the other shards of it almost as well as per-shard optimal codes.
@Suite("Codebook quality on real all-MiniLM-L6-v2 tensors")
struct RealDataQualityTests {
    static let tensors = [
        "encoder.layer.1.intermediate.dense.pre_gelu", "encoder.layer.1.intermediate.dense.post_gelu",
        "encoder.layer.4.intermediate.dense.pre_gelu", "encoder.layer.4.intermediate.dense.post_gelu",
    ]

    /// Values of one activation tensor, split into training shards (even) and held-out shards (odd).
    static func split(_ tensor: String, shardSize: Int) throws -> (train: [UInt32], test: [UInt32]) {
        let data = try TensorValues.load(path: try RealData.activationsPath(), tensors: "^" + tensor.replacingOccurrences(of: ".", with: "\\.") + "$")
        let values = data.all
        var train: [UInt32] = [], test: [UInt32] = []
        var start = 0, index = 0
        while start < values.count {
            let end = min(values.count, start + shardSize)
            if index % 2 == 0 { train += values[start..<end] } else { test += values[start..<end] }
            start = end
            index += 1
        }
        return (train, test)
    }

    @Test("fixed Huffman codebook within 0.1% of per-shard optimal Huffman on held-out shards", arguments: tensors)
    func huffmanSingleStage(tensor: String) throws {
        let shardSize = 65536
        let (train, test) = try Self.split(tensor, shardSize: shardSize)
        let book = try Trainer.train(train, valueBits: 16, options: TrainingOptions(name: "t", coder: .huffman)).best.codebook
        let rows = try Analyzer.analyze(TensorValues(parts: [.init(name: tensor, values: test)], valueBits: 16), codebook: book, shardSize: shardSize)
        guard let total = rows.last else { Issue.record("no rows"); return }
        #expect(total.gapToOptimalHuffmanPercent < 0.1, "gap \(total.gapToOptimalHuffmanPercent)%")
        #expect(total.compressionRatio > 1.45)
    }

    @Test("tANS codebook within 0.3% of the Shannon entropy of the coded symbols", arguments: tensors)
    func tansNearEntropy(tensor: String) throws {
        let shardSize = 65536
        let (train, test) = try Self.split(tensor, shardSize: shardSize)
        let book = try Trainer.train(train, valueBits: 16, options: TrainingOptions(name: "t", coder: .tans, tableLog: 11)).best.codebook
        // Symbol bits actually written on the held-out shards (frames of shardSize values):
        // the stream minus the raw bits. The bound is the entropy of the held-out symbols.
        let stream = try StreamCodec(codebook: book).encode(test, frameSize: shardSize)
        let symbolBits = Double(stream.count * 8 - test.count * book.layout.rawBits)
        let histogram = Histogram(test, layout: book.layout)
        let entropyBits = histogram.entropy * Double(histogram.total)
        let gap = (symbolBits - entropyBits) / entropyBits * 100
        #expect(gap < 0.3, "tANS symbol bits \(symbolBits) vs entropy \(entropyBits): gap \(gap)%")
    }
}
