import HDL

/// The ports of a decoder (FORMAT.md section 8): 32-bit stream words in, values out with
/// `tlast` on a frame's last value, and a sticky `error`.
struct DecoderPorts {
    /// `s_axis`: stream words.
    let words: Stream
    /// `m_axis`: values, `tlast` on a frame's last.
    let values: Stream
    let error: Signal

    init(_ m: ModuleBuilder, valueBits: Int) {
        words = m.sinkPort("s_axis", StreamShape(dataWidth: 32))
        values = m.sourcePort("m_axis", StreamShape(dataWidth: valueBits, hasLast: true))
        error = m.output("error")
    }
}

/// The ports of an encoder (FORMAT.md section 8): values in with `tlast` ending a frame,
/// 32-bit stream words out with `tlast` on a frame's last word.
struct EncoderPorts {
    /// `s_axis`: values, `tlast` ending a frame.
    let values: Stream
    /// `m_axis`: stream words, `tlast` on a frame's last.
    let words: Stream

    init(_ m: ModuleBuilder, valueBits: Int) {
        values = m.sinkPort("s_axis", StreamShape(dataWidth: valueBits, hasLast: true))
        words = m.sourcePort("m_axis", StreamShape(dataWidth: 32, hasLast: true))
    }

    /// `s_axis_tlast` (encoder inputs always carry it).
    var valuesLast: Signal { values.last ?? values.valid }
}
