import HDL

/// The bridge demo: an AXI-Stream pipeline that maps every byte through a 256-entry ROM held in
/// block RAM (the AES S-box), with a fully registered output stage. It exercises what the coders
/// need: a synchronous ROM read that stalls with backpressure, a skid buffer, and `tlast`.
public enum AxisRomDemo {
    /// Module name of the demo top level.
    public static let name = "axis_rom_demo"

    /// The demo's top module (it instantiates `axis_rom_demo_skid`).
    public static func module() throws -> Module {
        try Module(name) { m in
            m.comment("Bridge demo: maps each byte through the AES S-box ROM (block RAM), one byte per cycle.")
            let bytes = m.sinkPort("s_axis", StreamShape(dataWidth: 8, hasLast: true))
            let mappedBytes = m.sourcePort("m_axis", StreamShape(dataWidth: 8, hasLast: true))

            // The ROM stage: the ROM's read register holds the data, so valid and last are
            // registered beside it; it moves when it is empty or its beat leaves this cycle.
            let stageValid = m.register("stage_valid", width: 1, reset: 0)
            let stageLast = m.register("stage_last", width: 1, reset: nil)
            let stageReady = m.wire("stage_ready", width: 1)
            let advance = m.wire("advance", !stageValid || stageReady)
            let mapped = m.rom(
                "sbox", width: 8, contents: sbox.map(UInt64.init), style: .blockMemory,
                address: bytes.data, readEnable: advance, synchronous: true)
            m.when(advance) {
                stageValid.assign(bytes.valid)
                stageLast.assign(bytes.last ?? bytes.valid)
            }
            bytes.ready.assign(advance)
            let stage = Stream(data: mapped, valid: stageValid, ready: stageReady, last: stageLast)
            m.connect(mappedBytes, from: m.skidStage(stage, name: "skid"))
        }
    }

    /// The function the demo computes, as the software reference.
    public static func reference(_ byte: UInt8) -> UInt8 { sbox[Int(byte)] }

    /// The AES S-box, derived (not typed in): the multiplicative inverse in GF(2^8) modulo
    /// x^8 + x^4 + x^3 + x + 1, followed by the affine map with constant 0x63.
    public static let sbox: [UInt8] = (0..<256).map { x in
        func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
            var (a, b, p): (UInt8, UInt8, UInt8) = (a, b, 0)
            while b != 0 {
                if b & 1 != 0 { p ^= a }
                a = (a << 1) ^ (a & 0x80 != 0 ? 0x1B : 0)
                b >>= 1
            }
            return p
        }
        let value = UInt8(x)
        let inverse: UInt8 = value == 0 ? 0 : ((1...255).map(UInt8.init).first { multiply(value, $0) == 1 } ?? 0)
        var result: UInt8 = 0x63
        for shift in 0..<5 { result ^= inverse.rotatedLeft(by: shift) }
        return result
    }
}

extension UInt8 {
    fileprivate func rotatedLeft(by n: Int) -> UInt8 { n == 0 ? self : (self << n) | (self >> (8 - n)) }
}
