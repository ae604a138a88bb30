import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// `PinWrapper` feeds a module's inputs from one shift register on `serial_in` and folds its
/// registered outputs into `serial_out`. Its figures are only worth something if the wrapped
/// module really sees the bits shifted in and every output bit reaches the pin: a slice in the
/// wrong place, a dropped output bit or a fold that loses a level shows as a wrong parity here.
@Suite("PinWrapper: a core's ports through one pin each way")
struct PinWrapperTests {
    @Test("serial_out is the parity of the module's outputs, for inputs shifted in on serial_in")
    func parityOfOutputs() throws {
        // Two inputs (12 and 9 bits) and three outputs (their sum, 13 bits; a registered copy of
        // b, 9 bits; a flag): 23 output bits.
        let inner = try Module("adder") { m in
            let a = m.input("a", width: 12), b = m.input("b", width: 9)
            m.output("sum", width: 13).assign(a.zeroExtended(to: 13) + b.zeroExtended(to: 13))
            let held = m.register("held", width: 9, reset: 0)
            held.assign(b)
            m.output("late", width: 9).assign(held)
            m.output("flag").assign(a[0] ^ b[8])
        }
        let top = try PinWrapper.module(around: inner)
        #expect(top.ports.map(\.name) == ["clk", "rst", "serial_in", "serial_out"])
        try ExternalTools.lint(top)
        let sim = try SimulationBuilder().build([top]).simulation(of: top.name)
        let (serialIn, serialOut) = (try sim.port("serial_in"), try sim.port("serial_out"))
        sim.reset()
        var random = SeededRandom(seed: 11)
        var chain: UInt64 = 0       // the 21 input bits: a at bits 11-0, b at 20-12
        var held: UInt64 = 0
        var outputs: [UInt64] = []  // the outputs' parity, cycle by cycle
        for cycle in 0..<400 {
            let bit = random.next() & 1
            sim.poke(serialIn, bit)
            sim.eval()
            // The module's outputs this cycle, from the chain as it is before the edge.
            let a = chain & 0xFFF, b = (chain >> 12) & 0x1FF
            let sum = a + b, flag = (a & 1) ^ (b >> 8)
            outputs.append(UInt64((sum.nonzeroBitCount + held.nonzeroBitCount + Int(flag)) & 1))
            // Outputs are held a cycle, then three fold levels (23 -> 6 -> 2 -> 1 bits): the pin shows cycle t - 4.
            if cycle >= 8 { #expect(sim.peek(serialOut) == outputs[cycle - 4], "cycle \(cycle)") }
            sim.tick()
            held = b
            chain = ((chain << 1) | bit) & ((1 << 21) - 1)
        }
    }
}
