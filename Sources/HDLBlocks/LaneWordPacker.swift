import HDL

/// Packs bit chunks of K interleaved bit streams (*lanes*) into one stream of 32-bit words, first
/// bit at bit 31, where each lane's words are sent in the order of their *first* bit: a word's
/// place in the output is fixed when the first chunk reaching it arrives, its contents only when
/// its lane has filled it. A chunk that ends a frame is followed by every lane's partial word,
/// padded with zeros, and the frame's last word carries `tlast`.
///
/// Chunks come in lane order, lane after lane (a ring): each chunk goes to the current lane, and
/// the next chunk goes to the next lane unless the chunk says `stays` (the next chunk is for the
/// same lane). Lanes are only told apart by their bits, so after a frame (every lane empty) the
/// next frame's first chunk goes to whichever lane is current: the ring needs no lane number and
/// no multiplexer, the current lane's registers are always the first.
///
/// Words wait for their slot in a reorder buffer of `depth` words (block RAM), with a filled flag
/// per slot; the oldest slot leaves once it is filled. A chunk waits while all but one slot were
/// taken a cycle before (a registered test), so `depth` must exceed the slots from a lane's open
/// word to the newest, up to and including the chunk that fills it: otherwise the oldest slot,
/// unfilled, would wait for a chunk that waits for a slot. The caller knows the bound (it
/// depends on its chunks' lengths).
///
/// Timing: a chunk register; then one chunk (or piece of 32 bits) per cycle into the current
/// lane (a 64-bit merge, at most one word completed and at most one slot allocated per piece);
/// after a frame's last chunk, K cycles that write the lanes' partial words. Words leave through
/// the RAM's read register, a register stage and a skid stage, one per cycle.
public struct LaneWordPacker {
    /// The packer takes the offered chunk this cycle.
    public let accepts: Signal

    /// Builds the packer into `m` in scope `name`, for `lanes` lanes and chunks of at most
    /// `maxChunk` (1-64) bits, with a reorder buffer of `depth` (a power of two) words. `stays`
    /// (nil: never) marks a chunk after which the same lane takes the next chunk. A chunk of more
    /// than 32 bits goes into its lane in two pieces, on two cycles: its first 32 bits (the lane
    /// stays), then the rest.
    public init(_ m: ModuleBuilder, name: String, lanes: Int, depth requestedDepth: Int, maxChunk requested: Int,
                chunk: WordPacker.Chunk, stays: Signal?, to words: Stream, file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        var maxChunk = requested, depth = requestedDepth, k = lanes
        if !(1...64).contains(maxChunk) {
            m.report(.invalidWidth, "lane word packer '\(name)' takes chunks of 1-64 bits, not \(maxChunk)", at: location)
            maxChunk = Swift.min(64, Swift.max(1, maxChunk))
        }
        let splits = maxChunk > 32
        if depth < 2 || depth & (depth - 1) != 0 {
            m.report(.invalidOperand, "lane word packer '\(name)': depth \(depth) is not a power of two of at least 2", at: location)
            depth = 2
        }
        if k < 1 {
            m.report(.invalidOperand, "lane word packer '\(name)' needs at least one lane, not \(k)", at: location)
            k = 1
        }
        let saved = m.enterScope(m.scope(name, file: file, line: line))
        defer { m.restoreScope(saved) }
        let a = bitsToAddress(depth)

        // The chunk register.
        let chunkValid = m.register("chunk_valid", width: 1, reset: 0)
        let chunkData = m.register("chunk_data", width: maxChunk, reset: nil)
        let chunkBits = m.register("chunk_bits", width: splits ? 7 : 6, reset: nil)
        let chunkLast = m.register("chunk_last", width: 1, reset: nil)
        let chunkStays = stays.map { _ in m.register("chunk_stays", width: 1, reset: nil) }

        // The lanes, current first: the held bits of the lane's open word (left-aligned, zeros
        // below them), their count (0: no open word) and the open word's slot.
        struct Lane { let bits: Signal; let have: Signal; let slot: Signal }
        let ring = (0..<k).map { i in
            m.within(m.scope("lane\(i)")) {
                Lane(bits: m.register("bits", width: 32, reset: 0), have: m.register("have", width: 5, reset: 0),
                     slot: m.register("slot", width: a, reset: nil))
            }
        }
        let current = ring[0]

        // Slots: allocated from `tail`, leaving from `head`; one filled flag per slot.
        let tail = m.register("tail", width: a + 1, reset: 0)
        let head = m.register("head", width: a + 1, reset: 0)
        let filled = m.register("filled", width: depth, reset: 0)
        // Per slot: the frame's last word (set when the frame's last chunk is taken).
        let ending = m.register("ending", width: depth, reset: 0)
        let flushing = m.register("flushing", width: 1, reset: 0)
        let flushLeft = m.register("flush_left", width: max(1, bitsToAddress(k + 1)), reset: nil)

        // A free slot for the chunk, registered: at most depth - 2 slots taken a cycle ago leaves
        // one for that cycle's chunk and one for this one's (the comparison is off the chunk's
        // path; a chunk may wait a cycle with one slot still free).
        let room = m.register("room", width: 1, reset: 1)
        room.assign((tail - head) <= m.constant(UInt64(depth - 2), width: a + 1))
        let take = m.wire("take", chunkValid && !flushing && room)
        // The piece of the chunk that goes in this cycle: the chunk, or its first 32 bits.
        let long = splits ? m.wire("long", chunkBits > 32) : nil
        let pieceData = splits ? chunkData[maxChunk - 1, maxChunk - 32] : chunkData
        let pieceBits = long.map { mux($0, m.constant(32, width: 6), chunkBits[5, 0]) } ?? chunkBits
        let pieceLast = long.map { chunkLast && !$0 } ?? chunkLast
        let pieceStays = long.map { l in chunkStays.map { $0 || l } ?? l } ?? chunkStays
        let load = m.wire("chunk_load", !chunkValid || (long.map { take && !$0 } ?? take))
        m.when(load) {
            chunkValid.assign(chunk.valid)
            chunkData.assign(chunk.data[63, 64 - maxChunk])
            chunkBits.assign(chunk.bits.resized(to: splits ? 7 : 6))
            chunkLast.assign(chunk.last)
            if let chunkStays, let stays { chunkStays.assign(stays) }
        }
        if let long {
            // After the first piece, the rest waits in the chunk register.
            m.when(take && long) {
                chunkData.assign(chunkData << 32)
                chunkBits.assign(chunkBits - 32)
            }
        }

        // The piece behind the current lane's held bits.
        let open = m.wire("open", current.have != 0)
        let pw = pieceData.width
        let placed = m.wire("placed", cat(pieceData, m.constant(0, width: 64 - pw)) >> current.have)
        let merged = m.wire("merged", cat(current.bits, m.constant(0, width: 32)) | placed)
        let total = m.wire("total", current.have.zeroExtended(to: 6) + pieceBits)
        let full = m.wire("full", total[5])
        let spills = m.wire("spills", full && (total[4, 0] != 0))
        let opens = m.wire("opens", !open && (pieceBits != 0))
        let allocates = m.wire("allocates", take && (opens || spills))
        let tailSlot = tail[a - 1, 0]
        let chunkSlot = m.wire("chunk_slot", mux(open, current.slot, tailSlot))
        let tailAfter = m.wire("tail_after", mux(allocates, tail + 1, tail))

        // The lane after this cycle: after a chunk, or (flushing) with its partial word written.
        let flushWrites = m.wire("flush_writes", flushing && open)
        let updated = Lane(
            bits: m.wire("updated_bits", mux(flushing, m.constant(0, width: 32), mux(full, merged[31, 0], merged[63, 32]))),
            have: m.wire("updated_have", mux(flushing, m.constant(0, width: 5), total[4, 0])),
            slot: m.wire("updated_slot", mux(spills || opens, tailSlot, current.slot)))
        let rotates = m.wire("rotates", flushing || (take && !(pieceStays ?? m.constant(0, width: 1))))
        // On a rotation lane i takes lane i + 1's registers and the last lane the updated one;
        // otherwise the current lane is updated in place.
        let next = Array(ring.dropFirst()) + [updated]
        func set(_ lane: Lane, to value: Lane) {
            lane.bits.assign(value.bits)
            lane.have.assign(value.have)
            lane.slot.assign(value.slot)
        }
        m.when(take || flushing) {
            set(ring[0], to: Lane(bits: mux(rotates, next[0].bits, updated.bits), have: mux(rotates, next[0].have, updated.have),
                               slot: mux(rotates, next[0].slot, updated.slot)))
            m.when(rotates) {
                for i in 1..<k { set(ring[i], to: next[i]) }
            }
        }

        // One write per cycle: the word a chunk completes, or a lane's partial word at frame end.
        let writes = m.wire("writes", (take && full) || flushWrites)
        let writeSlot = m.wire("write_slot", mux(flushing, current.slot, chunkSlot))
        let writeWord = m.wire("write_word", mux(flushing, current.bits, merged[63, 32]))
        tail.assign(tailAfter)
        let ends = m.wire("frame_ends", take && pieceLast)
        m.when(ends) {
            flushing.assign(1)
            flushLeft.assign(UInt64(k - 1))
        }.elseWhen(flushing) {
            m.when(flushLeft == 0) { flushing.assign(0) }
            flushLeft.assign(flushLeft - 1)
        }

        // The oldest slot leaves once filled, through the RAM's read register and a skid stage.
        // The newest slot also waits for a slot after it or its frame's end, so that a frame
        // whose last chunks add no word still marks its last word (which may be full already).
        let leaving = m.stream("word", StreamShape(dataWidth: 32, hasLast: true))
        // (A register stage after the RAM's read register: its clock-to-output is slow.)
        m.connect(words, from: m.skidStage(m.registerStage(leaving, name: "stage"), name: "skid"))
        let outValid = m.register("out_valid", width: 1, reset: 0)
        let outLast = m.register("out_last", width: 1, reset: nil)
        let advance = m.wire("out_advance", !outValid || leaving.ready)
        let headSlot = head[a - 1, 0]
        let headFilled = m.wire("head_filled", (filled >> headSlot)[0])
        let headEnds = m.wire("head_ends", (ending >> headSlot)[0])
        let issue = m.wire("issue", headFilled && (headEnds || (head + 1 != tail)) && advance)
        let stored = m.ram("slots", width: 32, depth: depth, writeEnable: writes, writeAddress: writeSlot,
                           writeData: writeWord, readAddress: headSlot, readEnable: issue)
        m.when(advance) { outValid.assign(issue) }
        m.when(issue) {
            head.assign(head + 1)
            outLast.assign(headEnds)
        }
        let one = m.constant(1, width: depth)
        let leaves = mux(issue, one << headSlot, 0)
        filled.assign((filled & ~leaves) | mux(writes, one << writeSlot, 0))
        // The frame's last slot is marked a cycle after its last chunk, as the newest slot then
        // (tail - 1, from registers): the newest waits for its mark, so marking late is safe, and
        // the slot arithmetic stays off the chunk's path.
        let marks = m.register("marks_end", width: 1, reset: 0)
        marks.assign(ends)
        ending.assign((ending & ~leaves) | mux(marks, one << (tail - 1)[a - 1, 0], 0))
        leaving.valid.assign(outValid)
        leaving.data.assign(stored)
        leaving.last?.assign(outLast)
        accepts = load
    }
}
