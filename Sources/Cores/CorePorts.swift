import HDL

/// The ports of a decoder (FORMAT.md section 8): 32-bit stream words in, values out with
/// `tlast` on a frame's last value, and a sticky `error`.
struct DecoderPorts {
    let sData, sValid, sReady: Signal
    let mData, mValid, mReady, mLast: Signal
    let error: Signal

    init(_ m: ModuleBuilder, valueBits: Int) {
        sData = m.input("s_axis_tdata", width: 32)
        sValid = m.input("s_axis_tvalid")
        sReady = m.output("s_axis_tready")
        mData = m.output("m_axis_tdata", width: valueBits)
        mValid = m.output("m_axis_tvalid")
        mReady = m.input("m_axis_tready")
        mLast = m.output("m_axis_tlast")
        error = m.output("error")
    }
}

/// The ports of an encoder (FORMAT.md section 8): values in with `tlast` ending a frame,
/// 32-bit stream words out with `tlast` on a frame's last word.
struct EncoderPorts {
    let sData, sValid, sReady, sLast: Signal
    let mData, mValid, mReady, mLast: Signal

    init(_ m: ModuleBuilder, valueBits: Int) {
        sData = m.input("s_axis_tdata", width: valueBits)
        sValid = m.input("s_axis_tvalid")
        sReady = m.output("s_axis_tready")
        sLast = m.input("s_axis_tlast")
        mData = m.output("m_axis_tdata", width: 32)
        mValid = m.output("m_axis_tvalid")
        mReady = m.input("m_axis_tready")
        mLast = m.output("m_axis_tlast")
    }
}
