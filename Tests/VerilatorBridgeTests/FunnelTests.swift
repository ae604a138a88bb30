import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// `Funnel.top` spells a variable shift as multiplexer stages that compute only the bits that
/// reach the result; a wrong slice offset or a pruned bit would show as a wrong output for some
/// amount. Every amount is simulated for several shapes (odd amount widths give a 2:1 stage,
/// keeps from 1 bit to the whole value, amounts that shift everything out).
@Suite("Funnel: the top bits of a variable left shift")
struct FunnelTests {
    @Test("every amount and random values: the stages equal (value << amount), top bits")
    func matchesShift() throws {
        let shapes: [(value: Int, keep: Int, amount: Int)] = [
            (64, 28, 7), (28, 16, 4), (33, 1, 5), (12, 12, 3), (40, 9, 6), (8, 3, 1), (64, 64, 6), (20, 5, 5),
        ]
        let modules = try shapes.enumerated().map { i, shape in
            try Module("funnel\(i)") { m in
                let value = m.input("v", width: shape.value)
                let amount = m.input("a", width: shape.amount)
                m.output("y", width: shape.keep).assign(Funnel.top(shape.keep, of: value, shiftedLeftBy: amount, name: "f", in: m))
            }
        }
        let library = try SimulationBuilder().build(modules)
        var random = SeededRandom(seed: 7)
        for (i, shape) in shapes.enumerated() {
            let sim = try library.simulation(of: "funnel\(i)")
            let (v, a, y) = (try sim.port("v"), try sim.port("a"), try sim.port("y"))
            for amount in 0..<(1 << shape.amount) {
                for _ in 0..<TestScale.pick(quick: 8, long: 200) {
                    let value = random.next() & mask(shape.value)
                    sim.poke(v, value)
                    sim.poke(a, UInt64(amount))
                    sim.eval()
                    let shifted = amount >= 64 ? 0 : (value << UInt64(amount)) & mask(shape.value)
                    let expected = shifted >> UInt64(shape.value - shape.keep)
                    #expect(sim.peek(y) == expected, "shape \(shape) value \(value) amount \(amount)")
                }
            }
        }
    }
}
