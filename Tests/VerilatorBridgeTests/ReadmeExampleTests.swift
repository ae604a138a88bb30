import HDL
import Testing
import VerilatorBridge

@Suite("The README's examples do what it says")
struct ReadmeExampleTests {
    @Test("the counter counts 3 after three enabled cycles, and holds when disabled")
    func counter() throws {
        let counter = try Module("counter") { m in
            let enable = m.input("enable")
            let count = m.output("count", width: 4)
            let value = m.register("value", width: 4, reset: 0)
            m.when(enable) { value.assign(value + 1) }
            count.assign(value)
        }
        let library = try SimulationBuilder().build([counter])
        let sim = try library.simulation(of: "counter")
        let enable = try sim.port("enable"), count = try sim.port("count")
        sim.reset()
        sim.poke(enable, 1)
        sim.tick(3)
        #expect(sim.peek(count) == 3)
        sim.poke(enable, 0)
        sim.tick(5)
        #expect(sim.peek(count) == 3)
        sim.poke(enable, 1)
        sim.tick(14)
        #expect(sim.peek(count) == 1, "4-bit counter wraps: 3 + 14 = 17 = 1 mod 16")
        sim.reset()
        #expect(sim.peek(count) == 0)
    }
}
