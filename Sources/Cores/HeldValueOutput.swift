import HDL
import HDLBlocks

/// The output side the decoders share: a decoded value is held back one entry, so that
/// `m_axis_tlast` can be set on it when the entry after it is EOF; it then goes through an
/// output register and a skid buffer (registered `m_axis_tready`) to the `m_axis` ports.
/// A frame with zero values leaves nothing behind (FORMAT.md section 8).
struct HeldValueOutput {
    let heldValid: Signal
    let heldValue: Signal
    let outValid: Signal
    let outValue: Signal
    let outLast: Signal
    /// The output register can take the held value this cycle.
    let outFree: Signal

    /// Declares the registers and the skid buffer (`skid`, a module with tlast) in `m` and wires
    /// them to the decoder's `m_axis` ports.
    init(_ m: ModuleBuilder, skid: Module, valueBits: Int, ports: DecoderPorts) {
        heldValid = m.register("held_valid", width: 1, reset: 0)
        heldValue = m.register("held_value", width: valueBits, reset: nil)
        outValid = m.register("out_valid", width: 1, reset: 0)
        outValue = m.register("out_value", width: valueBits, reset: nil)
        outLast = m.register("out_last", width: 1, reset: nil)
        let out = m.instance(skid, name: "out_skid")
        outFree = m.wire("out_free", !outValid || out["s_axis_tready"])
        SkidBuffer.connect(out, data: outValue, valid: outValid, last: outLast,
                           toData: ports.mData, valid: ports.mValid, last: ports.mLast, ready: ports.mReady)
    }

    /// Whether an entry may be decoded this cycle as far as the output is concerned: the held
    /// value (if any) must be able to move on.
    var accepts: Signal { !heldValid || outFree }

    /// On `step` an entry is decoded: the held value leaves (with tlast if the entry is EOF),
    /// and the entry's value (unless it is EOF) is held in its place.
    func update(_ m: ModuleBuilder, step: Signal, isEnd: Signal, value: Signal) {
        m.when(step && heldValid) {
            outValid.assign(1)
            outValue.assign(heldValue)
            outLast.assign(isEnd)
        }.elseWhen(outFree) {
            outValid.assign(0)
        }
        m.when(step) {
            heldValid.assign(!isEnd)
            heldValue.assign(value)
        }
    }
}
