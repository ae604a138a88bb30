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
