import HDL

/// Packs bit chunks into 32-bit AXI-Stream words, first bit at bit 31; a chunk marked `last`
/// ends a frame: the bits are padded with zeros to a word boundary and the frame's last word
/// carries `tlast`.
///
/// Stages: a chunk register (the chunk left-aligned in 64 bits, its length, and the fill level
/// below which the next chunk will fit, computed as the chunk is loaded); a 96-bit accumulator
/// (a chunk of up to `maxChunk` bits plus a word and slack) into which the chunk is shifted at the
/// registered fill level, one word leaving per cycle; an output register and a skid buffer. A word
/// leaving in the same cycle as a chunk arrives moves everything up 32 bits (wiring, not a second
/// shifter). After a frame's last chunk the accumulator drains before the next chunk goes in.
public struct WordPacker {
    static let accumulatorBits = 96

    /// The packer takes the offered chunk this cycle.
    public let accepts: Signal

    /// `bits` left-aligned in the 64-bit chunk the packer takes (zeros below).
    public static func leftAligned(_ bits: Signal, in m: ModuleBuilder) -> Signal {
        bits.width == 64 ? bits : cat(bits, m.constant(0, width: 64 - bits.width))
    }

    /// Builds the packer into `m`; `skid` is a 32-bit skid buffer module with tlast, wired to
    /// the `m_axis` ports given. The producer offers `valid`, `data` (left-aligned, 64 bits),
    /// `bits` (7 bits, at most `maxChunk`) and `last`.
    public init(_ m: ModuleBuilder, skid: Module, maxChunk: Int, valid: Signal, data: Signal, bits: Signal, last: Signal,
                toData mData: Signal, valid mValid: Signal, last mLast: Signal, ready mReady: Signal) {
        let w = Self.accumulatorBits
        precondition(maxChunk <= 64 && maxChunk + 32 <= w, "chunks of up to 64 bits")
        let chunkValid = m.register("chunk_valid", width: 1, reset: 0)
        let chunkBits = m.register("chunk_bits", width: 7, reset: nil)
        // The fill level up to which there is room for one more chunk after this one.
        let chunkLimit = m.register("chunk_limit", width: 8, reset: nil)
        let chunkData = m.register("chunk_data", width: 64, reset: nil)
        let chunkLast = m.register("chunk_last", width: 1, reset: nil)

        let acc = m.register("acc", width: w, reset: 0)
        let count = m.register("count", width: 8, reset: 0)
        let flushing = m.register("flushing", width: 1, reset: 0)

        let outValid = m.register("out_valid", width: 1, reset: 0)
        let outData = m.register("out_data", width: 32, reset: nil)
        let outLast = m.register("out_last", width: 1, reset: nil)
        let out = m.instance(skid, name: "out_skid")
        let outFree = m.wire("out_free", !outValid || out["s_axis_tready"])
        let emit = m.wire("emit", (count >= 32) && outFree)

        // Whether a chunk fits, registered from the next fill level (off the shift path).
        let room = m.register("room", width: 1, reset: 1)
        let take = m.wire("take", chunkValid && !flushing && room)
        let takeEnd = m.wire("take_end", take && chunkLast)
        let load = m.wire("chunk_load", !chunkValid || take)
        m.when(load) {
            chunkValid.assign(valid)
            chunkLast.assign(last)
            chunkData.assign(data)
            chunkBits.assign(bits)
            chunkLimit.assign(m.constant(UInt64(w - maxChunk), width: 8) - bits.zeroExtended(to: 8))
        }

        let shiftedChunk = m.wire("shifted_chunk", cat(chunkData, m.constant(0, width: w - 64)) >> count)
        let merged = m.wire("merged", acc | mux(take, shiftedChunk, 0))
        acc.assign(mux(emit, merged << 32, merged))
        // The next fill level, every case computed from registers and then chosen (the take and
        // emit decisions only steer the final choice): after a chunk the level grows by its
        // length, after a frame's last chunk it is padded to the next word boundary (the bits
        // below are already zero), and a word leaving in the same cycle takes 32 off.
        let appended = m.wire("count_appended", count + chunkBits.zeroExtended(to: 8))
        let lowBitsSet = appended[4, 0] != 0
        let padded = m.wire("count_padded", cat(appended[7, 5] + mux(lowBitsSet, m.constant(1, width: 3), 0), m.constant(0, width: 5)))
        let filled = m.wire("filled", mux(take, mux(chunkLast, padded, appended), count))
        count.assign(mux(emit, cat(filled[7, 5] - 1, filled[4, 0]), filled))
        // Room next cycle, from comparisons of the current fill level with a registered limit
        // (no addition before the comparison): count + taken - 32 x emit <= limit. After a last
        // chunk room is off for that one cycle (flushing follows anyway).
        let limit = mux(take, chunkLimit, m.constant(UInt64(w - maxChunk), width: 8))
        room.assign(!takeEnd && mux(emit, count.zeroExtended(to: 9) <= limit.zeroExtended(to: 9) + 32, count <= limit))
        m.when(takeEnd) { flushing.assign(1) }
        m.when(emit) {
            outValid.assign(1)
            outData.assign(acc[w - 1, w - 32])
            outLast.assign(flushing && (count == 32))
            m.when(flushing && (count == 32)) { flushing.assign(0) }
        }.elseWhen(outFree) {
            outValid.assign(0)
        }

        SkidBuffer.connect(out, data: outData, valid: outValid, last: outLast,
                           toData: mData, valid: mValid, last: mLast, ready: mReady)
        accepts = load
    }
}
