import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport

/// Runs a generated AXI-Stream design under Icarus with testbench/axis_file_bench.v.
enum IcarusBench {
    static var benchPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("testbench/axis_file_bench.v").path
    }

    /// Simulates `module` on `input` beats ({tlast, data}) and checks `expected` beats; returns
    /// the bench's summary line.
    static func run(_ module: Module, inWidth: Int, outWidth: Int, input: [(UInt64, Bool)], expected: [(UInt64, Bool)],
                    sLast: Bool, mLast: Bool) throws -> String {
        func hex(_ beats: [(UInt64, Bool)], width: Int) -> [String] {
            beats.map { String(($1 ? 1 : 0) << UInt64(width) | $0, radix: 16) }
        }
        return try run(module, inWidth: inWidth, outWidth: outWidth, inputLines: hex(input, width: inWidth),
                       expectedLines: hex(expected, width: outWidth), defines: (sLast ? ["-DHAS_S_LAST"] : []) + (mLast ? ["-DHAS_M_LAST"] : []))
    }

    /// The same with the hex lines given ({tkeep, tlast, tdata} each) and extra defines.
    static func run(_ module: Module, inWidth: Int, outWidth: Int, inputLines: [String], expectedLines: [String], defines extra: [String]) throws -> String {
        let iverilog = try ExternalTools.require("iverilog", install: "apt-get install -y iverilog")
        let vvp = try ExternalTools.require("vvp", install: "apt-get install -y iverilog")
        let dir = try ExternalTools.writeTemporary(module.verilogFiles())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (inputLines.joined(separator: "\n") + "\n").write(toFile: dir + "/in.hex", atomically: true, encoding: .utf8)
        try (expectedLines.joined(separator: "\n") + "\n").write(toFile: dir + "/out.hex", atomically: true, encoding: .utf8)
        let defines = ["-DDUT=\(module.name)", "-DIN_WIDTH=\(inWidth)", "-DOUT_WIDTH=\(outWidth)"] + extra
        let compile = try ExternalTools.run(iverilog, ["-g2005"] + defines + ["-o", "bench", benchPath] + module.verilogFiles().map(\.name), in: dir)
        guard compile.status == 0 else { throw ToolFailure(command: "iverilog", output: compile.output) }
        let run = try ExternalTools.run(vvp, ["bench", "+input=in.hex", "+expected=out.hex", "+inputs=\(inputLines.count)", "+outputs=\(expectedLines.count)"], in: dir)
        return run.output
    }
}

@Suite("Icarus agrees with Verilator and the reference coder")
struct IcarusTests {
    @Test("the encoder of each conformance vector (Huffman and tANS), under Icarus")
    func encoderVectors() throws {
        for c in try EncoderLibrary.cases.get() where !c.isRandom {
            let codec = StreamCodec(codebook: c.codebook)
            let expected = try CoreHarness.referenceWords(codec, c.values, frameSizes: c.codedFrames)
            let lasts = CoreHarness.lastFlags(frameSizes: c.frameSizes)
            let output = try IcarusBench.run(
                c.module, inWidth: c.codebook.layout.valueBits, outWidth: 32,
                input: zip(c.values.map(UInt64.init), lasts).map { ($0, $1) },
                expected: zip(expected.words, expected.last).map { ($0, $1) }, sLast: true, mLast: true)
            #expect(output.contains("PASS"), "\(c.module.name): \(output)")
        }
    }

    @Test("the decoder of each conformance vector (Huffman and tANS), under Icarus")
    func decoderVectors() throws {
        for c in try DecoderLibrary.cases.get() where !c.isRandom {
            let output = try IcarusBench.run(
                c.module, inWidth: 32, outWidth: c.codebook.layout.valueBits,
                input: CoreHarness.words(c.stream).map { ($0, false) },
                expected: zip(c.values.map(UInt64.init), c.last).map { ($0, $1) }, sLast: false, mLast: true)
            #expect(output.contains("PASS"), "\(c.module.name): \(output)")
        }
    }
}
