import Foundation
import HDL
import HDLBlocks
import Testing
import TestSupport

/// Yosys accepts the emitted Verilog and maps a block-memory ROM to block RAM on each family.
@Suite("Yosys synthesis of the demo")
struct SynthesisTests {
    /// Synthesises `module` with `synth_<family> -flatten` and returns the cell counts of `stat`.
    static func cells(of module: Module, family: String) throws -> [String: Int] {
        let yosys = try ExternalTools.require("yosys", install: "apt-get install -y yosys")
        let files = module.verilogFiles()
        let dir = try ExternalTools.writeTemporary(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "read_verilog \(files.map(\.name).joined(separator: " ")); synth_\(family) -flatten -top \(module.name); check -assert; tee -o stat.txt stat"
        let result = try ExternalTools.run(yosys, ["-q", "-p", script], in: dir)
        guard result.status == 0 else { throw ToolFailure(command: "yosys \(script)", output: result.output) }
        let stat = try String(contentsOfFile: "\(dir)/stat.txt", encoding: .utf8)
        var cells: [String: Int] = [:]
        for line in stat.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let n = Int(parts[1]) { cells[String(parts[0])] = n }
        }
        return cells
    }

    @Test("the S-box ROM becomes one block RAM", arguments: [
        ("ice40", "SB_RAM40_4K"), ("ecp5", "DP16KD"), ("xilinx", "RAMB18E1"),
    ])
    func blockRam(family: String, ramCell: String) throws {
        let cells = try Self.cells(of: try AxisRomDemo.module(), family: family)
        #expect(cells[ramCell] == 1, "cells: \(cells)")
    }

    @Test("a logic-style ROM stays in LUTs")
    func logicRom() throws {
        let module = try Module("lut_rom") { m in
            let a = m.input("a", width: 8)
            m.output("y", width: 8).assign(m.rom(
                "lut", width: 8, contents: AxisRomDemo.sbox.map(UInt64.init), style: .logic,
                address: a, synchronous: false))
        }
        let cells = try Self.cells(of: module, family: "ecp5")
        #expect(cells["DP16KD"] == nil)
        #expect((cells["LUT4"] ?? 0) > 0)
    }
}
