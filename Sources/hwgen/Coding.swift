import ArgumentParser
import Codec
import Foundation
import Training

extension Transform: ExpressibleByArgument {}

/// `--transform`: a transform or `auto`.
enum TransformArgument: String, ExpressibleByArgument, CaseIterable {
    case bf16Exponent = "bf16-exponent", split, identity, auto
}

extension TrainingOptions.CoderKind: ExpressibleByArgument {}

/// Writes progress to standard error, so standard output stays for results.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func writeFile(_ bytes: [UInt8], to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw CodecIOError.unwritable(path: path, reason: "could not create the file")
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a fixed codebook from tensors (the single-stage method: the average histogram of earlier data).")

    @Option(help: "huffman or tans.") var coder: TrainingOptions.CoderKind
    @Option(help: "bf16-exponent, split, identity, or auto (the smallest coded size).") var transform: TransformArgument = .bf16Exponent
    @Option(help: "Symbol bits for split (default: up to 12).") var symbolBits: Int?
    @Option(help: "Longest Huffman code.") var maxCodeLength: Int = 12
    @Option(help: "tANS table size, log2.") var tableLog: Int = 11
    @Option(help: "Regular expression selecting tensors of .safetensors inputs.") var tensors: String?
    @Option(help: "Values per shard (histograms are per shard).") var shardSize: Int = 65536
    @Option(help: "Bits per value of raw (non-safetensors) inputs.") var valueBits: Int = 16
    @Flag(help: "Round F32 tensors to bf16 (round to nearest even).") var roundF32 = false
    @Option(help: "Codebook name: the generated modules are <name>_decoder and <name>_encoder.") var name: String
    @Option(name: .shortAndLong, help: "Output codebook JSON.") var output: String
    @Argument(help: "Training inputs (.safetensors or raw little-endian values).") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one input file") }
        guard name.first.map({ $0.isLetter || $0 == "_" }) == true,
              name.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }) else {
            throw ValidationError("codebook: 'name': '\(name)' must match [A-Za-z_][A-Za-z0-9_]*")
        }
    }

    func run() throws {
        var values: [UInt32] = []
        var bits: Int?
        for file in files {
            let data = try TensorValues.load(path: file, tensors: tensors, roundF32ToBF16: roundF32, rawValueBits: valueBits)
            if let bits, bits != data.valueBits {
                throw TrainingError.invalidOption("\(file) has \(data.valueBits)-bit values, earlier inputs \(bits)-bit")
            }
            bits = data.valueBits
            progress("read \(file): \(data.parts.count) tensor(s), \(data.count) values of \(data.valueBits) bits")
            values.append(contentsOf: data.all)
        }
        let choice: TrainingOptions.TransformChoice
        switch transform {
        case .auto: choice = .auto
        case .bf16Exponent: choice = .fixed(.bf16Exponent, symbolBits: nil)
        case .split: choice = .fixed(.split, symbolBits: symbolBits)
        case .identity: choice = .fixed(.identity, symbolBits: nil)
        }
        let options = TrainingOptions(name: name, coder: coder, transform: choice, maxCodeLength: maxCodeLength,
                                      tableLog: tableLog, shardSize: shardSize)
        let result = try Trainer.train(values, valueBits: bits ?? valueBits, options: options)
        for c in result.candidates where result.candidates.count > 1 {
            progress(String(format: "  %@ symbolBits %2d: %.4f bits/value (entropy bound %.4f), ratio %.3f",
                            c.codebook.layout.transform.rawValue, c.codebook.layout.symbolBits, c.bitsPerValue,
                            c.entropyBitsPerValue, Double(bits ?? 16) / c.bitsPerValue))
        }
        let best = result.best
        try writeFile(Array(best.codebook.jsonText().utf8), to: output)
        print(String(format: "wrote %@: %@ %@ symbolBits %d, %.4f bits/value on %d training values (entropy bound %.4f), ratio %.3f",
                     output, best.codebook.coder.name, best.codebook.layout.transform.rawValue, best.codebook.layout.symbolBits,
                     best.bitsPerValue, best.values, best.entropyBitsPerValue, Double(bits ?? 16) / best.bitsPerValue))
    }
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a fixed codebook with per-shard optimal Huffman codes and the entropy, per tensor and shard.")

    @Option(help: "Codebook JSON.") var codebook: String
    @Option(help: "Values per shard.") var shardSize: Int = 65536
    @Option(help: "Regular expression selecting tensors of .safetensors inputs.") var tensors: String?
    @Flag(help: "Round F32 tensors to bf16.") var roundF32 = false
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Print tensor totals only, not every shard.") var totals = false
    @Argument(help: "Inputs (.safetensors or raw values).") var files: [String]

    func run() throws {
        let book = try Codebook.load(path: codebook)
        var rows: [AnalysisRow] = []
        for file in files {
            let data = try TensorValues.load(path: file, tensors: tensors, roundF32ToBF16: roundF32, rawValueBits: book.layout.valueBits)
            rows += try Analyzer.analyze(data, codebook: book, shardSize: shardSize)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("codebook \(book.name): \(book.coder.name), \(book.layout.transform.rawValue), symbolBits \(book.layout.symbolBits), rawBits \(book.layout.rawBits)")
        print("bits per value: entropy = Shannon bound of the symbols + raw bits; optimal = a Huffman code built for that shard alone")
        print("tensor".padding(toLength: 52, withPad: " ", startingAt: 0) + "  shard    values  entropy  optimal  codebook  KL(bits)  gap-opt%  gap-H%   ratio")
        for row in rows where !totals || row.shard == nil {
            let name = row.tensor.count > 52 ? "..." + row.tensor.suffix(49) : row.tensor
            print(name.padding(toLength: 52, withPad: " ", startingAt: 0)
                  + String(format: "  %5@ %9d  %7.4f  %7.4f  %8.4f  %8@  %8.3f  %6.3f  %6.3f",
                           row.shard.map { "\($0)" } ?? "total", row.values, row.entropyBitsPerValue,
                           row.optimalHuffmanBitsPerValue, row.codebookBitsPerValue,
                           row.divergenceFromTraining.map { String(format: "%.5f", $0) } ?? "-",
                           row.gapToOptimalHuffmanPercent, row.gapToEntropyPercent, row.compressionRatio))
        }
    }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compress values with a codebook into a .hwgs stream.")

    @Option(help: "Codebook JSON.") var codebook: String
    @Option(help: "Values per frame (the last may be shorter).") var frameSize: Int = 65536
    @Option(help: "Regular expression selecting tensors of a .safetensors input.") var tensors: String?
    @Flag(help: "Round F32 tensors to bf16.") var roundF32 = false
    @Argument(help: "Input: .safetensors, or raw little-endian values (1, 2 or 4 bytes each, by valueBits).") var input: String
    @Option(name: .shortAndLong, help: "Output stream.") var output: String

    func run() throws {
        let book = try Codebook.load(path: codebook)
        let data = try TensorValues.load(path: input, tensors: tensors, roundF32ToBF16: roundF32, rawValueBits: book.layout.valueBits)
        guard data.valueBits <= book.layout.valueBits else {
            throw TrainingError.invalidOption("\(input) has \(data.valueBits)-bit values; the codebook codes \(book.layout.valueBits)-bit values")
        }
        let values = data.all
        let stream = try StreamCodec(codebook: book).encode(values, frameSize: frameSize)
        try writeFile(stream, to: output)
        let inBits = Double(values.count * book.layout.valueBits)
        print(String(format: "%d values -> %d bytes (%.4f bits/value, ratio %.3f)", values.count, stream.count,
                     Double(stream.count * 8) / Double(max(1, values.count)), inBits / Double(max(1, stream.count * 8))))
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decompress a .hwgs stream into raw little-endian values.")

    @Option(help: "Codebook JSON.") var codebook: String
    @Argument(help: "Input stream (.hwgs).") var input: String
    @Option(name: .shortAndLong, help: "Output raw values (1, 2 or 4 bytes each, by valueBits).") var output: String

    func run() throws {
        let book = try Codebook.load(path: codebook)
        guard let data = FileManager.default.contents(atPath: input) else { throw CodecIOError.unreadable(path: input) }
        let decoded = try StreamCodec(codebook: book).decode(Array(data))
        try writeFile(RawValues.encode(decoded.values, valueBits: book.layout.valueBits), to: output)
        print("\(decoded.values.count) values in \(decoded.frameSizes.count) frame(s)")
    }
}
