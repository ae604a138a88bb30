import Codec
import Foundation
import Training

/// Reference-coder speed on real bf16 tensors, one core: encode and decode in M values/s for
/// Huffman and tANS, against two baselines from the same run (a byte copy and a histogram pass).
func codecBench(dataDirectory: String?) throws {
    let dir = dataDirectory ?? "../shared/data"
    let path = dir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors"
    let values = try TensorValues.load(path: path, tensors: "layer\\.1\\..*pre_gelu").all
    let n = Double(values.count)
    print("codec: \(values.count) bf16 values (MiniLM layer 1 FFN1 pre-GELU), best of 15 runs")

    var sink: UInt64 = 0
    let copy = bestOf(15) { let c = values.withUnsafeBufferPointer { Array($0) }; sink &+= UInt64(c[c.count / 2]) }
    report("baseline: copy the values", String(format: "%8.1f M values/s", n / copy / 1e6))
    let layout = ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)
    let histogram = bestOf(15) { sink &+= UInt64(Histogram(values, layout: layout).counts[127]) }
    report("baseline: exponent histogram pass", String(format: "%8.1f M values/s", n / histogram / 1e6))

    for coder in [TrainingOptions.CoderKind.huffman, .tans] {
        let book = try Trainer.train(values, valueBits: 16, options: TrainingOptions(name: "bench", coder: coder)).best.codebook
        let codec = StreamCodec(codebook: book)
        var stream: [UInt8] = []
        let encode = try bestOf(15) { stream = try codec.encode(values, frameSize: 65536) }
        var decoded: DecodedStream? = nil
        let decode = try bestOf(15) { decoded = try codec.decode(stream) }
        guard decoded?.values == values else { throw TrainingError.invalidOption("\(coder) round trip failed in the benchmark") }
        let ratio = Double(values.count * 16) / Double(stream.count * 8)
        report("\(coder.rawValue) encode (ratio \(String(format: "%.3f", ratio)))",
               String(format: "%8.1f M values/s  (%.2f x histogram pass; target >= 200)", n / encode / 1e6, histogram / encode))
        report("\(coder.rawValue) decode",
               String(format: "%8.1f M values/s  (%.2f x histogram pass; target >= %d)", n / decode / 1e6, histogram / decode, coder == .huffman ? 300 : 250))
    }
    _ = sink
}
