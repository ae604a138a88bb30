import HDL

/// A top for placing and routing a module whose ports outnumber a package's pins (a K-lane core
/// moves hundreds of bits a cycle; on a board its ports meet other logic, not pins).
///
/// Every input of the module except `clk` and `rst` comes from one shift register that takes a
/// bit from the pin `serial_in` each cycle; every output is registered and folded into the pin
/// `serial_out` by a tree of 4-input XORs, a register after each level. So each of the module's
/// paths from and to its ports starts and ends at a register next to it, nothing can be
/// optimised away, and the wrapper's own paths are one LUT deep: the clock it reaches is the
/// module's own.
public enum PinWrapper {
    /// The wrapper `<module>_pins` around `inner` (an instance named `dut`).
    public static func module(around inner: Module) throws -> Module {
        try Module("\(inner.name)_pins") { m in
            let dut = m.instance(inner, name: "dut")
            let serialIn = m.input("serial_in")
            let inputs = inner.ports.filter { $0.direction == .input && $0.name != "clk" && $0.name != "rst" }
            let inputBits = inputs.reduce(0) { $0 + $1.width }
            if inputBits > 0 {
                let chain = m.register("input_chain", width: inputBits, reset: nil)
                chain.assign(inputBits == 1 ? serialIn : cat(chain[inputBits - 2, 0], serialIn))
                var low = 0
                for port in inputs {
                    dut[port.name].assign(chain[low + port.width - 1, low])
                    low += port.width
                }
            }
            var level = inner.ports.filter { $0.direction == .output }.map { port -> Signal in
                let held = m.register("\(port.name)_held", width: port.width, reset: nil)
                held.assign(dut[port.name])
                return held
            }
            .flatMap { held in (0..<held.width).map { held[$0] } }
            var depth = 0
            while level.count > 1 {
                let folded = stride(from: 0, to: level.count, by: 4).map { i in level[i..<min(i + 4, level.count)].dropFirst().reduce(level[i]) { $0 ^ $1 } }
                let held = m.register("fold\(depth)", width: folded.count, reset: nil)
                held.assign(folded.count == 1 ? folded[0] : cat(folded.last ?? folded[0], Array(folded.reversed().dropFirst())))
                level = (0..<folded.count).map { held[$0] }
                depth += 1
            }
            m.output("serial_out").assign(level.first ?? serialIn)
        }
    }
}
