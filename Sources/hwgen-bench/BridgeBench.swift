import Foundation
import HDL
import HDLBlocks
import VerilatorBridge

/// Bridge speed (per-cycle and bulk) and emit time.
func bridgeBench() throws {

    // Emit: a design holding a 4096-entry, 16-bit ROM.
    let contents = (0..<4096).map { UInt64(($0 &* 40503) & 0xFFFF) }
    var emitted = ""
    var module: Module? = nil
    let elaborate = try seconds {
        module = try Module("rom4096") { m in
            let a = m.input("address", width: 12)
            let en = m.input("enable")
            m.output("data", width: 16).assign(m.rom(
                "words", width: 16, contents: contents, style: .blockMemory, address: a, readEnable: en, synchronous: true))
        }
    }
    let emit = seconds { emitted = module.map { VerilogEmitter.emit($0) } ?? "" }
    report("elaborate 4096-entry ROM design", String(format: "%.4f s", elaborate))
    report("emit 4096-entry ROM design (\(emitted.utf8.count) bytes)", String(format: "%.4f s  (target < 0.5 s)", emit))

    // Bridge: build the demo once (cached), then drive it.
    let builder = try SimulationBuilder()
    var library: SimulationLibrary? = nil
    let build = try seconds { library = try builder.build([try AxisRomDemo.module()]) }
    report("Verilator build of the demo (cached after the first)", String(format: "%.2f s", build))
    guard let library else { fatalError("no library") }
    let sim = try library.simulation(of: AxisRomDemo.name)
    sim.reset()
    let sData = try sim.port("s_axis_tdata"), sValid = try sim.port("s_axis_tvalid")
    let mReady = try sim.port("m_axis_tready"), mData = try sim.port("m_axis_tdata")

    // Per-cycle from Swift: poke, eval, peek, tick.
    let perCycleCycles = 3_000_000
    var checksum: UInt64 = 0
    let perCycle = seconds {
        sim.poke(sValid, 1)
        sim.poke(mReady, 1)
        for i in 0..<perCycleCycles {
            sim.poke(sData, UInt64(i & 0xFF))
            sim.eval()
            checksum &+= sim.peek(mData)
            sim.tick()
        }
    }
    let perCycleRate = Double(perCycleCycles) / perCycle
    report("per-cycle poke/eval/peek/tick from Swift", String(format: "%.2f M cycles/s  (target >= 5)", perCycleRate / 1e6))

    // Tick only: the cost of the model itself, the baseline for the per-call overhead.
    let tickOnly = seconds { sim.tick(perCycleCycles) }
    let tickRate = Double(perCycleCycles) / tickOnly
    report("tick(n) inside C++, no port traffic (baseline)", String(format: "%.2f M cycles/s", tickRate / 1e6))

    // Bulk: an AXI-Stream run inside C++.
    let beats = 5_000_000
    let input = (0..<beats).map { UInt64($0 & 0xFF) }
    var result: StreamResult? = nil
    let bulk = try seconds { result = try sim.stream(StreamJob(input: input, expectedOutputs: beats)) }
    let cycles = result?.cycles ?? 0
    let bulkRate = Double(cycles) / bulk
    report("bulk AXI-Stream run inside C++ (\(beats) beats)", String(format: "%.2f M cycles/s  (target >= 15)", bulkRate / 1e6))
    report("ratio bulk / per-cycle", String(format: "%.2fx", bulkRate / perCycleRate))
    report("ratio per-cycle / tick-only baseline", String(format: "%.2f", perCycleRate / tickRate))
    if result?.outputs.count != beats { print("warning: bulk run produced \(result?.outputs.count ?? 0) of \(beats) beats") }
    _ = checksum
}
