import ArgumentParser
import Foundation
import Codec
import Cores
import FileIO
import HDL
import HDLBlocks

/// The hwgen command line: generates Verilog from DSL designs.
@main
struct HWGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hwgen",
        abstract: "Generate verified, synthesizable Verilog for entropy-coding hardware.",
        version: HWGenVersion.description,
        subcommands: [Generate.self, Train.self, Analyze.self, Encode.self, Decode.self, Histogram.self, Tables.self, Formal.self, Sim.self, BenchVectors.self, DemoVectors.self],
        defaultSubcommand: Generate.self)

    /// Interrupted runs remove their temporary files (see `TemporaryFiles`).
    static func main() {
        TemporaryFiles.installSignalHandlers()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // A usage error: name a misspelt or unknown option itself (exit 64), whatever else
            // the command line lacks.
            if arguments.first != "help" {
                let (addressed, rest) = UnknownOptions.command(for: arguments)
                if let unknown = UnknownOptions.first(in: rest, known: UnknownOptions.known(by: addressed)) {
                    usageError("unknown option '\(unknown)'", command: addressed)
                }
            }
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            usageError(error.message, command: type(of: command))
        } catch {
            exit(withError: error)
        }
    }

    /// Prints a usage error as ArgumentParser does (the error line, then the command's usage)
    /// and exits 64 (EX_USAGE).
    static func usageError(_ message: String, command: ParsableCommand.Type) -> Never {
        let name = command.configuration.commandName ?? command._commandName
        var text = "Error: \(message)\n"
        text += "Usage: \(usageString(for: command))\n"
        text += "  See 'hwgen \(name) --help' for more information.\n"
        FileHandle.standardError.write(Data(text.utf8))
        Foundation.exit(64)
    }
}

/// hwgen's version and the source revision it was built from (`Sources/hwgen/Revision.swift`).
enum HWGenVersion {
    static var description: String { "hwgen \(HWGenRelease.version) (source revision \(sourceRevision))" }
}

/// A failure the user can act on; printed as one line, exit status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
}

/// The designs `generate` knows by name.
enum NamedDesign: String, CaseIterable, ExpressibleByArgument {
    case axisRomDemo = "axis-rom-demo"

    func module() throws -> Module {
        switch self {
        case .axisRomDemo: return try AxisRomDemo.module()
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write Verilog, one module per file: the cores for a codebook, or a named design.",
        discussion: "hwgen --codebook x.json writes <name>_decoder.v and <name>_encoder.v (and their skid buffers) into the current folder, or the one --output names. Bare hwgen prints this help and writes nothing.")

    @Option(help: "Codebook JSON: generate its decoder and encoder.")
    var codebook: String?

    @Option(help: "Codebook set JSON (FORMAT.md section 13): a decoder and an encoder holding every member's tables, each frame coded by the member its s_axis_tuser id names.")
    var set: String?

    @Flag(help: "A decoder and an encoder whose tables sit in RAM, loaded at run time through s_table from table images (hwgen tables); a slot per member of --set (or one for --codebook), up to its widest tableLog or longest code, for its value layout.")
    var loadable = false

    @Flag(help: "Only the decoder (needs --codebook).") var decoder = false
    @Flag(help: "Only the encoder (needs --codebook).") var encoder = false

    @Option(help: "Without --codebook: the design to write (\(NamedDesign.allCases.map(\.rawValue).joined(separator: ", "))).")
    var design: NamedDesign?

    @Option(name: .shortAndLong, help: "Folder for the .v files (created if missing).")
    var output: String = "."

    @Option(help: "tANS encoder: MAX_FRAME, the values it holds per frame; longer input frames are cut into frames of this many values. With --engines, also the frame size every engine's buffers hold (default 4096; 1024 quarters the block RAMs for about 0.2% more bits).")
    var maxFrame: Int?

    @Flag(help: "Also write <name>.core, a FuseSoC (CAPI 2) description of the files (needs --codebook).")
    var fusesoc = false

    @Option(help: "K-lane cores: values per beat (decoder default: K for Huffman, 1 for the pipelined tANS decoder; encoder default 1, K for the Huffman encoder at P = K).")
    var valuesPerBeat: Int?

    @Option(help: "K-lane cores at P = K: 32-bit words per stream beat (default: what P values of the codebook's average length need).")
    var wordsPerBeat: Int?

    @Option(help: "Frame engines (FORMAT.md section 12): N copies of the one-frame core code whole frames side by side behind one stream, decoders and encoders; P defaults to N.")
    var engines: Int?

    @Flag(inversion: .prefixedNo, help: "Frame engines: buffers shared by all engines (banks) or a FIFO per engine on both sides (default: on each side whichever takes fewer block RAMs).")
    var sharedBuffers: Bool?

    @Option(help: "One-lane tANS encoders (alone or as engines): frames coded at once, a step of each in turn; 2 gives the state loop two cycles (a higher Fmax for a second value buffer and chunk buffer), at one value per cycle while two frames are in (default 1).")
    var interleave: Int?

    @Flag(help: "Write block-RAM ROM contents to <module>_<rom>.hex files read by $readmemh (run the tools from the output folder), not into the Verilog.")
    var romFiles = false

    @Flag(help: "Also write <module>_pins.v around each core for place-and-route on a package with fewer pins than the core has port bits: inputs from one shift register fed by serial_in, outputs registered and XOR-folded into serial_out.")
    var pinWrapper = false

    func validate() throws {
        if codebook != nil && set != nil { throw ValidationError("--codebook and --set name two different things to write; give one") }
        if codebook == nil && set == nil {
            if decoder || encoder { throw ValidationError("--\(decoder ? "decoder" : "encoder") needs --codebook or --set") }
            if maxFrame != nil { throw ValidationError("--max-frame needs --codebook") }
            if wordsPerBeat != nil { throw ValidationError("--words-per-beat needs --codebook") }
            if valuesPerBeat != nil { throw ValidationError("--values-per-beat needs --codebook") }
            if engines != nil { throw ValidationError("--engines needs --codebook") }
            if interleave != nil { throw ValidationError("--interleave needs --codebook") }
        } else if design != nil {
            throw ValidationError("--design and --\(set == nil ? "codebook" : "set") name two different things to write; give one")
        }
        if fusesoc && codebook == nil { throw ValidationError("--fusesoc needs --codebook") }
        if loadable && codebook == nil && set == nil { throw ValidationError("--loadable needs --codebook or --set") }
        if let sharedBuffers, engines == nil { throw ValidationError("--\(sharedBuffers ? "" : "no-")shared-buffers needs --engines") }
        // Only a bare `hwgen` asks for help; with anything else on the line, parsing goes on to
        // report unknown options and arguments, and `run` a line that names nothing to write.
        if codebook == nil && set == nil && design == nil && CommandLine.arguments.count <= 1 { throw CleanExit.helpRequest(HWGen.self) }
        let range = TANSEncoderCore.maxFrameRange
        if let maxFrame, !range.contains(maxFrame) {
            throw ValidationError("--max-frame must be \(range.lowerBound) to \(range.upperBound) values (MAX_FRAME), is \(maxFrame)")
        }
        if let interleave, !(1...2).contains(interleave) { throw ValidationError("--interleave must be 1 or 2 frames, is \(interleave)") }
        if interleave == 2 && decoder && !encoder { throw ValidationError("--interleave 2 is for encoders (a tANS encoder codes two frames at once); --decoder writes only a decoder") }
    }

    func run() throws {
        guard codebook != nil || set != nil || design != nil else {
            throw ValidationError("nothing to write: give --codebook x.json, --set s.json (or --design \(NamedDesign.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var modules: [Module] = []
        var loaded: Codebook? = nil
        do {
            if loadable {
                // A loadable core's capacity comes from a set (or a codebook as a set of one).
                let capacitySet = try set.map { try CodebookSet.load(path: $0) } ?? CodebookSet(name: try Codebook.load(path: codebook ?? "").name, members: [try Codebook.load(path: codebook ?? "")])
                let both = decoder == encoder
                let roles: [CoreRequest.Role] = both ? [.decoder, .encoder] : [encoder ? .encoder : .decoder]
                modules = try roles.map { role in
                    try CoreGenerator.module(for: capacitySet, CoreRequest(role: role, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat,
                                                                           engines: engines, loadable: true, framesInFlight: interleave ?? 1))
                }
            } else if let codebook {
                let book = try Codebook.load(path: codebook)
                loaded = book
                let both = decoder == encoder
                modules = try CoreGenerator.modules(for: book, decoder: both || decoder, encoder: both || encoder,
                                                   maxFrame: maxFrame ?? TANSEncoderCore.defaultMaxFrame, valuesPerBeat: valuesPerBeat,
                                                   wordsPerBeat: wordsPerBeat, engines: engines, sharedBuffers: sharedBuffers,
                                                   framesInFlight: interleave ?? 1)
            } else if let set {
                let loaded = try CodebookSet.load(path: set)
                let both = decoder == encoder
                modules = try [both || decoder ? CoreRequest.Role.decoder : nil, both || encoder ? .encoder : nil].compactMap { $0 }.map { role in
                    try CoreGenerator.module(for: loaded, CoreRequest(role: role, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, engines: engines,
                                                                      maxFrame: maxFrame ?? TANSEncoderCore.defaultMaxFrame, sharedBuffers: sharedBuffers,
                                                                      framesInFlight: interleave ?? 1))
                }
            } else if let design {
                modules = [try design.module()]
            }
            if pinWrapper { modules += try modules.map { try PinWrapper.module(around: $0) } }
        } catch let error as ElaborationError {
            throw CommandError(description: "\(error)")
        } catch let error as CoreError {
            throw CommandError(description: "\(error)")
        }
        // Everything is built before anything is written, and the files are written all or
        // none: a bad codebook or an unwritable target leaves the folder as it was.
        var files: [VerilogFile] = []
        for module in modules {
            for file in module.verilogFiles(romContents: romFiles ? .hexFiles(prefix: "") : .inline)
            where !files.contains(where: { $0.name == file.name }) { files.append(file) }
        }
        var contents = files.map { ($0.name, Array($0.contents.utf8)) }
        if fusesoc, let loaded {
            let core = FuseSoCCore(codebook: loaded, files: files.map(\.name).filter { $0.hasSuffix(".v") },
                                   dataFiles: files.map(\.name).filter { $0.hasSuffix(".hex") }, tops: modules.map(\.name))
            contents.append((core.fileName, Array(core.text.utf8)))
        }
        let written = try OutputFolder.write(contents, into: output, inputs: [codebook, set].compactMap { $0 })
        for path in written { print("wrote \(path)") }
    }
}

struct DemoVectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-vectors",
        abstract: "Write stimulus and expected output of the bridge demo for the make-sim testbench.",
        discussion: "Each line is one beat: hex data, a space, tlast (0 or 1).")

    @Option(help: "Number of bytes.")
    var count: Int = 100_000

    @Option(help: "Seed of the byte sequence.")
    var seed: UInt64 = 1

    @Option(name: .shortAndLong, help: "Folder for input.txt and expected.txt.")
    var output: String

    @Option(help: "Bytes per frame (tlast on the last of each).")
    var frame: Int = 256

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard frame > 0 else { throw ValidationError("--frame must be positive") }
    }

    func run() throws {
        var state = seed
        var input: [String] = []
        var expected: [String] = []
        input.reserveCapacity(count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let byte = UInt8(truncatingIfNeeded: state >> 56)
            let last = (i % frame == frame - 1 || i == count - 1) ? 1 : 0
            input.append("\(String(byte, radix: 16)) \(last)")
            expected.append("\(String(AxisRomDemo.reference(byte), radix: 16)) \(last)")
        }
        _ = try OutputFolder.write([("input.txt", Array((input.joined(separator: "\n") + "\n").utf8)),
                                    ("expected.txt", Array((expected.joined(separator: "\n") + "\n").utf8))], into: output)
    }
}
