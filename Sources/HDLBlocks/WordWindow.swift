import HDL

/// A window onto a stream of 32-bit words that arrive several per beat: the front of the
/// stream in slots 0, 1, 2, ..., from which a consumer removes up to `maxTake` words per cycle
/// (FORMAT.md section 10: a K-lane decoder takes a word for each lane that needs a bit it lacks,
/// so up to K words in one cycle).
///
/// Input: beats of `q` words (`tdata` 32 q bits, word i at bits [32 i + 31 : 32 i], the first
/// stream word first) with `tkeep` (q bits, the kept words i = 0 .. k-1). Holds up to
/// `capacity` = `maxTake` + `q` words; `ready` is a comparison of the word count register with a
/// constant, so it does not depend on what is taken this cycle (room for a whole beat after
/// any take).
///
/// Words are 32 bits, or `wordBits` (say 33: a word with its `tlast` on top, for a consumer that
/// checks frame ends; the beat is then `q` such words side by side).
///
/// Each slot's next word is the slot `take` places further up (a barrel shift over whole words,
/// log2(maxTake + 1) stages of 2:1), or a word of the beat arriving this cycle, placed behind the
/// words that stay. Declare it, read `words` and
/// `count`, then call `take` once.
public struct WordWindow {
    /// The held words, slot 0 first. Slots at or past `count` hold earlier words (or 0 from the
    /// start): known bits, never an input word that was not offered or that tkeep left out.
    public let words: [Signal]
    /// Number of words held (0 ... capacity).
    public let count: Signal
    /// The input can take a beat this cycle.
    public let ready: Signal
    public let capacity: Int
    public let maxTake: Int
    let input: Stream
    let beatWords: Int
    /// Bits per word (32, or 33 with a flag on top).
    public let wordBits: Int
    let scope: Scope

    /// Builds the window in `m` (names in scope `name`) over `input`, a stream of `q`-word beats
    /// with `keep`; assigns `input.ready`.
    public init(_ m: ModuleBuilder, name: String, input: Stream, maxTake requested: Int, wordBits: Int = 32, file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        scope = m.scope(name, file: file, line: line)
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        let q = Swift.max(1, input.data.width / wordBits)
        if input.data.width % wordBits != 0 {
            m.report(.widthMismatch, "word window '\(name)': beats are whole \(wordBits)-bit words, not \(input.data.width) bits", at: location)
        }
        self.wordBits = wordBits
        if let keep = input.keep, keep.width != q {
            m.report(.widthMismatch, "word window '\(name)': tkeep has \(keep.width) bits for \(q) words", at: location)
        }
        maxTake = Swift.max(1, requested)
        if requested < 1 { m.report(.invalidOperand, "word window '\(name)': maxTake must be at least 1", at: location) }
        beatWords = q
        capacity = maxTake + q
        self.input = input
        let countWidth = bitsToAddress(capacity + 1)
        words = (0..<capacity).map { m.register("slot\($0)", width: wordBits, reset: nil) }
        count = m.register("count", width: countWidth, reset: 0)
        ready = m.wire("ready", count <= capacity - q)
        input.ready.assign(ready)
    }

    /// Removes the first `amount` words (at most `maxTake` and `count`) this cycle, and takes
    /// the offered beat when `ready`.
    public func take(_ m: ModuleBuilder, _ amount: Signal) {
        m.within(scope) {
            let countWidth = count.width
            let taken = m.wire("taken", amount.resized(to: countWidth))
            let staying = m.wire("staying", count - taken)
            let arrives = m.wire("arrives", input.valid && ready)
            // The beat's kept words: tkeep is 1 for words 0 ..< k.
            var kept: Signal = m.constant(UInt64(beatWords), width: countWidth)
            if let keep = input.keep {
                kept = (0..<beatWords).reduce(m.constant(0, width: countWidth)) { sum, i in sum + keep[i].zeroExtended(to: countWidth) }
                kept = m.wire("kept", kept)
            }
            count.assign(staying + mux(arrives, kept, 0))
            // The words moved up by `taken`: a barrel shift over whole words, one 2:1 stage per bit
            // of the amount (a slot that nothing can reach keeps its word: it is refilled or unused).
            var moved = words
            for b in 0..<taken.width where (1 << b) <= maxTake {
                let step = 1 << b
                moved = moved.indices.map { i in i + step < capacity ? mux(taken[b], moved[i + step], moved[i]) : moved[i] }
            }
            for (i, slot) in words.enumerated() {
                // Or word i - staying of the beat, if the beat keeps it: a word that tkeep leaves
                // out is unknown (X in a four-state simulator), and a slot past `count` is still
                // read by consumers that look ahead, so it must hold a known word.
                var incoming: Signal = moved[i]
                for w in stride(from: beatWords - 1, through: 0, by: -1) where i - w >= 0 {
                    var lands = staying == i - w
                    if let keep = input.keep, w > 0 { lands = lands && keep[w] }
                    incoming = mux(lands, input.data.bits(wordBits * w + wordBits - 1, wordBits * w), incoming)
                }
                slot.assign(mux(staying > i, moved[i], mux(arrives, incoming, moved[i])))
            }
        }
    }
}
