import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// The demo design is built once for the whole suite.
enum DemoLibrary {
    static let shared: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build([try AxisRomDemo.module()])
    }
}

@Suite("AXI-Stream ROM demo through Verilator")
struct AxisRomDemoSimulationTests {
    @Test("bulk stream: every byte mapped, none lost, repeated or reordered, under random backpressure",
          arguments: [(1000, 1000), (500, 1000), (1000, 300), (250, 400), (900, 100)])
    func bulkStream(validPerMille: Int, readyPerMille: Int) throws {
        let sim = try DemoLibrary.shared.get().simulation(of: AxisRomDemo.name)
        sim.reset()
        let count = TestScale.pick(quick: 5000, long: 1_000_000)
        var rng = SeededRandom(seed: UInt64(validPerMille * 1000 + readyPerMille))
        let bytes = (0..<count).map { _ in rng.next() & 0xFF }
        let lasts = (0..<count).map { $0 % 37 == 36 || $0 == count - 1 }
        var job = StreamJob(input: bytes, inputLast: lasts, expectedOutputs: bytes.count)
        job.validPerMille = validPerMille
        job.readyPerMille = readyPerMille
        job.seed = UInt64(validPerMille * 7919 + readyPerMille)
        let result = try sim.stream(job)
        #expect(result.stop == .done)
        #expect(result.consumed == bytes.count)
        #expect(result.protocolErrors == 0)
        #expect(result.outputs == bytes.map { UInt64(AxisRomDemo.reference(UInt8($0))) })
        #expect(result.outputLast == lasts)
        if validPerMille == 1000 && readyPerMille == 1000 {
            // Full throughput: one beat per cycle plus the two-stage latency.
            #expect(result.cycles <= bytes.count + 4)
        }
    }
}
