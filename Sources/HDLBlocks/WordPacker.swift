import HDL

/// Packs bit chunks into 32-bit AXI-Stream words, first bit at bit 31; a chunk marked `last`
/// ends a frame: the bits are padded with zeros to a word boundary and the frame's last word
/// carries `tlast`.
///
/// Stages: a chunk register (the chunk's top `maxChunk` bits and its length); a placement
/// register holding the chunk shifted right by its offset in the word it starts in (the running
/// bit count modulo 32, which does not depend on when words leave), with the fill level below
/// which the next chunk will fit; a 96-bit accumulator into which the placed chunk goes at a
/// whole-word position (the fill level's word index, a register: no bit shift on this path),
/// one word leaving per cycle once a bit of its frame follows it or the frame is finished (so a
/// frame ending in chunks of no bits still marks its last word); an output register and a skid
/// buffer. A word leaving in the same cycle as a chunk arrives moves everything up 32 bits
/// (wiring). After a frame's last chunk the accumulator drains before the next chunk goes in.
public struct WordPacker {
    static let accumulatorBits = 96

    /// The packer takes the offered chunk this cycle.
    public let accepts: Signal

    /// `bits` left-aligned in the 64-bit chunk the packer takes (zeros below).
    public static func leftAligned(_ bits: Signal, in m: ModuleBuilder) -> Signal {
        bits.width == 64 ? bits : cat(bits, m.constant(0, width: 64 - bits.width))
    }

    /// A chunk offered to the packer.
    public struct Chunk {
        public let valid: Signal
        /// Left-aligned in 64 bits, zero below its first `maxChunk` bits.
        public let data: Signal
        /// 7 bits, at most `maxChunk`.
        public let bits: Signal
        /// The chunk ends a frame.
        public let last: Signal
        /// The frame's tag (e.g. its codebook id), the same on every chunk of a frame; it goes
        /// out as `tuser` with the frame's words.
        public let user: Signal?

        public init(valid: Signal, data: Signal, bits: Signal, last: Signal, user: Signal? = nil) {
            (self.valid, self.data, self.bits, self.last, self.user) = (valid, data, bits, last, user)
        }
    }

    /// Builds the packer into `m`, named in scope `name`, taking `chunk` (of at most `maxChunk`
    /// bits) and producing 32-bit words with `last` into `words` (through a register stage and
    /// a skid stage).
    public init(_ m: ModuleBuilder, name: String, maxChunk requested: Int, chunk: Chunk, to words: Stream,
                file: String = #fileID, line: Int = #line) {
        let w = Self.accumulatorBits
        var maxChunk = requested
        if !(1...64).contains(maxChunk) {
            m.report(.invalidWidth, "word packer '\(name)' takes chunks of 1-64 bits, not \(maxChunk)", at: SourceLocation(fileID: file, line: line))
            maxChunk = Swift.min(64, Swift.max(1, maxChunk))
        }
        let (valid, data, bits, last) = (chunk.valid, chunk.data, chunk.bits, chunk.last)
        let saved = m.enterScope(m.scope(name, file: file, line: line))
        defer { m.restoreScope(saved) }
        let chunkValid = m.register("chunk_valid", width: 1, reset: 0)
        let chunkBits = m.register("chunk_bits", width: 7, reset: nil)
        let chunkData = m.register("chunk_data", width: maxChunk, reset: nil)
        let chunkLast = m.register("chunk_last", width: 1, reset: nil)
        let chunkUser = chunk.user.map { m.register("chunk_user", width: $0.width, reset: nil) }

        // The placed chunk: shifted right by the bit offset it starts at (up to 31 + maxChunk
        // bits, at most three words).
        let placedWidth = min(w, maxChunk + 31)
        let placedValid = m.register("placed_valid", width: 1, reset: 0)
        let placedData = m.register("placed_data", width: placedWidth, reset: nil)
        let placedLast = m.register("placed_last", width: 1, reset: nil)
        let placedUser = chunk.user.map { m.register("placed_user", width: $0.width, reset: nil) }
        // The fill level up to which there is room for one more chunk after the placed one.
        let placedLimit = m.register("placed_limit", width: 8, reset: nil)
        // Where the next chunk starts in its word: the bits so far modulo 32 (0 after a frame).
        // The fill level's low five bits equal it whenever that chunk is taken, so the placed
        // chunk's end is known in advance: its bit in the last word it reaches (0-31), the words
        // it reaches past its first, and with padding (a frame's last chunk) the words it fills.
        let offset = m.register("offset", width: 5, reset: 0)
        let placedEndBit = m.register("placed_end_bit", width: 5, reset: nil)
        let placedEndWords = m.register("placed_end_words", width: 2, reset: nil)
        let placedPaddedWords = m.register("placed_padded_words", width: 2, reset: nil)

        let acc = m.register("acc", width: w, reset: 0)
        let count = m.register("count", width: 8, reset: 0)
        let flushing = m.register("flushing", width: 1, reset: 0)
        // The frame in the accumulator, which holds one frame at a time: a frame's last chunk
        // starts a flush, and the next frame's first chunk waits until it is done.
        let accUser = chunk.user.map { m.register("acc_user", width: $0.width, reset: 0) }

        // Words leave through a register stage and a skid stage.
        let leaving = m.stream("word", StreamShape(dataWidth: 32, hasLast: true, userWidth: chunk.user?.width))
        m.connect(words, from: m.skidStage(m.registerStage(leaving, name: "stage"), name: "skid"))
        let outFree = leaving.ready
        // A word leaves once a bit of its frame follows it (more than 32 bits held), or the frame
        // is finished: so a frame's last word waits for the word-boundary case where the frame
        // ends with chunks of no bits (a tANS EOF with nb = 0), and still gets `tlast`.
        // (Whether the level is off a word boundary is kept in a register of its own, so the
        // test is one LUT: the level is 33 or more, or 32 with the frame finished.)
        let offBoundary = m.register("count_off_boundary", width: 1, reset: 0)
        let emit = m.wire("emit", ((count[7, 6] != 0) || (count[5] && (offBoundary || flushing))) && outFree)

        // Whether a chunk fits, registered from the next fill level (off the accumulator's path).
        let room = m.register("room", width: 1, reset: 1)
        let take = m.wire("take", placedValid && !flushing && room)
        let takeEnd = m.wire("take_end", take && placedLast)
        let place = m.wire("place", !placedValid || take)
        let load = m.wire("chunk_load", !chunkValid || place)
        m.when(load) {
            chunkValid.assign(valid)
            chunkLast.assign(last)
            chunkData.assign(data[63, 64 - maxChunk])
            chunkBits.assign(bits)
            if let chunkUser, let user = chunk.user { chunkUser.assign(user) }
        }
        // The chunk shifted right by the offset: the top bits of (31 zeros, chunk) shifted left
        // by 31 - offset.
        let end = m.wire("chunk_end", offset.zeroExtended(to: 7) + chunkBits)
        let shifted = Funnel.top(placedWidth, of: cat(m.constant(0, width: 31), chunkData), shiftedLeftBy: ~offset, name: "placing", in: m)
        m.when(place) {
            placedValid.assign(chunkValid)
            placedLast.assign(chunkLast)
            placedData.assign(shifted)
            if let placedUser, let chunkUser { placedUser.assign(chunkUser) }
            placedLimit.assign(m.constant(UInt64(w - maxChunk), width: 8) - chunkBits.zeroExtended(to: 8))
            placedEndBit.assign(end[4, 0])
            placedEndWords.assign(end[6, 5])
            placedPaddedWords.assign(end[6, 5] + mux(end[4, 0] != 0, m.constant(1, width: 2), 0))
            m.when(chunkValid) {
                offset.assign(mux(chunkLast, m.constant(0, width: 5), end[4, 0]))
            }
        }

        // The placed chunk goes in at the fill level's word: its offset in that word is the fill
        // level's low bits already.
        let field = cat(placedData, m.constant(0, width: w - placedWidth))
        let wordIndex = count[6, 5]
        let positioned = m.wire("positioned", mux(wordIndex[1], field >> 64, mux(wordIndex[0], field >> 32, field)))
        let merged = m.wire("merged", acc | mux(take, positioned, 0))
        acc.assign(mux(emit, merged << 32, merged))
        // The next fill level, every case computed from registers and then chosen (the take and
        // emit decisions only steer the final choice): after a chunk the level grows by its
        // length, after a frame's last chunk it is padded to the next word boundary (the bits
        // below are already zero), and a word leaving in the same cycle takes 32 off. The
        // placed chunk's end is known relative to its first word, so only word counts are added.
        let words = count[7, 5]
        let appended = m.wire("count_appended", cat(words + placedEndWords.zeroExtended(to: 3), placedEndBit))
        let padded = m.wire("count_padded", cat(words + placedPaddedWords.zeroExtended(to: 3), m.constant(0, width: 5)))
        let filled = m.wire("filled", mux(take, mux(placedLast, padded, appended), count))
        count.assign(mux(emit, cat(filled[7, 5] - 1, filled[4, 0]), filled))
        offBoundary.assign(mux(take, !placedLast && (placedEndBit != 0), offBoundary))
        // Room next cycle, from comparisons of the current fill level with a registered limit
        // (no addition before the comparison): count + taken - 32 x emit <= limit. After a last
        // chunk room is off for that one cycle (flushing follows anyway).
        let limit = mux(take, placedLimit, m.constant(UInt64(w - maxChunk), width: 8))
        room.assign(!takeEnd && mux(emit, count.zeroExtended(to: 9) <= limit.zeroExtended(to: 9) + 32, count <= limit))
        m.when(takeEnd) { flushing.assign(1) }
        if let accUser, let placedUser { m.when(take) { accUser.assign(placedUser) } }
        // `emit` implies a free stage: the stage loads every word that leaves.
        let frameDone = m.wire("frame_done", flushing && (count == 32))
        leaving.valid.assign(emit)
        leaving.data.assign(acc[w - 1, w - 32])
        leaving.last?.assign(frameDone)
        if let accUser { leaving.user?.assign(accUser) }
        m.when(emit && frameDone) { flushing.assign(0) }
        accepts = load
    }
}
