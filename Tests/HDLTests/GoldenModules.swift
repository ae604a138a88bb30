import HDL

/// Small modules whose emitted Verilog is pinned by golden-text tests.
enum GoldenModules {
    /// A 4-bit counter; `extra` may add to its body (given the builder, `enable` and the count register).
    static func counter(name: String = "counter", _ extra: (ModuleBuilder, Signal, Signal) -> Void = { _, _, _ in }) throws -> Module {
        try Module(name) { m in
            let enable = m.input("enable")
            let count = m.output("count", width: 4)
            let value = m.register("value", width: 4, reset: 0)
            m.when(enable) { value.assign(value + 1) }
            count.assign(value)
            extra(m, enable, value)
        }
    }

    static func decode() throws -> Module {
        try Module("decode") { m in
            let sel = m.input("sel", width: 2)
            let data = m.input("data", width: 8)
            let y = m.output("y", width: 8)
            let carry = m.output("carry")
            let nibble = m.output("nibble", width: 4)
            m.switchOn(sel) { s in
                s.on(0) { y.assign(data) }
                s.on(1, 2) { y.assign(data >> 1) }
                s.otherwise { y.assign(0) }
            }
            carry.assign((data +& data)[8])
            nibble.assign(m.rom("lut", width: 4, contents: [1, 2, 3, 4, 5], style: .logic, address: data[2, 0], synchronous: false))
        }
    }

    static func memory() throws -> Module {
        try Module("memory") { m in
            let address = m.input("address", width: 3)
            let enable = m.input("enable")
            let data = m.output("data", width: 16)
            data.assign(m.rom(
                "words", width: 16, contents: [0x3F80, 0x4000, 0xBF80, 7, 0, 1], style: .blockMemory,
                address: address, readEnable: enable, synchronous: true))
        }
    }
}
