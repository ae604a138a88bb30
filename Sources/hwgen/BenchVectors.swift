import ArgumentParser
import Codec
import FileIO
import Foundation
import Training

/// Writes the stimulus and expected output for the make-sim benches of a codebook's cores.
struct BenchVectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-vectors",
        abstract: "Encode values with the reference coder and write the decoder and encoder bench files.",
        discussion: """
            Writes, one beat per line as "<hex data> <tlast>": decoder_in.txt (stream words), \
            decoder_expected.txt (values), encoder_in.txt (values), encoder_expected.txt (stream words).
            """)

    @Option(help: "Codebook JSON.") var codebook: String
    @Option(help: "Values per frame.") var frameSize: Int = 4096
    @Option(help: "Regular expression selecting tensors of a .safetensors input.") var tensors: String?
    @Argument(help: "Input values (.safetensors or raw).") var input: String
    @Option(name: .shortAndLong, help: "Output folder.") var output: String

    func run() throws {
        let book = try Codebook.load(path: codebook)
        let values = try TensorValues.load(path: input, tensors: tensors, rawValueBits: book.layout.valueBits).all
        let codec = StreamCodec(codebook: book)
        let encoded = try codec.encodeFrames(values[...], frameSizes: try StreamCodec.frameSizes(count: values.count, frameSize: frameSize))
        let bytes = encoded.bytes.count
        let streamWords = encoded.words
        let valueLines = values.enumerated().map { i, v in
            "\(String(v, radix: 16)) \(i % frameSize == frameSize - 1 || i == values.count - 1 ? 1 : 0)"
        }
        let wordLines = streamWords.map { "\(String($0.word, radix: 16)) \($0.endsFrame ? 1 : 0)" }
        func text(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }
        _ = try OutputFolder.write([
            ("decoder_in.txt", text(wordLines.map { String($0.prefix(while: { $0 != " " })) + " 0" })),
            ("decoder_expected.txt", text(valueLines)),
            ("encoder_in.txt", text(valueLines)),
            ("encoder_expected.txt", text(wordLines)),
        ], into: output, inputs: [input, codebook])
        let ratio = Double(values.count * book.layout.valueBits) / Double(bytes * 8)
        print(String(format: "%d values in %d frame(s) of up to %d -> %d stream words; %.4f bits/value, compression ratio %.3f",
                     values.count, (values.count + frameSize - 1) / frameSize, frameSize, streamWords.count,
                     Double(bytes * 8) / Double(values.count), ratio))
    }
}
