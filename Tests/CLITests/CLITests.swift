import Cores
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import VerilatorBridge

/// Runs the built `hwgen` executable (it sits next to the test bundle).
enum HWGen {
    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    static var executable: String {
        let testBinary = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appendingPathComponent("hwgen").path
    }

    static func run(_ arguments: [String]) throws -> Result {
        let (status, output, error) = try runBinary(arguments)
        return Result(status: status, output: String(decoding: output, as: UTF8.self), error: String(decoding: error, as: UTF8.self))
    }

    /// Runs hwgen with `input` on standard input; returns the exit status, standard output's
    /// bytes and standard error's.
    static func runBinary(_ arguments: [String], input: Data? = nil) throws -> (Int32, Data, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        if input != nil { process.standardInput = inPipe }
        try process.run()
        // Feed standard input and drain both outputs on their own threads, so no pipe fills up.
        let feeder = Thread {
            if let input { inPipe.fileHandleForWriting.write(input) }
            try? inPipe.fileHandleForWriting.close()
        }
        feeder.start()
        let errorData = ErrorBox()
        let drainer = Thread { errorData.data = err.fileHandleForReading.readDataToEndOfFile() }
        drainer.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while drainer.isExecuting || !drainer.isFinished { usleep(1000) }
        return (process.terminationStatus, o, errorData.data)
    }

    final class ErrorBox: @unchecked Sendable { var data = Data() }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-cli-\(UUID().uuidString)-\(name)").path
    }
}

@Suite("hwgen command line: train, encode, decode, analyze, and errors")
struct CLITests {
    static let tinyBook = """
        {"format": "hwgen-codebook/1", "name": "tiny", "coder": "huffman", "transform": "split",
         "symbolBits": 4, "rawBits": 4, "codeLengths": [2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0, 0, 0, 0, 0, 0, 6, 6]}
        """

    func write(_ text: String, _ name: String) throws -> String {
        let path = HWGen.temporary(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the executable is where the tests expect it")
    func executableExists() {
        #expect(FileManager.default.isExecutableFile(atPath: HWGen.executable), "\(HWGen.executable)")
    }

    @Test("encode then decode a raw file gives it back byte for byte")
    func rawRoundTrip() throws {
        let book = try write(Self.tinyBook, "book.json")
        let values: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: ($0 * 37) ^ ($0 >> 3)) }
        let input = HWGen.temporary("in.bin"), stream = HWGen.temporary("s.hwgs"), output = HWGen.temporary("out.bin")
        try Data(values).write(to: URL(fileURLWithPath: input))
        let enc = try HWGen.run(["encode", "--codebook", book, "--frame-size", "300", input, "-o", stream])
        #expect(enc.status == 0, "\(enc.error)")
        #expect(enc.output.contains("5000 values ->"))
        let dec = try HWGen.run(["decode", "--codebook", book, stream, "-o", output])
        #expect(dec.status == 0, "\(dec.error)")
        #expect(dec.output.contains("5000 values in 17 frame(s)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(values))
    }

    /// A file of the real MiniLM data in ../shared/data (or $HWGEN_DATA); missing data fails the test.
    static func dataPath(_ name: String) throws -> String {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/" + name).path
        let path = ProcessInfo.processInfo.environment["HWGEN_DATA"].map { $0 + "/" + name } ?? shared
        try #require(FileManager.default.fileExists(atPath: path), "real data missing at \(path): clone next to shared/ or set HWGEN_DATA")
        return path
    }

    static func weightsPath() throws -> String { try dataPath("minilm_weights_layers_1_4.bf16.safetensors") }

    @Test("train on a real safetensors file, then encode, decode and analyze with the codebook")
    func trainAndUse() throws {
        let weights = try Self.weightsPath()
        let book = HWGen.temporary("w.json")
        let train = try HWGen.run(["train", "--coder", "tans", "--tensors", "layer\\.1\\..*weight", "--name", "w1", "-o", book, weights])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("wrote \(book): tans bf16-exponent"))
        let stream = HWGen.temporary("w.hwgs"), decoded = HWGen.temporary("w.bin")
        #expect(try HWGen.run(["encode", "--codebook", book, "--tensors", "layer\\.4\\..*query\\.weight", weights, "-o", stream]).status == 0)
        #expect(try HWGen.run(["decode", "--codebook", book, stream, "-o", decoded]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: decoded)).count == 384 * 384 * 2)
        let analyze = try HWGen.run(["analyze", "--codebook", book, "--tensors", "layer\\.4\\..*dense\\.weight", "--json", weights])
        #expect(analyze.status == 0, "\(analyze.error)")
        #expect(analyze.output.contains("\"gapToOptimalHuffmanPercent\""))
    }

    @Test("train --lanes 8 writes a version-2 codebook; encode, decode and analyze use its lanes")
    func lanes() throws {
        let weights = try Self.weightsPath()
        let book = HWGen.temporary("l8.json"), stream = HWGen.temporary("l8.hwgs"), decoded = HWGen.temporary("l8.bin")
        let train = try HWGen.run(["train", "--coder", "huffman", "--lanes", "8", "--tensors", "layer\\.1\\..*weight", "--name", "w8", "-o", book, weights])
        #expect(train.status == 0, "\(train.error)")
        let text = try String(contentsOfFile: book, encoding: .utf8)
        #expect(text.contains("\"hwgen-codebook/2\"") && text.contains("\"lanes\": 8"))
        #expect(try HWGen.run(["encode", "--codebook", book, "--tensors", "layer\\.4\\..*query\\.weight", weights, "-o", stream]).status == 0)
        #expect(try HWGen.run(["decode", stream, "-o", decoded]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: decoded)).count == 384 * 384 * 2)
        let analyze = try HWGen.run(["analyze", "--codebook", book, "--tensors", "layer\\.4\\..*query\\.weight", "--totals", weights])
        #expect(analyze.status == 0, "\(analyze.error)")
        #expect(analyze.output.contains("this codebook has 8") && analyze.output.contains("K=32"))
        // Frames of 1,024, 4,096 and 65,536 values: smaller frames cost more (EOF and padding per frame).
        let costs = analyze.output.split(separator: "\n").compactMap { line -> (Int, Double)? in
            let fields = line.split(separator: " ")
            guard fields.count == 7, let frame = Int(fields[0]), let k1 = Double(fields[1]) else { return nil }
            return (frame, k1)
        }
        #expect(costs.map(\.0) == [1024, 4096, 65536], "\(analyze.output)")
        #expect(costs.count == 3 && costs[0].1 > costs[1].1 && costs[1].1 > costs[2].1, "\(costs)")
        // Both cores: the P = K decoder and the K-lane encoder (P = 1 by default); with
        // --values-per-beat 8 both at P = 8, and P = 4 refused.
        let both = HWGen.temporary("rtl")
        let generate = try HWGen.run(["generate", "--codebook", book, "-o", both])
        #expect(generate.status == 0, "\(generate.error)")
        let encoder = try String(contentsOfFile: both + "/w8_encoder.v", encoding: .utf8)
        #expect(encoder.contains("Lanes: K = 8, P = 1 value and Q = 1 word per beat") && encoder.contains("input  wire [15:0] s_axis_tdata"), "\(encoder.prefix(3000))")
        let wideFolder = HWGen.temporary("rtl")
        let wide = try HWGen.run(["generate", "--codebook", book, "--values-per-beat", "8", "-o", wideFolder])
        #expect(wide.status == 0, "\(wide.error)")
        #expect(try String(contentsOfFile: wideFolder + "/w8_encoder.v", encoding: .utf8).contains("K = 8 lanes, P = 8 values per beat"))
        let four = try HWGen.run(["generate", "--codebook", book, "--encoder", "--values-per-beat", "4", "-o", HWGen.temporary("rtl")])
        #expect(four.status == 1 && four.error.contains("K-lane encoders take P = 1 or P = K = 8"), "\(four.error)")
        // The K-lane Huffman decoder: P = 8 values per beat, Q as asked.
        let rtl = HWGen.temporary("rtl")
        let decoder = try HWGen.run(["generate", "--codebook", book, "--decoder", "--words-per-beat", "2", "-o", rtl])
        #expect(decoder.status == 0, "\(decoder.error)")
        let verilog = try String(contentsOfFile: rtl + "/w8_decoder.v", encoding: .utf8)
        #expect(verilog.contains("input  wire [63:0] s_axis_tdata") && verilog.contains("output wire [7:0] m_axis_tkeep"), "\(verilog.prefix(3000))")
        #expect(try HWGen.run(["generate", "--codebook", book, "--decoder", "--words-per-beat", "9", "-o", rtl]).status == 1)
        // The pipelined decoder: section 8's ports (one value and one word per beat, no tkeep).
        let pipelined = HWGen.temporary("rtl")
        let p1 = try HWGen.run(["generate", "--codebook", book, "--decoder", "--values-per-beat", "1", "-o", pipelined])
        #expect(p1.status == 0, "\(p1.error)")
        let p1Verilog = try String(contentsOfFile: pipelined + "/w8_decoder.v", encoding: .utf8)
        #expect(p1Verilog.contains("input  wire [31:0] s_axis_tdata") && !p1Verilog.contains("tkeep") && p1Verilog.contains("P = 1 value per beat"))
        let p3 = try HWGen.run(["generate", "--codebook", book, "--decoder", "--values-per-beat", "3", "-o", pipelined])
        #expect(p3.status == 1 && p3.error.contains("--values-per-beat 3"), "\(p3.error)")
        let p1q2 = try HWGen.run(["generate", "--codebook", book, "--decoder", "--values-per-beat", "1", "--words-per-beat", "2", "-o", pipelined])
        #expect(p1q2.status == 1 && p1q2.error.contains("--words-per-beat 2"), "\(p1q2.error)")
        #expect(try HWGen.run(["train", "--coder", "huffman", "--lanes", "33", "--name", "x", "-o", book, weights]).status != 0)
    }

    @Test("a K-lane tANS codebook: the pipelined decoder by default, K values per beat with --values-per-beat K, other P refused by name")
    func tansLaneDecoders() throws {
        let book = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/minilm_ffn1_tans_lanes8.json").path
        let rtl = HWGen.temporary("rtl")
        let wide = try HWGen.run(["generate", "--codebook", book, "--decoder", "--values-per-beat", "8", "-o", rtl])
        #expect(wide.status == 0, "\(wide.error)")
        let verilog = try String(contentsOfFile: rtl + "/minilm_ffn1_tans_lanes8_decoder.v", encoding: .utf8)
        #expect(verilog.contains("K = 8 lanes, P = 8 values per beat") && verilog.contains("output wire [127:0] m_axis_tdata")
                && verilog.contains("output wire [7:0] m_axis_tkeep") && verilog.contains("input  wire [95:0] s_axis_tdata"), "\(verilog.prefix(3000))")
        let pipelined = HWGen.temporary("rtl")
        #expect(try HWGen.run(["generate", "--codebook", book, "--decoder", "-o", pipelined]).status == 0)
        let p1 = try String(contentsOfFile: pipelined + "/minilm_ffn1_tans_lanes8_decoder.v", encoding: .utf8)
        #expect(p1.contains("P = 1 value per beat") && !p1.contains("tkeep"))
        let p4 = try HWGen.run(["generate", "--codebook", book, "--decoder", "--values-per-beat", "4", "-o", HWGen.temporary("rtl")])
        #expect(p4.status == 1 && p4.error.contains("--values-per-beat 4") && p4.error.contains("P = K = 8"), "\(p4.error)")
    }

    @Test("generate --encoder --values-per-beat K writes the K-lane Huffman encoder at P = K; P other than 1 and K is refused by name")
    func huffmanRoundEncoder() throws {
        let book = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/minilm_ffn1_huffman_lanes8.json").path
        let rtl = HWGen.temporary("rtl")
        let wide = try HWGen.run(["generate", "--codebook", book, "--encoder", "--values-per-beat", "8", "-o", rtl])
        #expect(wide.status == 0, "\(wide.error)")
        let verilog = try String(contentsOfFile: rtl + "/minilm_ffn1_lanes8_encoder.v", encoding: .utf8)
        #expect(verilog.contains("K = 8 lanes, P = 8 values per beat") && verilog.contains("input  wire [127:0] s_axis_tdata")
                && verilog.contains("input  wire [7:0] s_axis_tkeep") && verilog.contains("output wire [95:0] m_axis_tdata")
                && verilog.contains("output wire [2:0] m_axis_tkeep"), "\(verilog.prefix(3000))")
        let q2 = HWGen.temporary("rtl")
        #expect(try HWGen.run(["generate", "--codebook", book, "--encoder", "--values-per-beat", "8", "--words-per-beat", "2", "-o", q2]).status == 0)
        #expect(try String(contentsOfFile: q2 + "/minilm_ffn1_lanes8_encoder.v", encoding: .utf8).contains("output wire [63:0] m_axis_tdata"))
        let p4 = try HWGen.run(["generate", "--codebook", book, "--encoder", "--values-per-beat", "4", "-o", HWGen.temporary("rtl")])
        #expect(p4.status == 1 && p4.error.contains("--values-per-beat 4") && p4.error.contains("P = 1 or P = K = 8"), "\(p4.error)")
    }

    @Test("--engines N writes the decoder (with s_axis_tlast) and the encoder with N frame engines; sim runs both bit-exact; --engines 0 is refused by name")
    func frameEngines() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let book = root.appendingPathComponent("examples/minilm_ffn1_huffman.json").path
        let rtl = HWGen.temporary("rtl")
        let result = try HWGen.run(["generate", "--codebook", book, "--engines", "4", "-o", rtl])
        #expect(result.status == 0, "\(result.error)")
        let decoder = try String(contentsOfFile: rtl + "/minilm_ffn1_decoder.v", encoding: .utf8)
        #expect(decoder.contains("N = 4 frame engines") && decoder.contains("input  wire s_axis_tlast")
                && decoder.contains("output wire [63:0] m_axis_tdata") && decoder.contains("output wire [3:0] m_axis_tkeep"), "\(decoder.prefix(3000))")
        #expect(FileManager.default.fileExists(atPath: rtl + "/minilm_ffn1_encoder.v"))
        #expect(!decoder.contains("through one buffer"), "N = 4 keeps a FIFO per engine by default")
        let shared = HWGen.temporary("rtl")
        #expect(try HWGen.run(["generate", "--codebook", book, "--decoder", "--engines", "4", "--shared-buffers", "-o", shared]).status == 0)
        let sharedDecoder = try String(contentsOfFile: shared + "/minilm_ffn1_decoder.v", encoding: .utf8)
        #expect(sharedDecoder.contains("words in through one buffer of 4 banks") && sharedDecoder.contains("engines_out_bank3_mem"),
                "\(sharedDecoder.prefix(3000))")
        let alone = try HWGen.run(["generate", "--codebook", book, "--shared-buffers", "-o", HWGen.temporary("rtl")])
        #expect(alone.status != 0 && alone.error.contains("--shared-buffers needs --engines"), "\(alone.error)")
        // Q >= N words a beat: the encoder's words out go through banks too.
        let wide = HWGen.temporary("rtl")
        #expect(try HWGen.run(["generate", "--codebook", book, "--encoder", "--engines", "4", "--words-per-beat", "4", "--shared-buffers", "-o", wide]).status == 0)
        let wideEncoder = try String(contentsOfFile: wide + "/minilm_ffn1_encoder.v", encoding: .utf8)
        #expect(wideEncoder.contains("words out through one buffer of 4 banks") && wideEncoder.contains("engines_out_bank3_mem")
                && wideEncoder.contains("output wire [127:0] m_axis_tdata"), "\(wideEncoder.prefix(3000))")
        let sample = root.appendingPathComponent("examples/minilm_l1_ffn1_pre_gelu_sample.bf16.safetensors").path
        let sim = try HWGen.run(["sim", "--codebook", book, "--engines", "2", "--shared-buffers", "--words-per-beat", "2", "--frame-size", "500",
                                 "--valid", "70", "--ready", "60", sample])
        let verdicts = sim.output.split(separator: "\n").filter { $0.contains("BIT-EXACT") }
        #expect(sim.status == 0 && verdicts.count == 2, "\(sim.output) \(sim.error)")
        let noEngines = try HWGen.run(["sim", "--codebook", book, "--words-per-beat", "2", sample])
        #expect(noEngines.status != 0 && noEngines.error.contains("--words-per-beat needs --engines"), "\(noEngines.error)")
        let lanes = root.appendingPathComponent("examples/minilm_ffn1_tans_lanes2.json").path
        let refused = try HWGen.run(["generate", "--codebook", lanes, "--decoder", "--engines", "0", "-o", HWGen.temporary("rtl")])
        #expect(refused.status == 1 && refused.error.contains("--engines must be 1 to 64") && refused.error.split(separator: "\n").count == 1, "\(refused.error)")
    }

    @Test("--interleave 2: the one-lane tANS encoder with two frames in flight, alone and as engines, bit-exact; other cores refuse it by name")
    func interleave() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let tans = root.appendingPathComponent("examples/minilm_ffn1_tans.json").path
        let rtl = HWGen.temporary("rtl")
        #expect(try HWGen.run(["generate", "--codebook", tans, "--encoder", "--interleave", "2", "-o", rtl]).status == 0)
        let encoder = try String(contentsOfFile: rtl + "/minilm_ffn1_tans_encoder.v", encoding: .utf8)
        #expect(encoder.contains("two frames in flight") && encoder.contains("odd_values") && encoder.contains("input  wire s_axis_tlast"), "\(encoder.prefix(2000))")
        let sample = root.appendingPathComponent("examples/minilm_l1_ffn1_pre_gelu_sample.bf16.safetensors").path
        for extra in [[String](), ["--engines", "2"]] {
            let sim = try HWGen.run(["sim", "--codebook", tans, "--interleave", "2", "--frame-size", "300", "--valid", "70", "--ready", "60", "--limit", "6000", sample] + extra)
            #expect(sim.status == 0 && sim.output.split(separator: "\n").filter { $0.contains("_encoder:") && $0.contains("BIT-EXACT") }.count == 1,
                    "\(extra): \(sim.output) \(sim.error)")
        }
        for (book, role) in [("minilm_ffn1_huffman", "--encoder"), ("minilm_ffn1_tans_lanes2", "--encoder")] {
            let path = root.appendingPathComponent("examples/\(book).json").path
            let refused = try HWGen.run(["generate", "--codebook", path, role, "--interleave", "2", "-o", HWGen.temporary("rtl")])
            #expect(refused.status == 1 && refused.error.contains("only the one-lane tANS encoder") && refused.error.split(separator: "\n").count == 1,
                    "\(book): \(refused.error)")
        }
        let three = try HWGen.run(["generate", "--codebook", tans, "--interleave", "3", "-o", HWGen.temporary("rtl")])
        #expect(three.status != 0 && three.error.contains("--interleave must be 1 or 2"), "\(three.error)")
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        let label: String
        let arguments: @Sendable (String) throws -> [String]
        let message: String
        var testDescription: String { label }
    }

    @Test("sim runs the generated cores over the data under Verilator, bit-exact both ways, at full rate and with random valid/ready")
    func sim() throws {
        let book = try write(Self.tinyBook, "book.json")
        let values = HWGen.temporary("v.bin")
        var state: UInt64 = 7
        try Data((0..<6000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: (state >> 60) * (state >> 61)) & 0x9F  // symbols 0-9 only: coded, none escaped
        }).write(to: URL(fileURLWithPath: values))
        for rates in [[String](), ["--valid", "50", "--ready", "40", "--seed", "9", "--frame-size", "1000"]] {
            let result = try HWGen.run(["sim", "--codebook", book] + rates + [values])
            #expect(result.status == 0, "\(result.error)")
            let verdicts = result.output.split(separator: "\n").filter { $0.contains("BIT-EXACT") }
            #expect(verdicts.count == 2 && verdicts.allSatisfy { $0.contains("6000") }, "\(result.output)")
        }
        let wide = HWGen.temporary("w.safetensors")
        try Data([16, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"t": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}"#.utf8).prefix(16)).write(to: URL(fileURLWithPath: wide))
        #expect(try HWGen.run(["sim", "--codebook", book, wide]).status == 1)
    }

    @Test("a codebook whose name starts with '_' (valid by FORMAT.md) generates lint-clean cores")
    func underscoreName() throws {
        let book = try write(Self.tinyBook.replacingOccurrences(of: "\"tiny\"", with: "\"_x\""), "book.json")
        let out = HWGen.temporary("rtl")
        let result = try HWGen.run(["generate", "--codebook", book, "-o", out])
        #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["_x_decoder.v", "_x_decoder_out_skid.v", "_x_encoder.v", "_x_encoder_packer_skid.v"])
        guard let verilator = Toolchain.which("verilator") else {
            Issue.record("verilator is not installed; this test needs it (apt-get install verilator)")
            return
        }
        for top in ["_x_decoder", "_x_encoder"] {
            let lint = try Toolchain.run(verilator, ["--lint-only", "-Wall", "--top-module", top] + files, in: out)
            #expect(lint.status == 0 && lint.output.isEmpty, "\(lint.output)")
        }
    }

    @Test("--fusesoc writes a CAPI 2 core that FuseSoC itself reads and lints with Verilator")
    func fusesoc() throws {
        let book = try write(Self.tinyBook, "book.json")
        let out = HWGen.temporary("fusesoc")
        #expect(try HWGen.run(["--codebook", book, "--fusesoc", "-o", out]).status == 0)
        guard let tool = Toolchain.which("fusesoc") else {
            Issue.record("fusesoc is not installed; this test needs it. Install it with: pip install fusesoc")
            return
        }
        let info = try Toolchain.run(tool, ["--cores-root", ".", "core-info", "hwgen:cores:tiny:\(HWGenRelease.version)"], in: out)
        #expect(info.status == 0 && info.output.contains("lint_decoder") && info.output.contains("lint_encoder"), "\(info.output)")
        let lint = try Toolchain.run(tool, ["--cores-root", ".", "run", "--target", "lint_encoder", "hwgen:cores:tiny:\(HWGenRelease.version)"], in: out)
        #expect(lint.status == 0 && !lint.output.contains("%Warning") && !lint.output.contains("%Error"), "\(lint.output)")
    }

    @Test("formal writes each core, its property wrapper and a SymbiYosys job naming the wrapper's files")
    func formal() throws {
        let book = try write(Self.tinyBook, "book.json")
        let out = HWGen.temporary("formal")
        let result = try HWGen.run(["formal", "--codebook", book, "--depth", "20", "-o", out])
        #expect(result.status == 0, "\(result.error)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        for (core, skid) in [("tiny_decoder", "out_skid"), ("tiny_encoder", "packer_skid")] {
            #expect(files.isSuperset(of: ["\(core).v", "\(core)_\(skid).v", "\(core)_formal.v", "\(core)_formal.sby"]), "\(files)")
            let job = try String(contentsOfFile: "\(out)/\(core)_formal.sby", encoding: .utf8)
            #expect(job.contains("prep -top \(core)_formal") && job.contains("bmc: depth 20") && job.contains("\n\(core)_formal.v\n"), "\(job)")
            // The core states its codebook's fingerprint (docs/FORMAT.md's example codebook).
            let verilog = try String(contentsOfFile: "\(out)/\(core).v", encoding: .utf8)
            #expect(verilog.contains("// Codebook fingerprint: CRC-32C 0x3fc202a7"), "\(verilog.prefix(800))")
            let wrapper = try String(contentsOfFile: "\(out)/\(core)_formal.v", encoding: .utf8)
            #expect(wrapper.contains("`ifdef FORMAL") && wrapper.contains("\(core) dut ("), "\(wrapper)")
        }
    }

    @Test("conventions: --version names the revision, bare hwgen prints help and writes nothing, an option without the one it needs is a usage error")
    func conventions() throws {
        let version = try HWGen.run(["--version"])
        #expect(version.status == 0 && version.output.hasPrefix("hwgen ") && version.output.contains("source revision"), "\(version.output)")
        let folder = HWGen.temporary("bare")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HWGen.executable)
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let help = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && help.contains("SUBCOMMANDS"), "\(help)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        for arguments in [["--decoder"], ["generate", "--encoder"], ["--max-frame", "64"], ["--design", "axis-rom-demo", "--codebook", "x.json"]] {
            let result = try HWGen.run(arguments + ["-o", folder])
            #expect(result.status == 64, "\(arguments): \(result.error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("an unknown option or argument is a usage error naming it (exit 64) on every path; only bare hwgen prints help")
    func unknownOptions() throws {
        let folder = HWGen.temporary("unknown")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let book = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/minilm_ffn1_huffman.json").path
        // A misspelt option with nothing else (issue 26: this printed the help and exited 0).
        for arguments in [["--codebok", book], ["generate", "--codebok", book], ["--codebook", book, "--bogus"], ["--codebook", book, "--decoder", "--max-frme=64"]] {
            let result = try HWGen.run(arguments + ["-o", folder])
            let unknown = arguments.first { $0.hasPrefix("--") && !["--codebook", "--decoder"].contains($0) }?.split(separator: "=").first.map(String.init) ?? ""
            #expect(result.status == 64 && result.error.hasPrefix("Error: unknown option '\(unknown)'"), "\(arguments): \(result.status) \(result.error)")
            #expect(result.output.isEmpty, "\(arguments): printed \(result.output)")
        }
        // Every subcommand names the unknown option, whatever required option is missing too.
        for sub in ["generate", "train", "analyze", "encode", "decode", "histogram", "formal", "sim", "bench-vectors", "demo-vectors"] {
            let result = try HWGen.run([sub, "--no-such-option", "x"])
            #expect(result.status == 64 && result.error.hasPrefix("Error: unknown option '--no-such-option'"), "\(sub): \(result.status) \(result.error)")
        }
        for arguments in [["foo"], ["generate"], ["generate", "-o", folder]] {
            let result = try HWGen.run(arguments)
            #expect(result.status == 64 && result.error.hasPrefix("Error: "), "\(arguments): \(result.status) \(result.error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test("bad input: a one-line error naming the problem and a non-zero exit")
    func failures() throws {
        let book = try write(Self.tinyBook, "book.json")
        let malformed = try write("{\"format\": ", "bad.json")
        let kraft = try write(Self.tinyBook.replacingOccurrences(of: "[2, 2, 3,", with: "[1, 1, 3,"), "kraft.json")
        let truncated = HWGen.temporary("t.safetensors")
        try Data([0x10, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: truncated))
        let values = HWGen.temporary("v.bin")
        try Data((0..<100).map { UInt8($0) }).write(to: URL(fileURLWithPath: values))
        let stream = HWGen.temporary("v.hwgs")
        #expect(try HWGen.run(["encode", "--codebook", book, "--frame-size", "10", values, "-o", stream]).status == 0)
        var corrupt = try Data(contentsOf: URL(fileURLWithPath: stream))
        corrupt = corrupt.prefix(corrupt.count - 2)
        let corruptPath = HWGen.temporary("c.hwgs")
        try corrupt.write(to: URL(fileURLWithPath: corruptPath))

        let cases: [([String], String)] = [
            (["encode", "--codebook", malformed, values, "-o", stream], "invalid JSON"),
            (["encode", "--codebook", kraft, values, "-o", stream], "Kraft sum"),
            (["train", "--coder", "huffman", "--name", "x", "-o", HWGen.temporary("o.json"), truncated], "header length 16 runs past the end"),
            (["decode", "--codebook", book, corruptPath, "-o", HWGen.temporary("x.bin")], "the file ends early"),
            (["decode", "--codebook", HWGen.temporary("missing.json"), corruptPath, "-o", HWGen.temporary("x.bin")], "cannot read"),
            (["train", "--coder", "huffman", "--name", "9bad", "-o", HWGen.temporary("o.json"), values], "'name'"),
            (["generate", "--codebook", book, "--max-frame", "0", "-o", HWGen.temporary("rtl")], "--max-frame must be 1 to"),
            (["generate", "--codebook", kraft, "-o", HWGen.temporary("rtl")], "Kraft sum"),
            (["formal", "--codebook", kraft, "-o", HWGen.temporary("formal")], "Kraft sum"),
            (["formal", "--codebook", book, "--depth", "1", "-o", HWGen.temporary("formal")], "--depth must be 2 to 200"),
        ]
        for (arguments, message) in cases {
            let result = try HWGen.run(arguments)
            #expect(result.status != 0, "\(arguments) succeeded")
            let errorLines = result.error.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            #expect(errorLines.count == 1, "\(arguments): \(result.error)")
            #expect(errorLines.first?.contains(message) == true, "\(arguments): \(result.error)")
        }
    }
}

/// Dtypes, explicitly (issue 16): each safetensors dtype trains its own default transform and
/// records itself; dtypes do not mix unless told; widths must match the codebook's.
@Suite("hwgen and tensor dtypes")
struct DTypeTests {
    /// A one-tensor safetensors file of `dtype` holding `bytes`.
    static func safetensors(_ dtype: String, elementSize: Int, bytes: [UInt8]) throws -> String {
        let header = #"{"t": {"dtype": "\#(dtype)", "shape": [\#(bytes.count / elementSize)], "data_offsets": [0, \#(bytes.count)]}}"#
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        data.append(Data(bytes: &length, count: 8))
        data.append(Data(header.utf8))
        data.append(Data(bytes))
        let path = HWGen.temporary("\(dtype).safetensors")
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Values with a skewed distribution, little-endian, `width` bytes each.
    static func values(_ count: Int, width: Int) -> [UInt8] {
        var state: UInt64 = 12345
        return (0..<count).flatMap { _ -> [UInt8] in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let small = UInt64((state >> 33) % 7) * UInt64((state >> 40) % 5)
            let value = (0x3F00 + small * 3) & ((1 << (8 * UInt64(width))) - 1)
            return (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
        }
    }

    static func train(_ file: String, _ extra: [String] = []) throws -> (HWGen.Result, [String: Any]) {
        let out = HWGen.temporary("book.json")
        let result = try HWGen.run(["train", "--coder", "huffman", "--name", "d", "-o", out] + extra + [file])
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))) as? [String: Any] ?? [:]
        return (result, json)
    }

    @Test("the default transform follows the dtype, which the provenance records; F8 is accepted")
    func defaults() throws {
        let cases: [(String, Int, String)] = [("BF16", 2, "bf16-exponent"), ("F16", 2, "split"), ("F8_E4M3", 1, "identity"),
                                              ("F8_E5M2", 1, "identity"), ("F32", 4, "split")]
        for (dtype, size, transform) in cases {
            let file = try Self.safetensors(dtype, elementSize: size, bytes: Self.values(4000, width: size))
            let (result, book) = try Self.train(file)
            #expect(result.status == 0, "\(dtype): \(result.error)")
            #expect(book["transform"] as? String == transform, "\(dtype): \(book["transform"] ?? "none")")
            #expect((book["provenance"] as? [String: Any])?["dtype"] as? String == dtype)
        }
    }

    @Test("BF16 and F16 do not train together unless --mix-dtypes; encode refuses data of another width; --round-f32 says it is lossy")
    func mixingAndWidths() throws {
        let bf16 = try Self.safetensors("BF16", elementSize: 2, bytes: Self.values(3000, width: 2))
        let f16 = try Self.safetensors("F16", elementSize: 2, bytes: Self.values(3000, width: 2))
        let f32 = try Self.safetensors("F32", elementSize: 4, bytes: Self.values(3000, width: 4))
        let out = HWGen.temporary("mixed.json")
        let mixed = try HWGen.run(["train", "--coder", "huffman", "--name", "m", "-o", out, bf16, f16])
        #expect(mixed.status == 1 && mixed.error.contains("F16") && mixed.error.contains("BF16") && mixed.error.contains("--mix-dtypes"), "\(mixed.error)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try HWGen.run(["train", "--coder", "huffman", "--name", "m", "--mix-dtypes", "-o", out, bf16, f16]).status == 0)

        let wide = HWGen.temporary("wide.json")
        #expect(try HWGen.run(["train", "--coder", "huffman", "--name", "w", "-o", wide, f32]).status == 0)
        let refused = try HWGen.run(["encode", "--codebook", wide, bf16, "-o", HWGen.temporary("x.hwgs")])
        #expect(refused.status == 1 && refused.error.contains("16-bit values (BF16)") && refused.error.contains("32-bit"), "\(refused.error)")

        let (rounded, book) = try Self.train(f32, ["--round-f32"])
        #expect(rounded.status == 0 && rounded.output.contains("LOSSY") && rounded.output.contains("against the F32 input"), "\(rounded.output)")
        #expect((book["provenance"] as? [String: Any])?["dtype"] as? String == "F32 rounded to BF16")
    }
}

/// Model folders, .npy files and formats hwgen does not read (issue 16).
@Suite("hwgen inputs: model folders, .npy, foreign formats")
struct ModelInputTests {
    static func folder() throws -> (path: String, inIndexOrder: [UInt8]) {
        let dir = HWGen.temporary("model")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let first = DTypeTests.values(2000, width: 2), second = DTypeTests.values(3000, width: 2).reversed().map { $0 }
        // The index lists shard 2 first: that is the order the model is read in, not the names'.
        try FileManager.default.moveItem(atPath: try DTypeTests.safetensors("BF16", elementSize: 2, bytes: first), toPath: dir + "/model-00001-of-00002.safetensors")
        try FileManager.default.moveItem(atPath: try DTypeTests.safetensors("BF16", elementSize: 2, bytes: second), toPath: dir + "/model-00002-of-00002.safetensors")
        try #"{"metadata": {"total_size": 10000}, "weight_map": {"b": "model-00002-of-00002.safetensors", "a": "model-00001-of-00002.safetensors"}}"#
            .write(toFile: dir + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        return (dir, second + first)
    }

    @Test("a model folder is its shards in index order: train, encode and decode take it; a shard the index names must be there")
    func folders() throws {
        let (dir, expected) = try Self.folder()
        let book = HWGen.temporary("book.json")
        #expect(try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", book, dir]).status == 0)
        let stream = HWGen.temporary("m.hwgs"), back = HWGen.temporary("m.bin")
        #expect(try HWGen.run(["encode", "--codebook", book, dir, "-o", stream]).status == 0)
        #expect(try HWGen.run(["decode", stream, "-o", back]).status == 0)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: back))) == expected)
        let analyzed = try HWGen.run(["analyze", "--codebook", book, "--totals", dir])
        #expect(analyzed.status == 0 && analyzed.output.contains("model-00002-of-00002.safetensors: t"), "\(analyzed.output)")
        try FileManager.default.removeItem(atPath: dir + "/model-00001-of-00002.safetensors")
        let missing = try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", HWGen.temporary("x.json"), dir])
        #expect(missing.status == 1 && missing.error.contains("names model-00001-of-00002.safetensors, which is not in the folder"), "\(missing.error)")
    }

    @Test(".npy arrays are read by their header; a bad one is an error; other formats are refused by name unless --raw")
    func formats() throws {
        let values = DTypeTests.values(1000, width: 2)
        var header = "{'descr': '<f2', 'fortran_order': False, 'shape': (10, 100), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        npy.append(Data(header.utf8))
        let path = HWGen.temporary("a.npy")
        try (npy + Data(values)).write(to: URL(fileURLWithPath: path))
        let book = HWGen.temporary("npy.json")
        let trained = try HWGen.run(["train", "--coder", "huffman", "--name", "n", "-o", book, path])
        #expect(trained.status == 0 && trained.error.contains("1000 values of 16 bits"), "\(trained.error)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: book))) as? [String: Any]
        #expect((json?["provenance"] as? [String: Any])?["dtype"] as? String == "F16")
        let stream = HWGen.temporary("n.hwgs"), back = HWGen.temporary("n.bin")
        #expect(try HWGen.run(["encode", "--codebook", book, path, "-o", stream]).status == 0)
        #expect(try HWGen.run(["decode", stream, "-o", back]).status == 0)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: back))) == values)

        let short = HWGen.temporary("short.npy")
        try (npy + Data(values.dropLast(2))).write(to: URL(fileURLWithPath: short))
        let bad = try HWGen.run(["train", "--coder", "huffman", "--name", "n", "-o", HWGen.temporary("b.json"), short])
        #expect(bad.status == 1 && bad.error.contains("malformed .npy file: shape needs 1000 values"), "\(bad.error)")

        let checkpoint = HWGen.temporary("model.pt"), zipped = HWGen.temporary("pytorch_model.bin")
        try Data(values).write(to: URL(fileURLWithPath: checkpoint))
        try (Data([0x50, 0x4B, 0x03, 0x04]) + Data(values)).write(to: URL(fileURLWithPath: zipped))
        for (file, what) in [(checkpoint, "a PyTorch checkpoint"), (zipped, "a zip archive")] {
            let refused = try HWGen.run(["train", "--coder", "huffman", "--name", "p", "-o", HWGen.temporary("p.json"), file])
            #expect(refused.status == 1 && refused.error.contains(what) && refused.error.contains("--raw"), "\(refused.error)")
        }
        #expect(try HWGen.run(["train", "--coder", "huffman", "--name", "p", "--raw", "-o", HWGen.temporary("p.json"), checkpoint]).status == 0)
    }
}

/// Scale-out training (issue 16): histograms of parts of the data, merged by train, give the
/// codebook that training on all of it gives.
@Suite("hwgen histogram: mergeable statistics for training")
struct HistogramFileTests {
    @Test("train on the histogram files of two halves writes the codebook train on both files writes; bad histogram files are errors",
          arguments: [("BF16", 2), ("F32", 4)])
    func mergeEqualsWhole(dtype: String, size: Int) throws {
        let first = try DTypeTests.safetensors(dtype, elementSize: size, bytes: DTypeTests.values(3000, width: size))
        let second = try DTypeTests.safetensors(dtype, elementSize: size, bytes: DTypeTests.values(5000, width: size).reversed())
        let h1 = HWGen.temporary("a.histogram.json"), h2 = HWGen.temporary("b.histogram.json")
        #expect(try HWGen.run(["histogram", first, "-o", h1]).status == 0)
        #expect(try HWGen.run(["histogram", second, "-o", h2]).status == 0)
        let fromHistograms = HWGen.temporary("h.json"), fromData = HWGen.temporary("d.json")
        let merged = try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", fromHistograms, h1, h2])
        #expect(merged.status == 0 && merged.error.contains("read 2 histogram file(s): 8000 values"), "\(merged.error)")
        #expect(try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", fromData, first, second]).status == 0)
        #expect(try String(contentsOfFile: fromHistograms, encoding: .utf8) == String(contentsOfFile: fromData, encoding: .utf8))

        var text = try String(contentsOfFile: h1, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"values\": 3000", with: "\"values\": 3001")
        let damaged = HWGen.temporary("bad.histogram.json")
        try text.write(toFile: damaged, atomically: true, encoding: .utf8)
        let refused = try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", HWGen.temporary("x.json"), damaged])
        #expect(refused.status == 1 && refused.error.contains("'values' says 3001"), "\(refused.error)")
        let mixed = try HWGen.run(["train", "--coder", "tans", "--name", "m", "-o", HWGen.temporary("x.json"), h1, first])
        #expect(mixed.status == 1 && mixed.error.contains("not both"), "\(mixed.error)")
    }
}

/// `analyze --svg` (issue 16): pictures that are valid SVG and show the data.
@Suite("hwgen analyze --svg")
struct PlotTests {
    /// Parses `text` as XML; returns the root element's name and the count of each element.
    final class Counter: NSObject, XMLParserDelegate {
        var root: String?
        var elements: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if root == nil { root = name }
            elements[name, default: 0] += 1
        }
    }

    @Test("four well-formed SVG files: data bars and codebook points per symbol, code lengths, a point per shard")
    func plots() throws {
        let file = try DTypeTests.safetensors("BF16", elementSize: 2, bytes: DTypeTests.values(20000, width: 2))
        let book = HWGen.temporary("book.json")
        #expect(try HWGen.run(["train", "--coder", "huffman", "--name", "p", "-o", book, file]).status == 0)
        let dir = HWGen.temporary("svg")
        let result = try HWGen.run(["analyze", "--codebook", book, "--shard-size", "4000", "--svg", dir, file])
        #expect(result.status == 0, "\(result.error)")
        var found: [String: Counter] = [:]
        for name in ["symbols.svg", "code.svg", "kl.svg", "ratio.svg"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))
            let parser = XMLParser(data: data)
            let counter = Counter()
            parser.delegate = counter
            #expect(parser.parse(), "\(name): \(parser.parserError.map { "\($0)" } ?? "")")
            #expect(counter.root == "svg", "\(name)")
            found[name] = counter
        }
        let symbols = DTypeTests.values(20000, width: 2).chunks(2).map { Array($0) }.map { (Int($0[1]) << 8 | Int($0[0])) >> 7 & 0xFF }
        let distinct = Set(symbols).count
        // Bars: the background, the legend squares and one per symbol in the data.
        #expect(found["symbols.svg"]?.elements["rect"] == 1 + 2 + distinct)
        #expect((found["symbols.svg"]?.elements["circle"] ?? 0) >= distinct)
        #expect(found["kl.svg"]?.elements["polyline"] == 1 && found["ratio.svg"]?.elements["polyline"] == 2)
        let kl = try String(contentsOfFile: "\(dir)/kl.svg", encoding: .utf8)
        let points = kl.components(separatedBy: "points=\"").dropFirst().first?.prefix { $0 != "\"" }.split(separator: " ").count
        #expect(points == 5, "20000 values in shards of 4000")
    }
}

extension Array {
    func chunks(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min(count, $0 + size)] }
    }
}
