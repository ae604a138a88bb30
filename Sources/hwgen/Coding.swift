import ArgumentParser
import Codec
import Cores
import FileIO
import Foundation
import Training

extension Transform: ExpressibleByArgument {}

/// `--transform`: a transform or `auto`.
enum TransformArgument: String, ExpressibleByArgument, CaseIterable {
    case bf16Exponent = "bf16-exponent", split, identity, auto
}

extension TrainingOptions.CoderKind: ExpressibleByArgument {}
extension CoreRequest.Role: ExpressibleByArgument {}

/// Writes progress to standard error, so standard output stays for results.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Writes a whole small output (a codebook, a report) through `OutputFile`.
func writeOutput(_ bytes: [UInt8], to path: String, inputs: [String]) throws {
    let file = try OutputFile.open(path, inputs: inputs)
    try file.write(bytes)
    try file.commit()
}

/// Options every command that reads tensors or raw values shares.
struct ValueInputOptions: ParsableArguments {
    @Option(help: "Regular expression selecting tensors of .safetensors inputs.") var tensors: String?
    @Flag(help: "Round F32 tensors to bf16 (round to nearest even): LOSSY, the decoded values are the rounded ones.") var roundF32 = false
    @Flag(help: ArgumentHelp(
        "Raw inputs: keep only the low value bits of each value.",
        discussion: "Without it, a raw value that does not fit the value bits is an error naming the value and its byte offset."))
    var maskValues = false
    @Flag(help: "Read every input as raw values, even one whose name or first bytes say it is another format (.pt, .onnx, .json, a pickle, ...).")
    var raw = false
    @Flag(name: .customLong("mix-dtypes"), help: "Accept safetensors inputs of different dtypes of the same width (for example BF16 and F16) together.")
    var mixDTypes = false

    func open(_ path: String, valueBits: Int) throws -> TensorInput {
        try TensorInput.open(path: path, tensors: tensors, roundF32ToBF16: roundF32,
                             raw: RawInputOptions(valueBits: valueBits, maskWideValues: maskValues, forceRaw: raw))
    }

    /// Opens every input's header (a bad one fails before any reading) and closes it again (a
    /// model of thousands of files must not hold thousands open); returns their common width,
    /// `expected` if given (else the first file's; raw inputs read at `rawValueBits`), and the
    /// dtype of the safetensors inputs. Inputs of different dtypes (BF16 and F16 have the same
    /// width but code differently) are an error unless `--mix-dtypes`.
    func commonInput(_ files: [String], rawValueBits: Int, expected: Int? = nil) throws -> (valueBits: Int, dtype: TensorDType?) {
        var bits = expected
        var dtype: (TensorDType, String)? = nil
        for file in files where file != "-" {
            let input = try open(file, valueBits: rawValueBits)
            if let d = input.dtype {
                if let (known, first) = dtype, known != d, !mixDTypes {
                    throw TrainingError.invalidOption("\(file) holds \(d.rawValue) tensors, \(first) \(known.rawValue): give inputs of one dtype, or --mix-dtypes")
                }
                if dtype == nil { dtype = (d, file) }
            }
            let width = input.valueBits
            guard let known = bits else { bits = width; continue }
            guard width == known else {
                throw TrainingError.invalidOption("\(file) has \(width)-bit values\(input.dtype.map { " (\($0.rawValue))" } ?? ""), "
                                                  + (expected == nil ? "the inputs before it \(known)-bit" : "the codebook codes \(known)-bit values"))
            }
        }
        return (bits ?? rawValueBits, dtype?.0)
    }
}

extension ValueInputOptions {
    /// The name recorded for the dtype of the inputs: F32 that `--round-f32` rounds says so.
    func dtypeName(_ dtype: TensorDType?) -> String? {
        dtype.map { roundF32 && $0 == .f32 ? TrainingOptions.roundedF32DType : $0.rawValue }
    }

    /// Reads every input into `statistics`, naming each file as it is read.
    func add(_ files: [String], valueBits: Int, expectedBits bits: Int, to statistics: inout HistogramAccumulator) throws {
        for file in files {
            let data = try open(file, valueBits: valueBits)
            guard data.valueBits == bits else {  // standard input is read here only
                throw TrainingError.invalidOption("\(file) has \(data.valueBits)-bit values, the other inputs \(bits)-bit")
            }
            let before = statistics.count
            do {
                try data.forEachChunk { _, values in try statistics.add(values) }
            } catch let StreamError.valueTooWide(index, value, valueBits) {
                throw TrainingError.invalidOption("\(file): value \(value) (value \(index - before) of the file) does not fit in \(valueBits) bits")
            }
            progress("read \(file): \(data.parts.count) tensor(s), \(statistics.count - before) values of \(bits) bits")
        }
    }
}

/// Histogram files given to `train`.
enum HistogramInputs {
    /// The sum of the files' statistics, or nil when there are none.
    static func merge(_ paths: [String]) throws -> HistogramFile? {
        var merged: HistogramFile? = nil
        for path in paths {
            let file = try HistogramFile.parse(try read(path), path: path)
            if merged == nil { merged = file } else { try merged?.merge(file, path: path) }
        }
        return merged
    }

    /// The whole file (at most 64 MiB: a histogram of 16-bit values is under 1 MiB).
    static func read(_ path: String) throws -> [UInt8] {
        let file = try InputFile(path: path)
        let limit = 64 << 20
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try file.readChecked(into: $0) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
            guard bytes.count <= limit else { throw TrainingError.invalidOption("\(path): larger than a histogram file can be (64 MiB)") }
        }
    }
}

struct Histogram: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histogram",
        abstract: "Count the values of tensors into a histogram file that train reads and that merges by addition.",
        discussion: """
            Training over more data than one machine reads: run hwgen histogram on each part of the data (any scheduler), \
            then hwgen train on all the .histogram.json files; the codebook is the one training on all the data gives.
            """)

    @OptionGroup var input: ValueInputOptions
    @Option(help: "Bits per value of raw (non-safetensors) inputs.") var valueBits: Int = 16
    @Option(name: .shortAndLong, help: "Output file; its name must end in \(HistogramFile.suffix).") var output: String
    @Argument(help: "Inputs: .safetensors, .npy, model folders, or raw little-endian values (- reads standard input).") var files: [String]

    func validate() throws {
        guard output.hasSuffix(HistogramFile.suffix) else { throw ValidationError("--output must end in \(HistogramFile.suffix), so train knows it") }
        guard (1...32).contains(valueBits) else { throw ValidationError("--value-bits must be 1 to 32, is \(valueBits)") }
    }

    func run() throws {
        let files = try ModelInputs.expand(self.files)
        let (bits, dtype) = try input.commonInput(files, rawValueBits: valueBits)
        var statistics = HistogramFile.accumulator(valueBits: bits)
        try input.add(files, valueBits: valueBits, expectedBits: bits, to: &statistics)
        let file = HistogramFile(statistics, dtype: input.dtypeName(dtype))
        try writeOutput(Array(file.jsonText.utf8), to: output, inputs: files)
        print("wrote \(output): \(file.values) values of \(bits) bits")
    }
}

/// `--threads` and `--stats`.
struct RunOptions: ParsableArguments {
    @Option(help: "Threads for coding frames (default: every core).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print the run time and peak memory on standard error.") var stats = false

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be 1 to 1024, is \(threads)") }
    }

    func report(since start: Date) {
        guard stats else { return }
        progress(String(format: "stats: %.2f s, peak memory %.1f MiB", Date().timeIntervalSince(start), Self.peakMemoryKiB() / 1024))
    }

    /// The process's peak resident memory in KiB: VmHWM of /proc/self/status (this program's
    /// own; getrusage's ru_maxrss would also count the parent's memory that was copied before
    /// exec), else getrusage.
    static func peakMemoryKiB() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            return kib
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss)
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a fixed codebook from tensors (the single-stage method: the average histogram of earlier data).",
        discussion: "Inputs are read in chunks: memory grows with the histograms, not with the data.")

    @Option(help: "huffman or tans.") var coder: TrainingOptions.CoderKind
    @Option(help: "bf16-exponent, split, identity, or auto (the smallest coded size). Default: from the dtype (BF16: bf16-exponent; 8-bit types: identity; other dtypes: auto; raw 16-bit values: bf16-exponent).")
    var transform: TransformArgument?
    @Option(help: "Symbol bits for split (default: the best of 1 to 12).") var symbolBits: Int?
    @Option(help: "Longest Huffman code.") var maxCodeLength: Int = 12
    @Option(help: "tANS table size, log2.") var tableLog: Int = 11
    @Option(help: "Lanes (FORMAT.md section 9): 1 writes a version-1 codebook, 2-32 version 2 (see analyze's lane table).")
    var lanes: Int = 1
    @OptionGroup var input: ValueInputOptions
    @Option(help: "Values per shard (histograms are per shard).") var shardSize: Int = 65536
    @Option(help: "Bits per value of raw (non-safetensors) inputs.") var valueBits: Int = 16
    @Option(help: "Codebook name: the generated modules are <name>_decoder and <name>_encoder (with --set, the set's name; members are <name>_<group>).") var name: String
    @Option(name: .shortAndLong, help: "Output codebook JSON (- for standard output).") var output: String
    @Flag(help: "Write a codebook set (FORMAT.md section 13): one codebook per group of tensors (--group, --per-tensor, --by-dtype; default one group), trained in one pass; prints what each group gains over one pooled codebook.")
    var set = false
    @OptionGroup var grouping: SetGroupingOptions
    @OptionGroup var runOptions: RunOptions
    @Argument(help: "Training inputs: .safetensors, .npy, model folders (their .safetensors in index order), or raw little-endian values (- reads standard input).") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one input file") }
        guard name.first.map({ $0.isLetter || $0 == "_" }) == true,
              name.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }) else {
            throw ValidationError("codebook: 'name': '\(name)' must match [A-Za-z_][A-Za-z0-9_]*")
        }
        guard (1...32).contains(valueBits) else { throw ValidationError("--value-bits must be 1 to 32, is \(valueBits)") }
        guard Codebook.laneRange.contains(lanes) else { throw ValidationError("--lanes must be 1 to 32, is \(lanes)") }
        if grouping.given && !set { throw ValidationError("--group, --per-tensor and --by-dtype group the members of a set: add --set") }
    }

    func run() throws {
        let start = Date()
        let files = try ModelInputs.expand(self.files)
        if set {
            try trainSet(files)
            runOptions.report(since: start)
            return
        }
        let histograms = files.filter { $0.hasSuffix(HistogramFile.suffix) }
        guard histograms.isEmpty || histograms.count == files.count else {
            throw TrainingError.invalidOption("give histogram files (\(HistogramFile.suffix)) or tensor inputs, not both: \(histograms[0]) is a histogram file, \(files.first { !$0.hasSuffix(HistogramFile.suffix) } ?? "") is not")
        }
        let merged = try HistogramInputs.merge(histograms)
        let (bits, dtype): (Int, String?)
        if let merged {
            (bits, dtype) = (merged.valueBits, merged.dtype)
        } else {
            let common = try input.commonInput(files, rawValueBits: valueBits)
            (bits, dtype) = (common.valueBits, input.dtypeName(common.dtype))
        }
        let choice = transformChoice ?? TrainingOptions.defaultTransform(dtype: dtype, valueBits: bits)
        var options = TrainingOptions(name: name, coder: coder, transform: choice, maxCodeLength: maxCodeLength,
                                      tableLog: tableLog, shardSize: shardSize, lanes: lanes)
        options.sourceDType = dtype
        var statistics: HistogramAccumulator
        if let merged {
            statistics = try merged.accumulator(for: try Trainer.candidateLayouts(valueBits: bits, choice: choice))
            progress("read \(histograms.count) histogram file(s): \(merged.values) values of \(bits) bits")
        } else {
            statistics = try Trainer.accumulator(valueBits: bits, options: options)
            try input.add(files, valueBits: valueBits, expectedBits: bits, to: &statistics)
        }
        let result = try Trainer.train(statistics, options: options)
        for c in result.candidates where result.candidates.count > 1 {
            progress(String(format: "  %@ symbolBits %2d: %.4f bits/value (entropy bound %.4f), ratio %.3f",
                            c.codebook.layout.transform.rawValue, c.codebook.layout.symbolBits, c.bitsPerValue,
                            c.entropyBitsPerValue, Double(bits) / c.bitsPerValue))
        }
        let best = result.best
        try writeOutput(Array(best.codebook.jsonText().utf8), to: output, inputs: files)
        let summary = String(format: "wrote %@: %@ %@ symbolBits %d, %d lane(s), %.4f bits/value on %d training values (entropy bound %.4f), ratio %.3f",
                             output, best.codebook.coder.name, best.codebook.layout.transform.rawValue, best.codebook.layout.symbolBits, lanes,
                             best.bitsPerValue, best.values, best.entropyBitsPerValue, Double(bits) / best.bitsPerValue)
            + (dtype == TrainingOptions.roundedF32DType
               ? String(format: " against bf16; LOSSY: F32 rounded to bf16, ratio %.3f against the F32 input", 32 / best.bitsPerValue) : "")
        if output == "-" { progress(summary) } else { print(summary) }
        runOptions.report(since: start)
    }

    /// `--set`: one codebook per group, written as a set, and the groups' report.
    func trainSet(_ files: [String]) throws {
        guard let raw = files.first(where: { !$0.hasSuffix(".safetensors") }) else {
            let options = TrainingOptions(name: name, coder: coder, maxCodeLength: maxCodeLength, tableLog: tableLog, shardSize: shardSize, lanes: lanes)
            let (set, report) = try SetTrainer.train(files: files, tensors: input.tensors, grouping: try grouping.grouping(), options: options,
                                                     transform: transformChoice, roundF32ToBF16: input.roundF32, progress: progress)
            try writeOutput(Array(set.jsonText().utf8), to: output, inputs: files)
            if output != "-" { printSetReport(set, report) }
            return
        }
        throw TrainingError.invalidOption("--set groups named tensors: \(raw) is not a .safetensors file")
    }

    /// `--transform` and `--symbol-bits` as a choice, nil for the dtype's default.
    var transformChoice: TrainingOptions.TransformChoice? {
        switch transform {
        case nil: nil
        case .auto?: .auto
        case .bf16Exponent?: .fixed(.bf16Exponent, symbolBits: nil)
        case .split?: .fixed(.split, symbolBits: symbolBits)
        case .identity?: .fixed(.identity, symbolBits: nil)
        }
    }
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a fixed codebook with per-shard optimal Huffman codes and the entropy, per tensor and shard.")

    @Option(help: "Codebook JSON (or group the tensors with --group, --per-tensor or --by-dtype to report a codebook set).") var codebook: String?
    @Option(help: "Values per shard.") var shardSize: Int = 65536
    @OptionGroup var grouping: SetGroupingOptions
    @Option(help: "With grouping: the coder of the set's codebooks.") var coder: TrainingOptions.CoderKind = .huffman
    @OptionGroup var input: ValueInputOptions
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Print tensor totals only, not every shard.") var totals = false
    @Option(help: "Also write SVG plots into this folder: symbol probabilities against the codebook's, code lengths or counts, per-shard KL divergence and ratio.")
    var svg: String?
    @OptionGroup var runOptions: RunOptions
    @Argument(help: "Inputs: .safetensors, .npy, model folders, or raw values (- reads standard input).") var files: [String]

    func validate() throws {
        if codebook == nil && !grouping.given { throw ValidationError("give --codebook x.json, or group tensors (--group, --per-tensor, --by-dtype) to report a set") }
        if codebook != nil && grouping.given { throw ValidationError("--codebook analyzes one codebook; --group, --per-tensor and --by-dtype a set: give one") }
    }

    func run() throws {
        let start = Date()
        let files = try ModelInputs.expand(self.files)
        guard let codebook else {
            // A set: per group its own codebook against one pooled over all groups.
            let options = TrainingOptions(name: "analysis", coder: coder, shardSize: shardSize)
            let (set, report) = try SetTrainer.train(files: files, tensors: input.tensors, grouping: try grouping.grouping(), options: options,
                                                     transform: nil, roundF32ToBF16: input.roundF32, progress: progress)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                printSetReport(set, report)
            }
            runOptions.report(since: start)
            return
        }
        let book = try Codebook.load(path: codebook)
        _ = try input.commonInput(files, rawValueBits: book.layout.valueBits, expected: book.layout.valueBits)
        var rows: [AnalysisRow] = []
        var sample: [UInt32] = []
        for file in files {
            let result = try Analyzer.analyze(try input.open(file, valueBits: book.layout.valueBits), codebook: book, shardSize: shardSize,
                                              sampleSize: laneSample - sample.count)
            rows += result.rows.map { row in
                var labelled = row
                labelled.file = file
                return labelled
            }
            sample += result.sample
        }
        if let svg {
            let plots = AnalysisPlots.files(codebook: book, sample: sample, rows: rows)
            for path in try OutputFolder.write(plots.map { ($0.name, Array($0.text.utf8)) }, into: svg, inputs: files + [codebook]) {
                progress("wrote \(path)")
            }
        }
        // --totals: tensor totals only, in the table and in JSON alike.
        if totals { rows = rows.filter { $0.shard == nil } }
        let laneCost = try LaneCost.table(book, values: sample)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(AnalysisReport(rows: rows, laneCost: laneCost)), as: UTF8.self))
            runOptions.report(since: start)
            return
        }
        print("codebook \(book.name): \(book.coder.name), \(book.layout.transform.rawValue), symbolBits \(book.layout.symbolBits), rawBits \(book.layout.rawBits)")
        print("bits per value: entropy = Shannon bound of the symbols + raw bits; optimal = a Huffman code built for that shard alone")
        print("file: tensor".padding(toLength: 52, withPad: " ", startingAt: 0) + "  shard    values  entropy  optimal  codebook  KL(bits)  gap-opt%  gap-H%   ratio")
        for row in rows {
            // Each row names its file: tensors of different files may share a name, and raw
            // files have one unnamed tensor.
            let label = (row.file.map { URL(fileURLWithPath: $0).lastPathComponent + ": " } ?? "") + row.tensor
            let name = label.count > 52 ? "..." + label.suffix(49) : label
            print(name.padding(toLength: 52, withPad: " ", startingAt: 0)
                  + String(format: "  %5@ %9d  %7.4f  %7.4f  %8.4f  %8@  %8.3f  %6.3f  %6.3f",
                           row.shard.map { "\($0)" } ?? "total", row.values, row.entropyBitsPerValue,
                           row.optimalHuffmanBitsPerValue, row.codebookBitsPerValue,
                           row.divergenceFromTraining.map { String(format: "%.5f", $0) } ?? "-",
                           row.gapToOptimalHuffmanPercent, row.gapToEntropyPercent, row.compressionRatio))
        }
        printLaneCost(laneCost, book: book)
        runOptions.report(since: start)
    }

    /// Values the lane table is measured on (the first ones read).
    var laneSample: Int { 1 << 22 }

    /// The lane table: bits per value for K lanes and three frame sizes, padding and states included.
    func printLaneCost(_ costs: [LaneCost], book: Codebook) {
        guard let first = costs.first else { return }
        print("")
        print("lanes: bits per value with each lane's padding\(book.coder.name == "tans" ? " and initial state" : "") (first \(first.values) values; this codebook has \(book.lanes))")
        print("frame size " + LaneCost.laneCounts.map { "K=\($0)".padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        for frame in LaneCost.frameSizes {
            let row = costs.filter { $0.frameSize == frame }.map { String(format: "%-9.4f", $0.bitsPerValue) }.joined()
            print(String(frame).padding(toLength: 11, withPad: " ", startingAt: 0) + row)
        }
    }
}

/// `analyze --json`: the rows and the lane table.
struct AnalysisReport: Codable {
    let rows: [AnalysisRow]
    let laneCost: [LaneCost]
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compress values with a codebook into a stream file (.hwgs: FORMAT.md section 11), or bare frames with --bare.",
        discussion: "The input is read in chunks and frames are written as they are coded: memory does not grow with the input.")

    @Option(help: "Codebook JSON.") var codebook: String?
    @Option(help: "Codebook set JSON (as train --set writes): one stream file per tensor of the safetensors inputs, each with its group's codebook, and index.json, into the folder -o names (decode index.json restores the model).")
    var set: String?
    @Option(help: "Values per frame (the last may be shorter; at most \(StreamLimits.maxFrameValues)); the default is the hardware tANS encoder's MAX_FRAME, so both write the same stream.")
    var frameSize: Int = StreamLimits.defaultFrameValues
    @OptionGroup var input: ValueInputOptions
    @Flag(help: "Write bare frames (what a hardware decoder takes) instead of a stream file: no codebook, counts or CRCs.")
    var bare = false
    @OptionGroup var runOptions: RunOptions
    @Argument(help: "Input: .safetensors, .npy, a model folder (its .safetensors in index order, one stream), or raw little-endian values (1, 2 or 4 bytes each, by valueBits; - reads standard input).")
    var inputPath: String
    @Option(name: .shortAndLong, help: "Output stream (- for standard output); with --set, the output folder.") var output: String

    func validate() throws {
        guard (1...StreamLimits.maxFrameValues).contains(frameSize) else {
            throw ValidationError("--frame-size must be 1 to \(StreamLimits.maxFrameValues), is \(frameSize)")
        }
        guard (codebook == nil) != (set == nil) else { throw ValidationError("give --codebook x.json or --set s.json") }
        if set != nil && (bare || input.roundF32 || input.raw) {
            throw ValidationError("--set writes stream files of the model's exact tensors: --bare, --round-f32 and --raw take --codebook")
        }
    }

    func run() throws {
        let start = Date()
        guard let codebook else {
            try encodeSet()
            runOptions.report(since: start)
            return
        }
        let text = try Codebook.loadText(path: codebook)
        let book = try Codebook.parse(text)
        // A model folder is its safetensors files in index order, coded into one stream.
        let inputs = try ModelInputs.expand([inputPath])
        // Every header is checked (widths against the codebook's) before the output is opened.
        _ = try input.commonInput(inputs, rawValueBits: book.layout.valueBits, expected: book.layout.valueBits)
        let file = try OutputFile.open(output, inputs: inputs + [codebook])
        let encoder = try StreamEncoder(codec: StreamCodec(codebook: book), frameSize: frameSize, threads: runOptions.threads,
                                        container: bare ? .bare : .file(codebookText: text), sink: file)
        for path in inputs {
            let data = try input.open(path, valueBits: book.layout.valueBits)
            guard data.valueBits == book.layout.valueBits else {
                throw TrainingError.invalidOption("\(path) has \(data.valueBits)-bit values\(data.dtype.map { " (\($0.rawValue))" } ?? ""); the codebook codes \(book.layout.valueBits)-bit values")
            }
            do {
                try data.forEachChunk { _, values in try encoder.add(values) }
            } catch let StreamError.valueTooWide(index, value, bits) {
                throw TrainingError.invalidOption("\(path): value \(value) at index \(index) does not fit in the codebook's \(bits) value bits")
            }
        }
        let summary = try encoder.finish()
        try file.commit()
        let inBits = Double(summary.values) * Double(book.layout.valueBits)
        let line = summary.values == 0
            ? "0 values -> \(summary.bytes) bytes (no frames)"
            : String(format: "%llu values -> %llu bytes in %d frame(s) (%.4f bits/value, ratio %.3f)", summary.values, summary.bytes, summary.frames,
                     Double(summary.bytes * 8) / Double(summary.values), inBits / Double(max(1, summary.bytes * 8)))
        if output == "-" { progress(line) } else { print(line) }
        runOptions.report(since: start)
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decompress a stream file (.hwgs) into raw little-endian values; --bare reads bare frames.",
        discussion: """
            A stream file carries its codebook: --codebook is optional, and when given the file's codebook must code the same.             Every frame is checked (CRC-32C, value count, its EOF ending its words) and the file's counts and CRC at the end;             any damage is an error naming the frame, and no output is left behind.
            """)

    @Option(help: "Codebook JSON (needed with --bare; otherwise checked against the file's).") var codebook: String?
    @Flag(help: "The input is bare frames (no header, counts or CRCs): only truncation and invalid codes can be detected.")
    var bare = false
    @OptionGroup var runOptions: RunOptions
    @Argument(help: "Input stream (.hwgs; - reads standard input), or the index.json of encode --set (the model comes back as one .safetensors file).") var inputPath: String
    @Option(name: .shortAndLong, help: "Output raw values, 1, 2 or 4 bytes each by valueBits (- for standard output); from an index, the .safetensors file.") var output: String

    func validate() throws {
        if bare && codebook == nil { throw ValidationError("--bare needs --codebook: bare frames do not say how they were coded") }
    }

    func run() throws {
        let start = Date()
        if inputPath.hasSuffix(".json") && !bare {
            try decodeIndex()
            runOptions.report(since: start)
            return
        }
        let given = try codebook.map { try Codebook.load(path: $0) }
        let input = try InputFile(path: inputPath)
        let inputs = [inputPath] + (codebook.map { [$0] } ?? [])
        let summary: DecodeSummary
        let file: OutputFile
        do {
            if bare, let book = given {
                file = try OutputFile.open(output, inputs: inputs)
                var source = input
                let bits = book.layout.valueBits
                summary = try StreamFileDecoder.decodeBare(&source, codec: StreamCodec(codebook: book)) { values in
                    try file.write(RawValues.encode(values, valueBits: bits))
                }
            } else {
                var reader = try StreamFileReader(input)
                if let given, let field = reader.codebook.codingDifference(from: given) {
                    throw StreamFileError.codebookDiffers(field: field)
                }
                file = try OutputFile.open(output, inputs: inputs)
                let bits = reader.codebook.layout.valueBits
                summary = try StreamFileDecoder.decode(&reader, codec: StreamCodec(codebook: reader.codebook), threads: runOptions.threads,
                                                       convert: { RawValues.packed($0, valueBits: bits) },
                                                       output: { packed in try packed.withUnsafeBytes { try file.writeChecked($0) } })
            }
        } catch let error as StreamFileError {
            throw CommandError(description: "\(inputPath): \(error)")
        } catch let error as StreamError {
            throw CommandError(description: "\(inputPath): \(error)")
        }
        try file.commit()
        let line = "\(summary.values) values in \(summary.frames) frame(s)"
        if output == "-" { progress(line) } else { print(line) }
        runOptions.report(since: start)
    }
}
