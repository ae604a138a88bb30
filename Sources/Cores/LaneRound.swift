import Codec
import HDL
import HDLBlocks

/// The ports of a K-lane decoder that moves P = K values per beat (FORMAT.md section 10):
/// `s_axis` beats of Q words with `tkeep`, `m_axis` beats of K values with `tkeep` and `tlast`,
/// and `error`.
struct LaneRoundPorts {
    let words: Stream
    let values: Stream
    let error: Signal

    init(_ m: ModuleBuilder, codebook: Codebook, wordsPerBeat q: Int) {
        let k = codebook.lanes
        words = m.sinkPort("s_axis", StreamShape(dataWidth: 32 * q, keepWidth: q))
        values = m.sourcePort("m_axis", StreamShape(dataWidth: k * codebook.layout.valueBits, hasLast: true, keepWidth: k))
        error = m.output("error")
    }

    /// The window the lanes take their words from, `maxTake` a cycle; once `failed` is 1, words
    /// are taken and dropped.
    func window(_ m: ModuleBuilder, maxTake: Int, failed: Signal) -> WordWindow {
        let accepted = m.stream("accepted", StreamShape(dataWidth: words.data.width, keepWidth: words.keep?.width))
        accepted.data.assign(words.data)
        if let keep = accepted.keep, let inKeep = words.keep { keep.assign(inKeep) }
        accepted.valid.assign(words.valid && !failed)
        words.ready.assign(failed || accepted.ready)
        return WordWindow(m, name: "words", input: accepted, maxTake: maxTake)
    }
}

/// The output side of a decoder that decodes a round of K entries per step: the round is held
/// back one step (so that `tlast` can go on it when the next round starts with EOF), then leaves
/// as one beat (lane 0 at the bottom, `tkeep` for the lanes before EOF) through a register stage
/// and a skid stage; a round that ends its frame leaves with `tlast` without waiting for the next.
struct LaneRoundOutput {
    let heldValid, heldLast, heldKeep: Signal
    let leaving: Stream
    /// A step may go: the held round (if any) can leave.
    let accepts: Signal
    /// The stepping round holds EOF (assigned by the decoder).
    let frameEnds: Signal

    init(_ m: ModuleBuilder, lanes k: Int, valueBits: Int, to values: Stream) {
        heldValid = m.register("held_valid", width: 1, reset: 0)
        heldLast = m.register("held_last", width: 1, reset: nil)
        heldKeep = m.register("held_keep", width: k, reset: nil)
        leaving = m.stream("round", StreamShape(dataWidth: k * valueBits, hasLast: true, keepWidth: k))
        m.connect(values, from: m.skidStage(m.registerStage(leaving, name: "stage"), name: "skid"))
        accepts = m.wire("accepts", !heldValid || leaving.ready)
        frameEnds = m.wire("frame_ends", width: 1)
    }

    /// On `step` the round is decoded: `keep` per lane (in lane order) marks its values before
    /// EOF; `values` are the held round's values, lane 0 first.
    func update(_ m: ModuleBuilder, step: Signal, keep: [Signal], values: [Signal]) {
        let roundKeep = m.wire("keeps", m.cat(keep.reversed()))
        let leaves = m.wire("leaves", heldValid && leaving.ready && (heldLast || step))
        leaving.valid.assign(leaves)
        leaving.data.assign(m.cat(values.reversed()))
        leaving.keep?.assign(heldKeep)
        leaving.last?.assign(heldLast || (step && frameEnds && !keep[0]))
        m.when(step) {
            heldValid.assign(keep[0])
            heldLast.assign(frameEnds)
            heldKeep.assign(roundKeep)
        }.elseWhen(leaves) {
            heldValid.assign(0)
        }
    }
}
