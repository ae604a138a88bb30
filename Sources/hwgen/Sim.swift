import ArgumentParser
import Codec
import CoreSim
import Cores
import Foundation
import Training
import VerilatorBridge

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a codebook's cores, run them under Verilator over your data, and check them bit-exact against the reference coder.",
        discussion: "Prints per core the values, cycles, values per cycle and the verdict; exit 1 if a core is not bit-exact.")

    @Option(help: "Codebook JSON.") var codebook: String?
    @Option(help: "Codebook set JSON (FORMAT.md section 13, as train --set writes): run the set's decoder and encoder over every selected tensor of the safetensors inputs, each tensor's frames coded by its group's codebook.")
    var set: String?
    @Option(help: "Values per frame (the tANS encoder is generated with this MAX_FRAME).") var frameSize: Int = StreamLimits.defaultFrameValues
    @Option(help: "Percent of cycles in which the bench offers a beat (tvalid).") var valid: Int = 100
    @Option(help: "Percent of cycles in which the bench takes a beat (tready).") var ready: Int = 100
    @Option(help: "Seed of the valid/ready pattern.") var seed: UInt64 = 1
    @Option(help: "Write a waveform of each core into this folder.") var trace: String?
    @Option(help: "Waveform format with --trace: vcd or fst.") var traceFormat: String = "vcd"
    @Option(help: "At most this many values (the first ones read); with --set, of each tensor.") var limit: Int = 1 << 20
    @Option(help: "K-lane codebook: values per beat (1: the pipelined decoder; default: K for Huffman, 1 for tANS; K also runs the Huffman encoder at P = K).")
    var valuesPerBeat: Int?
    @Option(help: "Frame engines (FORMAT.md section 12): run the decoder and the encoder with N engines (P values per beat, default N).")
    var engines: Int?
    @Flag(inversion: .prefixedNo, help: "Frame engines: buffers shared by all engines (banks) or a FIFO per engine on both sides (default: on each side whichever takes fewer block RAMs).")
    var sharedBuffers: Bool?
    @Option(help: "Frame engines: 32-bit words per beat, Q (default: what N engines need on the codebook's average entry; Q >= N lets the encoder's output share banks).")
    var wordsPerBeat: Int?
    @Option(help: "One-lane tANS encoder (alone or as engines): frames coded at once (2: the two-cycle state loop; default 1).")
    var interleave: Int?
    @OptionGroup var input: ValueInputOptions
    @Argument(help: "Data: .safetensors, .npy, model folders, or raw values.") var files: [String]

    func validate() throws {
        guard (codebook == nil) != (set == nil) else { throw ValidationError("give --codebook x.json or --set s.json") }
        if set != nil && (engines != nil || valuesPerBeat != nil || trace != nil) {
            throw ValidationError("--set runs the set's cores one frame at a time: --engines, --values-per-beat and --trace take --codebook")
        }
        guard (1...100).contains(valid), (1...100).contains(ready) else { throw ValidationError("--valid and --ready are percentages, 1 to 100") }
        if let sharedBuffers, engines == nil { throw ValidationError("--\(sharedBuffers ? "" : "no-")shared-buffers needs --engines") }
        if wordsPerBeat != nil, engines == nil { throw ValidationError("--words-per-beat needs --engines") }
        if let interleave, !(1...2).contains(interleave) { throw ValidationError("--interleave must be 1 or 2 frames, is \(interleave)") }
        if set != nil && interleave != nil { throw ValidationError("--interleave takes --codebook: a set's encoders code one frame at a time") }
        guard TANSEncoderCore.maxFrameRange.contains(frameSize) else {
            throw ValidationError("--frame-size must be \(TANSEncoderCore.maxFrameRange.lowerBound) to \(TANSEncoderCore.maxFrameRange.upperBound)")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        guard TraceFormat(rawValue: traceFormat) != nil else { throw ValidationError("--trace-format must be vcd or fst, not '\(traceFormat)'") }
    }

    func run() throws {
        guard let codebook else { return try runSet() }
        let book = try Codebook.load(path: codebook)
        let files = try ModelInputs.expand(self.files)
        _ = try input.commonInput(files, rawValueBits: book.layout.valueBits, expected: book.layout.valueBits)
        var values: [UInt32] = []
        for file in files where values.count < limit {
            try input.open(file, valueBits: book.layout.valueBits).forEachChunk { _, chunk in
                values += chunk.prefix(limit - values.count)
            }
        }
        guard !values.isEmpty else { throw CommandError(description: "the data holds no values") }
        if let trace { try FileManager.default.createDirectory(atPath: trace, withIntermediateDirectories: true) }
        var check = CoreCheck(codebook: book, frameSize: frameSize)
        (check.validPercent, check.readyPercent, check.seed, check.traceFolder) = (valid, ready, seed, trace)
        check.traceFormat = TraceFormat(rawValue: traceFormat) ?? .vcd
        check.valuesPerBeat = valuesPerBeat
        check.engines = engines
        check.sharedBuffers = sharedBuffers
        check.wordsPerBeat = wordsPerBeat
        check.framesInFlight = interleave ?? 1
        let (outcomes, bits) = try check.run(values)
        print(String(format: "%@: %d values in frames of %d, %.4f bits/value, ratio %.3f; tvalid %d%%, tready %d%%",
                     book.name, values.count, frameSize, bits, Double(book.layout.valueBits) / bits, valid, ready))
        for o in outcomes {
            print(String(format: "  %@: %d beats in, %d out, %d cycles, %.3f values/cycle, latency %@ cycles: %@", o.core, o.beatsIn, o.beatsOut,
                         o.cycles, o.valuesPerCycle, o.latency.map(String.init) ?? "-", o.mismatch.map { "MISMATCH: " + $0 } ?? "BIT-EXACT"))
        }
        if outcomes.contains(where: { $0.mismatch != nil }) { throw CommandError(description: "a core is not bit-exact against the reference coder") }
    }
}

extension Sim {
    /// `--set`: every selected tensor, in frames, each frame with its tensor's member id.
    func runSet() throws {
        guard let setPath = set else { return }
        let codebookSet = try CodebookSet.load(path: setPath)
        let valueBits = codebookSet.members[0].layout.valueBits
        let plan = try assignTensors(try ModelInputs.expand(files), tensors: input.tensors, to: codebookSet, roundF32ToBF16: input.roundF32)
        let tensors = plan.count
        var values: [UInt32] = [], sizes: [Int] = [], ids: [Int] = []
        for (file, tensor, id) in plan {
            let tensorValues = try file.values(of: tensor, elements: 0..<min(tensor.count, limit), roundF32ToBF16: input.roundF32)
            values += tensorValues
            for start in stride(from: 0, to: tensorValues.count, by: frameSize) {
                sizes.append(min(frameSize, tensorValues.count - start))
                ids.append(id)
            }
        }
        guard !values.isEmpty else { throw CommandError(description: "the data holds no values") }
        var check = SetCoreCheck(set: codebookSet)
        (check.validPercent, check.readyPercent, check.seed) = (valid, ready, seed)
        let (outcomes, bits) = try check.run(values: values, frameSizes: sizes, ids: ids)
        print(String(format: "set %@ (%d codebooks): %d values of %d tensors (at most %d each) in frames of %d, %.4f bits/value, ratio %.3f; tvalid %d%%, tready %d%%",
                     codebookSet.name, codebookSet.members.count, values.count, tensors, limit, frameSize, bits,
                     Double(valueBits) / bits, valid, ready))
        for o in outcomes {
            let c = o.core
            print(String(format: "  %@: %d beats in, %d out, %d cycles, %.3f values/cycle: %@", c.core, c.beatsIn, c.beatsOut, c.cycles, c.valuesPerCycle,
                         c.mismatch.map { "MISMATCH: " + $0 } ?? "BIT-EXACT"))
            for id in o.perId.keys.sorted() {
                let (n, cycles) = o.perId[id] ?? (0, 0)
                print(String(format: "    id %d %@: %d values, %d cycles, %.3f values/cycle", id, codebookSet.members[id].name, n, cycles, Double(n) / Double(max(1, cycles))))
            }
        }
        if outcomes.contains(where: { $0.core.mismatch != nil }) { throw CommandError(description: "a core of the set is not bit-exact against the reference coder") }
    }
}
