import Codec
import Testing
import Training

/// The C inner loops of one-lane tANS (`CCodecKernels`) on real bf16 activations with a book
/// trained on them: the same bytes and values as the Swift loops.
@Suite("C inner loops on real data")
struct RealDataKernelTests {
    @Test("MiniLM layer-1 FFN1 activations, a trained tANS book, frames of 20,000: encoded four at a time in C as in Swift, decoded four at a time to the values")
    func tansOnActivations() throws {
        let all = try TensorValues.load(path: try RealData.activationsPath(), tensors: "layer\\.1\\..*pre_gelu").all
        let values = Array(all.prefix(5 * 20_000))
        let book = try Trainer.train(values, valueBits: 16, options: TrainingOptions(name: "kernel", coder: .tans)).best.codebook
        let codec = StreamCodec(codebook: book)
        let sizes = [20_000, 20_000, 20_000, 20_000, 20_000]
        let fast = try codec.encodeFrames(values[...], frameSizes: sizes)
        let swift = try codec.encodeFrames(values[...], frameSizes: sizes, loop: .swift)
        #expect(fast.bytes == swift.bytes)
        var byte = 0
        var frames: [(words: PaddedStream, valueCount: Int)] = []
        for (f, size) in sizes.enumerated() {
            frames.append((PaddedStream(Array(fast.bytes[byte..<fast.frameEnds[f]])), size))
            byte = fast.frameEnds[f]
        }
        let decoded = try codec.decodeStoredFrames(frames).map { try $0.get() }
        #expect(decoded.flatMap { $0 } == values)
        #expect(try codec.decodeStoredFrames(frames, loop: .swift).map { try $0.get() } == decoded)
    }
}
