import HDL
import Testing
import TestSupport
import VerilatorBridge

/// The emitted Verilog must compute exactly what the IR means: Verilog's context-dependent
/// widths are the classic trap. Random expression trees (all operators, mixed widths up to 64
/// bits) are simulated by Verilator and compared with a Swift evaluation of the same IR. The
/// modules share one build, which also exercises batching.
@Suite("Emitted expressions match the IR's semantics")
struct ExpressionSemanticsTests {
    @Test("random expression trees, simulated vs evaluated")
    func randomExpressions() throws {
        let seeds: [UInt64] = TestScale.pick(quick: Array(11...16), long: Array(100...159))
        let designs = try seeds.map { try randomExpressionModule(seed: $0, outputs: 32, depth: 5) }
        let library = try SimulationBuilder().build(designs.map(\.module))
        var random = SeededRandom(seed: 99)
        for design in designs {
            let sim = try library.simulation(of: design.module.name)
            let inputs = try ["a", "b", "c", "d", "e", "f"].map { try sim.port($0) }
            let outputs = try (0..<design.expressions.count).map { try sim.port("y\($0)") }
            for _ in 0..<TestScale.pick(quick: 300, long: 3000) {
                var values: [SignalID: UInt64] = [:]
                for (id, port) in inputs.enumerated() {
                    // Bias towards edge values, where width bugs show.
                    let v: UInt64 = switch random.next() % 4 {
                    case 0: mask(port.width)
                    case 1: 0
                    default: random.next() & mask(port.width)
                    }
                    values[id] = v
                    sim.poke(port, v)
                }
                sim.eval()
                for (i, expr) in design.expressions.enumerated() {
                    let expected = evaluate(expr) { values[$0] ?? 0 }
                    let got = sim.peek(outputs[i])
                    #expect(got == expected, "\(design.module.name).y\(i) inputs \(values.sorted { $0.key < $1.key }.map(\.value))")
                    if got != expected { return }
                }
            }
        }
    }
}
