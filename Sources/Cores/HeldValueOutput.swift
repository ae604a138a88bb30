import HDL
import HDLBlocks

/// The output side the decoders share: an entry is held back one step, so that `m_axis_tlast`
/// can be set on its value when the entry after it is EOF; the value then goes through a
/// register stage and a skid stage (registered `m_axis_tready`) to the `m_axis` ports.
/// A frame with zero values leaves nothing behind (FORMAT.md section 8), or, when `values` has
/// `tkeep` (an engine's output), a beat with `tkeep` 0 and `tlast`.
///
/// What is held is up to the decoder: the decoded value, or the entry's raw bits, which the
/// decoder turns into the value on the way from the held register to the register stage (off
/// its feedback loop). Its names are in the scope `name`.
struct HeldValueOutput {
    let scope: Scope
    let heldValid: Signal
    /// The held entry (`heldWidth` bits).
    let held: Signal
    /// The value leaving the held register: valid on a step with a held entry.
    let leaving: Stream
    /// The register stage can take the held value this cycle.
    var outFree: Signal { leaving.ready }
    /// Empty frames leave a beat with `tkeep` 0.
    let marksEmptyFrames: Bool

    /// Declares the held entry, the stages and the link to `values` (the decoder's `m_axis`) in
    /// `m`. The held entry is `heldWidth` bits (default: a value).
    init(_ m: ModuleBuilder, name: String, valueBits: Int, heldWidth: Int? = nil, to values: Stream) {
        scope = m.scope(name)
        (heldValid, held, leaving) = m.within(scope) {
            let heldValid = m.register("held_valid", width: 1, reset: 0)
            let held = m.register(heldWidth == nil ? "held_value" : "held_entry", width: heldWidth ?? valueBits, reset: nil)
            let leaving = m.stream("value", StreamShape(dataWidth: valueBits, hasLast: true, keepWidth: values.keep?.width, userWidth: values.user?.width))
            m.connect(values, from: m.skidStage(m.registerStage(leaving, name: "stage"), name: "skid"))
            return (heldValid, held, leaving)
        }
        marksEmptyFrames = values.keep != nil
    }

    /// Whether an entry may be decoded this cycle as far as the output is concerned: the held
    /// value (if any) must be able to move on (marking empty frames: any EOF may leave a beat).
    var accepts: Signal { marksEmptyFrames ? outFree : !heldValid || outFree }

    /// On `step` an entry is decoded: the held entry's value (`value`, computed from `held`)
    /// leaves, with tlast if the new entry is EOF, and the new entry (unless it is EOF) is held
    /// in its place. `user` (the held entry's frame id, for a `values` with `tuser`) goes out
    /// with the value.
    func update(_ m: ModuleBuilder, step: Signal, isEnd: Signal, entry: Signal, value: Signal, user: Signal? = nil) {
        // The register stage loads whenever it is free (its data then is the held entry's
        // value, valid or not), so only its valid bit waits for `step`: a step with a held value
        // implies a free stage (`accepts`).
        leaving.valid.assign(marksEmptyFrames ? step && (heldValid || isEnd) : step && heldValid)
        leaving.data.assign(value)
        leaving.last?.assign(isEnd)
        leaving.keep?.assign(heldValid)
        if let user { leaving.user?.assign(user) }
        m.when(step) {
            heldValid.assign(!isEnd)
            held.assign(entry)
        }
    }
}
