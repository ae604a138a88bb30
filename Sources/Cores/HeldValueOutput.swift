import HDL
import HDLBlocks

/// The output side the decoders share: an entry is held back one step, so that `m_axis_tlast`
/// can be set on its value when the entry after it is EOF; the value then goes through an output
/// register and a skid buffer (registered `m_axis_tready`) to the `m_axis` ports.
/// A frame with zero values leaves nothing behind (FORMAT.md section 8).
///
/// What is held is up to the decoder: the decoded value, or the entry's raw bits, which the
/// decoder turns into the value on the way from the held register to the output register (off
/// its feedback loop).
struct HeldValueOutput {
    let heldValid: Signal
    /// The held entry (`heldWidth` bits).
    let held: Signal
    let outValid: Signal
    let outValue: Signal
    let outLast: Signal
    /// The output register can take the held value this cycle.
    let outFree: Signal

    /// Declares the registers and the skid buffer (`skid`, a module with tlast) in `m` and wires
    /// them to the decoder's `m_axis` ports. The held entry is `heldWidth` bits (default: a value).
    init(_ m: ModuleBuilder, skid: Module, valueBits: Int, heldWidth: Int? = nil, ports: DecoderPorts) {
        heldValid = m.register("held_valid", width: 1, reset: 0)
        held = m.register(heldWidth == nil ? "held_value" : "held_entry", width: heldWidth ?? valueBits, reset: nil)
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

    /// On `step` an entry is decoded: the held entry's value (`value`, computed from `held`)
    /// leaves, with tlast if the new entry is EOF, and the new entry (unless it is EOF) is held
    /// in its place.
    func update(_ m: ModuleBuilder, step: Signal, isEnd: Signal, entry: Signal, value: Signal) {
        // The output register loads whenever it is free (its data then is the held entry's
        // value, valid or not), so only its valid bit waits for `step`: a step with a held value
        // implies a free output register (`accepts`).
        m.when(outFree) {
            outValid.assign(step && heldValid)
            outValue.assign(value)
            outLast.assign(isEnd)
        }
        m.when(step) {
            heldValid.assign(!isEnd)
            held.assign(entry)
        }
    }
}
