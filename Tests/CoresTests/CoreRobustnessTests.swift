import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import Training
import VerilatorBridge

@Suite("Cores: reset mid-frame, real tensors")
struct CoreRobustnessTests {
    @Test("reset in the middle of a frame: both cores then code the next stream exactly")
    func resetMidFrame() throws {
        let decoders = try DecoderLibrary.library.get(), encoders = try EncoderLibrary.library.get()
        for (d, e) in zip(try DecoderLibrary.cases.get(), try EncoderLibrary.cases.get()).prefix(13) {
            let dsim = try decoders.simulation(of: d.module.name)
            dsim.reset()
            var partial = StreamJob(input: CoreHarness.words(d.stream))
            partial.maxCycles = UInt64(max(2, d.stream.count / 8))  // stop part-way through
            partial.readyPerMille = 500
            _ = try dsim.stream(partial)
            dsim.reset()
            let again = try dsim.stream(StreamJob(input: CoreHarness.words(d.stream), expectedOutputs: d.values.count))
            #expect(again.outputs == d.values.map(UInt64.init), "\(d.module.name)")
            #expect(again.outputLast == d.last)

            let esim = try encoders.simulation(of: e.module.name)
            esim.reset()
            var half = StreamJob(input: e.values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: e.frameSizes))
            half.maxCycles = UInt64(max(2, e.values.count / 3))
            half.readyPerMille = 400
            _ = try esim.stream(half)
            esim.reset()
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: e.codebook), e.values, frameSizes: e.codedFrames)
            let encoded = try esim.stream(StreamJob(input: e.values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: e.frameSizes),
                                                    expectedOutputs: expected.words.count))
            #expect(encoded.outputs == expected.words, "\(e.module.name)")
            #expect(encoded.outputLast == expected.last)
        }
    }

    @Test("real MiniLM activations through the example codebooks' decoders and encoders (Huffman and tANS), bit-exact")
    func realTensors() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let books = try ["minilm_ffn1_huffman.json", "minilm_ffn1_tans.json"].map {
            try Codebook.load(path: root.appendingPathComponent("examples/\($0)").path)
        }
        let dataDir = ProcessInfo.processInfo.environment["HWGEN_DATA"] ?? root.deletingLastPathComponent().appendingPathComponent("shared/data").path
        let path = dataDir + "/minilm_ffn1_acts_layers_1_4.bf16.safetensors"
        #expect(FileManager.default.fileExists(atPath: path), "real data missing at \(path): clone next to shared/ or set HWGEN_DATA")
        // Layer 4 post-GELU: another tensor than the codebooks were trained on, so escapes occur.
        let all = try TensorValues.load(path: path, tensors: "layer\\.4\\..*post_gelu").all
        let values = Array(all.prefix(TestScale.pick(quick: 100_000, long: all.count)))
        var random = SeededRandom(seed: 99)
        let frames = CoreHarness.randomFrames(values.count, maxFrame: 4096, random: &random)
        let library = try SimulationBuilder().build(try books.flatMap { try CoreGenerator.modules(for: $0) })
        for book in books {
            let codec = StreamCodec(codebook: book)
            let stream = try codec.encode(values, frameSizes: frames)
            let decoder = try library.simulation(of: "\(book.name)_decoder")
            decoder.reset()
            var job = StreamJob(input: CoreHarness.words(stream), expectedOutputs: values.count)
            job.readyPerMille = 900
            job.stopPort = "error"
            let decoded = try decoder.stream(job)
            #expect(decoded.outputs == values.map(UInt64.init), "\(book.name)")
            #expect(decoded.outputLast == CoreHarness.lastFlags(frameSizes: frames))
            let encoder = try library.simulation(of: "\(book.name)_encoder")
            encoder.reset()
            let expected = try CoreHarness.referenceWords(codec, values, frameSizes: frames)
            let encoded = try encoder.stream(StreamJob(input: values.map(UInt64.init), inputLast: CoreHarness.lastFlags(frameSizes: frames),
                                                       expectedOutputs: expected.words.count))
            #expect(encoded.outputs == expected.words, "\(book.name)")
            #expect(encoded.outputLast == expected.last)
        }
    }
}
