import Foundation
import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

@Suite("Per-cycle driving from Swift")
struct PerCycleTests {
    @Test("the demo driven cycle by cycle from Swift with random valid/ready keeps every beat")
    func demoPerCycle() throws {
        let sim = try DemoLibrary.shared.get().simulation(of: AxisRomDemo.name)
        let sData = try sim.port("s_axis_tdata"), sValid = try sim.port("s_axis_tvalid")
        let sReady = try sim.port("s_axis_tready"), sLast = try sim.port("s_axis_tlast")
        let mData = try sim.port("m_axis_tdata"), mValid = try sim.port("m_axis_tvalid")
        let mReady = try sim.port("m_axis_tready"), mLast = try sim.port("m_axis_tlast")
        sim.reset()
        #expect(sim.peek(mValid) == 0, "m_axis_tvalid must be low after reset")

        var random = SeededRandom(seed: 7)
        let input = (0..<3000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var sent = 0
        var received: [(UInt8, Bool)] = []
        var offering = false
        var held: (UInt64, UInt64)? = nil
        var cycles = 0
        while received.count < input.count && cycles < 100_000 {
            if !offering { offering = sent < input.count && random.next() % 3 != 0 }
            sim.poke(sValid, offering ? 1 : 0)
            if offering {
                sim.poke(sData, UInt64(input[sent]))
                sim.poke(sLast, sent % 10 == 9 ? 1 : 0)
            }
            let ready = random.next() % 4 != 0
            sim.poke(mReady, ready ? 1 : 0)
            sim.eval()
            let valid = sim.peek(mValid) == 1
            if let (data, last) = held {
                // An offered beat stays unchanged until taken.
                #expect(valid && sim.peek(mData) == data && sim.peek(mLast) == last)
            }
            if valid && ready {
                received.append((UInt8(sim.peek(mData)), sim.peek(mLast) == 1))
                held = nil
            } else {
                held = valid ? (sim.peek(mData), sim.peek(mLast)) : nil
            }
            let accepted = offering && sim.peek(sReady) == 1
            sim.tick()
            if accepted {
                sent += 1
                offering = false
            }
            cycles += 1
        }
        #expect(received.count == input.count)
        #expect(received.map(\.0) == input.map(AxisRomDemo.reference))
        #expect(received.map(\.1) == (0..<input.count).map { $0 % 10 == 9 })
    }

    @Test("reset in the middle of a transfer empties the pipeline")
    func resetMidStream() throws {
        let sim = try DemoLibrary.shared.get().simulation(of: AxisRomDemo.name)
        sim.reset()
        var job = StreamJob(input: (0..<100).map { UInt64($0) }, expectedOutputs: 100)
        job.readyPerMille = 0  // nothing leaves: the pipeline fills and stalls
        job.maxCycles = 50
        let stalled = try sim.stream(job)
        #expect(stalled.stop == .cycleLimit)
        #expect(stalled.outputs.isEmpty)
        #expect(stalled.consumed == 3, "the ROM stage and the two skid-buffer slots hold one beat each")
        sim.reset()
        #expect(sim.peek(try sim.port("m_axis_tvalid")) == 0)
        let after = try sim.stream(StreamJob(input: [1, 2, 3], expectedOutputs: 3))
        #expect(after.outputs == [1, 2, 3].map { UInt64(AxisRomDemo.reference($0)) })
    }

    @Test("a traced build writes a VCD waveform with the design's signals")
    func trace() throws {
        let library = try SimulationBuilder(trace: true).build([try AxisRomDemo.module()])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-trace-\(UUID().uuidString).vcd").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let sim = try library.simulation(of: AxisRomDemo.name, tracePath: path)
            sim.reset()
            _ = try sim.stream(StreamJob(input: [0x00, 0x53], expectedOutputs: 2))
        }
        let vcd = try String(contentsOfFile: path, encoding: .utf8)
        #expect(vcd.contains("$var wire  8 ") && vcd.contains("s_axis_tdata"))
        #expect(vcd.contains("sbox_rdata"))
        #expect(vcd.contains("#10"))
    }

    @Test("a build traced in FST writes an FST file: its header block, and an end time past the cycles run")
    func traceFST() throws {
        let library = try SimulationBuilder(trace: true, traceFormat: .fst).build([try AxisRomDemo.module()])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-trace-\(UUID().uuidString).fst").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let sim = try library.simulation(of: AxisRomDemo.name, tracePath: path)
            sim.reset()
            _ = try sim.stream(StreamJob(input: [0x00, 0x53], expectedOutputs: 2))
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // FST: a header block (type 0, then its 64-bit big-endian length, start and end time).
        try #require(bytes.count > 33)
        #expect(bytes[0] == 0)
        let end = bytes[17..<25].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(end >= 10, "end time \(end)")
    }

    @Test("asking for a port that does not exist is a clear error")
    func unknownPort() throws {
        let sim = try DemoLibrary.shared.get().simulation(of: AxisRomDemo.name)
        #expect(throws: SimulationError.unknownPort(model: AxisRomDemo.name, port: "nope")) { try sim.port("nope") }
        #expect(throws: SimulationError.self) { try DemoLibrary.shared.get().simulation(of: "missing") }
    }
}
