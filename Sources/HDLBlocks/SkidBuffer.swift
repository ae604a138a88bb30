import HDL

/// A fully registered AXI-Stream stage (a skid buffer): `tready` and `tvalid` both come from
/// registers, so it cuts every combinational path between its two sides and still moves one beat
/// per cycle. Two payload slots: the output register and a temporary that catches the beat
/// accepted in the cycle the consumer stalled. Modelled on verilog-axis `axis_register`
/// (REG_TYPE = 2).
public enum SkidBuffer {
    /// A skid buffer module named `name` for `dataWidth`-bit beats, with `tlast` if `hasLast`.
    public static func module(name: String, dataWidth: Int, hasLast: Bool) throws -> Module {
        try Module(name) { m in
            m.comment("Skid buffer: fully registered AXI-Stream stage, \(dataWidth)-bit tdata\(hasLast ? " with tlast" : "").")
            let sData = m.input("s_axis_tdata", width: dataWidth)
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let sLast = hasLast ? m.input("s_axis_tlast") : nil
            let mData = m.output("m_axis_tdata", width: dataWidth)
            let mValid = m.output("m_axis_tvalid")
            let mReady = m.input("m_axis_tready")
            let mLast = hasLast ? m.output("m_axis_tlast") : nil

            let payloadIn = sLast.map { cat($0, sData) } ?? sData
            let width = payloadIn.width
            let readyReg = m.register("s_ready", width: 1, reset: 0)
            let outValid = m.register("m_valid", width: 1, reset: 0)
            let tempValid = m.register("temp_valid", width: 1, reset: 0)
            let outPayload = m.register("m_payload", width: width, reset: nil)
            let tempPayload = m.register("temp_payload", width: width, reset: nil)

            // Accept next cycle if the output will be free or the temporary slot is empty and
            // will stay empty.
            readyReg.assign(mReady || (!tempValid && (!outValid || !sValid)))
            m.when(readyReg) {
                m.when(mReady || !outValid) {
                    outValid.assign(sValid)
                    outPayload.assign(payloadIn)
                }.otherwise {
                    tempValid.assign(sValid)
                    tempPayload.assign(payloadIn)
                }
            }.elseWhen(mReady) {
                outValid.assign(tempValid)
                tempValid.assign(0)
                outPayload.assign(tempPayload)
            }

            sReady.assign(readyReg)
            mValid.assign(outValid)
            mData.assign(outPayload.bits(dataWidth - 1, 0))
            if let mLast { mLast.assign(outPayload[dataWidth]) }
        }
    }
}

extension SkidBuffer {
    /// Wires an instance of a skid buffer (with `tlast`) between a producer inside the parent
    /// (`data`, `valid`, `last`) and the parent's source ports (`m_axis_*`). The producer sees
    /// the instance's registered `s_axis_tready` through `instance["s_axis_tready"]`.
    public static func connect(
        _ instance: Instance, data: Signal, valid: Signal, last: Signal,
        toData mData: Signal, valid mValid: Signal, last mLast: Signal, ready mReady: Signal
    ) {
        instance["s_axis_tdata"].assign(data)
        instance["s_axis_tvalid"].assign(valid)
        instance["s_axis_tlast"].assign(last)
        instance["m_axis_tready"].assign(mReady)
        mData.assign(instance["m_axis_tdata"])
        mValid.assign(instance["m_axis_tvalid"])
        mLast.assign(instance["m_axis_tlast"])
    }
}
