import HDL
import HDLBlocks
import Testing
import TestSupport

@Suite("Every emitted file is lint-clean and accepted by Icarus")
struct LintTests {
    static func modules() throws -> [Module] {
        [
            try GoldenModules.counter(), try GoldenModules.decode(), try GoldenModules.memory(),
            try AxisRomDemo.module(), try SkidBuffer.module(name: "skid32", shape: StreamShape(dataWidth: 32)),
        ] + (try (1...4).map { try randomExpressionModule(seed: UInt64($0)).module })
    }

    @Test("verilator --lint-only -Wall reports nothing")
    func verilatorLint() throws {
        for module in try Self.modules() {
            try ExternalTools.lint(module)
        }
    }

    @Test("iverilog -g2005 compiles without a message")
    func icarus() throws {
        for module in try Self.modules() {
            try ExternalTools.icarusCompile(module)
        }
    }
}

@Suite("ROM contents in hex files")
struct RomFileTests {
    @Test("a block ROM reads its contents with $readmemh from <module>_<rom>.hex, padded to a power of two")
    func hexFile() throws {
        let files = try GoldenModules.memory().verilogFiles(romContents: .hexFiles(prefix: ""))
        #expect(files.map(\.name) == ["memory.v", "memory_words.hex"])
        #expect(files[0].contents.contains(#"initial $readmemh("memory_words.hex", words_mem);"#))
        #expect(!files[0].contents.contains("words_mem[0] ="))
        #expect(files[1].contents == "3f80\n4000\nbf80\n0007\n0000\n0001\n0000\n0000\n")
    }

    @Test("Icarus and Yosys read the hex file: the ROM gives its words back")
    func toolsReadIt() throws {
        let files = try GoldenModules.memory().verilogFiles(romContents: .hexFiles(prefix: ""))
        let bench = VerilogFile(name: "bench.v", contents: """
            `timescale 1ns / 1ps
            module bench;
                reg clk = 0, enable = 1;
                reg [2:0] address = 0;
                wire [15:0] data;
                memory dut (.clk(clk), .address(address), .enable(enable), .data(data));
                integer i;
                initial begin
                    for (i = 0; i < 6; i = i + 1) begin
                        address = i; #1 clk = 1; #1 clk = 0;
                        $display("%h", data);
                    end
                    $finish;
                end
            endmodule

            """)
        let dir = try ExternalTools.writeTemporary(files + [bench])
        let iverilog = try ExternalTools.require("iverilog", install: "apt-get install -y iverilog")
        let compile = try ExternalTools.run(iverilog, ["-g2005", "-o", "bench.vvp", "bench.v", "memory.v"], in: dir)
        #expect(compile.status == 0, "\(compile.output)")
        let vvp = try ExternalTools.require("vvp", install: "apt-get install -y iverilog")
        let run = try ExternalTools.run(vvp, ["-n", "bench.vvp"], in: dir)
        let words = String(run.output).split(separator: "\n").map(String.init).filter { $0.count == 4 }
        #expect(words == ["3f80", "4000", "bf80", "0007", "0000", "0001"], "\(run.output)")
        let yosys = try ExternalTools.require("yosys", install: "apt-get install -y yosys")
        let synth = try ExternalTools.run(yosys, ["-q", "-p", "read_verilog memory.v; synth -top memory; stat"], in: dir)
        #expect(synth.status == 0, "\(synth.output)")
    }
}
