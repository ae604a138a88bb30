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

    /// The words the K lanes take, up to K a cycle; once `failed` is 1, words are taken and
    /// dropped.
    func front(_ m: ModuleBuilder, lanes k: Int, room: Int? = nil, failed: Signal) -> LaneWordFront {
        let accepted = m.stream("accepted", StreamShape(dataWidth: words.data.width, keepWidth: words.keep?.width))
        accepted.data.assign(words.data)
        if let keep = accepted.keep, let inKeep = words.keep { keep.assign(inKeep) }
        accepted.valid.assign(words.valid && !failed)
        words.ready.assign(failed || accepted.ready)
        return LaneWordFront(m, input: accepted, lanes: k, room: room)
    }
}

/// The stream's next words as a round's lanes see them. A cycle's take leaves the `WordWindow`
/// a cycle later (`pending_take`), so the window's shift does not wait for the round's count of
/// words; until then the lanes see the words `pending_take` slots up (`front`, a barrel shift
/// by a register), and the number of words behind them (`visible`). The window has room for
/// the pending words and a round's K besides a beat.
struct LaneWordFront {
    /// The next K words (those at or past `visible` are unspecified).
    let front: [Signal]
    let visible: Signal
    let window: WordWindow
    let pending: Signal

    /// `room`: the words the window holds besides a beat (default K + Q).
    init(_ m: ModuleBuilder, input: Stream, lanes k: Int, room: Int? = nil) {
        let q = max(1, input.data.width / 32)
        let window = WordWindow(m, name: "words", input: input, maxTake: room ?? k + q)
        let pending = m.register("pending_take", width: bitsToAddress(k + 1), reset: 0)
        var shifted = window.words
        for b in 0..<pending.width where (1 << b) <= k {
            let layer = shifted
            shifted = layer.indices.map { i in i + (1 << b) < layer.count ? mux(pending[b], layer[i + (1 << b)], layer[i]) : layer[i] }
        }
        let seen = shifted
        front = (0..<k).map { i in m.wire("front\(i)", seen[i]) }
        visible = m.wire("visible", window.count - pending.resized(to: window.count.width))
        self.window = window
        self.pending = pending
    }

    /// Takes `amount` words (at most K and `visible`) this cycle; call once.
    func take(_ m: ModuleBuilder, _ amount: Signal) {
        window.take(m, pending)
        pending.assign(amount.resized(to: pending.width))
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
