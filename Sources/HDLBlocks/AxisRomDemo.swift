import HDL

/// The bridge demo: an AXI-Stream pipeline that maps every byte through a 256-entry ROM held in
/// block RAM (the AES S-box), with a fully registered output stage. It exercises what the coders
/// need: a synchronous ROM read that stalls with backpressure, a skid buffer, and `tlast`.
public enum AxisRomDemo {
    /// Module name of the demo top level.
    public static let name = "axis_rom_demo"

    /// The demo's top module (it instantiates `axis_rom_demo_skid`).
    public static func module() throws -> Module {
        let skid = try SkidBuffer.module(name: "\(name)_skid", dataWidth: 8, hasLast: true)
        return try Module(name) { m in
            m.comment("Bridge demo: maps each byte through the AES S-box ROM (block RAM), one byte per cycle.")
            let sData = m.input("s_axis_tdata", width: 8)
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let sLast = m.input("s_axis_tlast")
            let mData = m.output("m_axis_tdata", width: 8)
            let mValid = m.output("m_axis_tvalid")
            let mReady = m.input("m_axis_tready")
            let mLast = m.output("m_axis_tlast")

            let out = m.instance(skid, name: "out_stage")
            let stageValid = m.register("stage_valid", width: 1, reset: 0)
            let stageLast = m.register("stage_last", width: 1, reset: nil)
            // The ROM stage moves when it is empty or its beat leaves this cycle.
            let advance = m.wire("advance", !stageValid || out["s_axis_tready"])
            let mapped = m.rom(
                "sbox", width: 8, contents: sbox.map(UInt64.init), style: .blockMemory,
                address: sData, readEnable: advance, synchronous: true)
            m.when(advance) {
                stageValid.assign(sValid)
                stageLast.assign(sLast)
            }
            sReady.assign(advance)

            SkidBuffer.connect(out, data: mapped, valid: stageValid, last: stageLast,
                               toData: mData, valid: mValid, last: mLast, ready: mReady)
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
