import HDL

/// How a decoder meets frame ends. Without engines (section 8) it finds them by EOF alone; with
/// `takesLast` it also takes `s_axis_tlast` on a frame's last word and raises `error` when EOF
/// does not end in that word (FORMAT.md section 12); with `marksEmptyFrames` (an engine of a core
/// with frame engines, whose collector counts frames) a frame of no values leaves a beat with
/// `m_axis_tkeep` 0 and `tlast`, and every value beat has `m_axis_tkeep` 1.
public struct DecoderFraming: Sendable, Equatable {
    public var takesLast: Bool
    public var marksEmptyFrames: Bool
    /// Section 8's decoder: frames end at EOF.
    public static let plain = DecoderFraming(takesLast: false, marksEmptyFrames: false)
    /// An engine of a decoder with frame engines.
    public static let engine = DecoderFraming(takesLast: true, marksEmptyFrames: true)
    /// Section 12's input without engines: a core for a codebook set (section 13).
    public static let lastWords = DecoderFraming(takesLast: true, marksEmptyFrames: false)
}

/// The ports of a decoder (FORMAT.md section 8): 32-bit stream words in, values out with
/// `tlast` on a frame's last value, and a sticky `error`; `s_axis_tlast` and `m_axis_tkeep` as
/// its framing asks; with `userBits` (a core for a codebook set), `s_axis_tuser` and
/// `m_axis_tuser` carry each frame's codebook id.
struct DecoderPorts {
    /// `s_axis`: stream words.
    let words: Stream
    /// `m_axis`: values, `tlast` on a frame's last.
    let values: Stream
    let error: Signal

    init(_ m: ModuleBuilder, valueBits: Int, framing: DecoderFraming = .plain, userBits: Int? = nil) {
        words = m.sinkPort("s_axis", StreamShape(dataWidth: 32, hasLast: framing.takesLast, userWidth: userBits))
        values = m.sourcePort("m_axis", StreamShape(dataWidth: valueBits, hasLast: true, keepWidth: framing.marksEmptyFrames ? 1 : nil, userWidth: userBits))
        error = m.output("error")
    }
}

/// The ports of an encoder (FORMAT.md section 8): values in with `tlast` ending a frame,
/// 32-bit stream words out with `tlast` on a frame's last word; with `userBits` (a core for a
/// codebook set), `s_axis_tuser` and `m_axis_tuser` carry each frame's codebook id, and a
/// sticky `error` says a frame named no codebook.
struct EncoderPorts {
    /// `s_axis`: values, `tlast` ending a frame.
    let values: Stream
    /// `m_axis`: stream words, `tlast` on a frame's last.
    let words: Stream

    init(_ m: ModuleBuilder, valueBits: Int, userBits: Int? = nil) {
        values = m.sinkPort("s_axis", StreamShape(dataWidth: valueBits, hasLast: true, userWidth: userBits))
        words = m.sourcePort("m_axis", StreamShape(dataWidth: 32, hasLast: true, userWidth: userBits))
    }

    /// `s_axis_tlast` (encoder inputs always carry it).
    var valuesLast: Signal { values.last ?? values.valid }
}
