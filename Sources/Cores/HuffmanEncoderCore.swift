import Codec
import HDL
import HDLBlocks

/// A problem with a codebook for hardware generation.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    case wrongCoder(expected: String, found: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .wrongCoder(let expected, let found): return "this core needs a \(expected) codebook, the codebook is \(found)"
        case .unsupported(let message): return message
        }
    }
}

/// The single-stage Huffman encoder: the codebook is a ROM, no frequency analysis.
///
/// Pipeline: (1) the symbol addresses the code ROM (synchronous read, block RAM for large
/// alphabets) while the raw bits and `tlast` are registered, and the ROM word is registered
/// again (the RAM's output register); (2) the code, left-aligned in the ROM, and the raw bits are
/// composed into a registered 64-bit chunk; (3) the chunk is appended to
/// a 96-bit accumulator (a 59-bit chunk plus a word and some slack) at its registered fill level, from which a 32-bit word leaves per cycle
/// into a registered output and a skid buffer. After the last value of a frame, EOF's code
/// is appended in the next cycle and the accumulator is padded to a word boundary and drained
/// (`m_axis_tlast` on the frame's last word); the input waits meanwhile, so a frame costs its
/// values plus about 2 + (its last bits / 32) cycles. One value per cycle in steady state while
/// values average at most 32 bits.
public enum HuffmanEncoderCore {
    static let accumulatorBits = 96

    public static func module(codebook: Codebook) throws -> Module {
        let tables = try HuffmanTables(codebook)
        let (layout, lengths, code) = (tables.layout, tables.lengths, tables.code)
        let (n, escape, endOfFrame) = (layout.symbolCount, tables.escape, tables.endOfFrame)
        // Per symbol: its code, or ESC's code then the literal, and the number of those bits.
        let fields: [(bits: UInt64, count: Int)] = (0..<n).map { s in
            lengths[s] > 0
                ? (UInt64(code.codes[s]), lengths[s])
                : (UInt64(code.codes[escape]) << UInt64(layout.symbolBits) | UInt64(s), lengths[escape] + layout.symbolBits)
        }
        let fieldWidth = max(1, fields.map(\.count).max() ?? 1)
        let countWidth = 5  // up to 28 bits
        // ROM word: field bits count, then the field left-aligned in fieldWidth bits.
        let romContents = fields.map { UInt64($0.count) << UInt64(fieldWidth) | $0.bits << UInt64(fieldWidth - $0.count) }
        let maxChunk = fieldWidth + layout.rawBits
        let w = accumulatorBits
        let eofLength = lengths[endOfFrame]
        let eofLeft = UInt64(code.codes[endOfFrame]) << UInt64(64 - eofLength)

        let skid = try SkidBuffer.module(name: "\(codebook.name)_encoder_skid", dataWidth: 32, hasLast: true)
        return try Module("\(codebook.name)_encoder") { m in
            m.comment("Huffman encoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits).")
            m.comment("Single-stage: the canonical codes are a ROM. Values in (s_axis), 32-bit stream words out (m_axis, tlast on a frame's last word).")
            m.comment("Each input frame (ended by s_axis_tlast) becomes one frame: values, EOF, zero padding to 32 bits.")
            let sData = m.input("s_axis_tdata", width: layout.valueBits)
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let sLast = m.input("s_axis_tlast")
            let mData = m.output("m_axis_tdata", width: 32)
            let mValid = m.output("m_axis_tvalid")
            let mReady = m.input("m_axis_tready")
            let mLast = m.output("m_axis_tlast")

            // Stage 1: code ROM read, raw bits and tlast registered alongside.
            let stageValid = m.register("stage_valid", width: 1, reset: 0)
            let stageLast = m.register("stage_last", width: 1, reset: nil)
            let raw = ValueFields.raw(of: sData, layout: layout)
            let stageRaw = raw.map { m.register("stage_raw", width: $0.width, reset: nil) }
            let advanceChunk = m.wire("advance_chunk", width: 1)
            let advanceWord = m.wire("advance_word", width: 1)
            let advance = m.wire("advance", !stageValid || advanceWord)
            let romWord = m.rom(
                "code", width: fieldWidth + countWidth, contents: romContents,
                style: n >= 64 ? .blockMemory : .logic,
                address: ValueFields.symbol(of: sData, layout: layout), readEnable: advance, synchronous: true)
            m.when(advance) {
                stageValid.assign(sValid)
                stageLast.assign(sLast)
                if let stageRaw, let raw { stageRaw.assign(raw) }
            }
            sReady.assign(advance)

            // Stage 1b: the ROM word registered (block RAM output register), so the RAM's slow
            // clock-to-output does not lead into the chunk composition.
            let wordValid = m.register("word_valid", width: 1, reset: 0)
            let wordData = m.register("word_data", width: fieldWidth + countWidth, reset: nil)
            let wordLast = m.register("word_last", width: 1, reset: nil)
            let wordRaw = stageRaw.map { m.register("word_raw", width: $0.width, reset: nil) }
            m.when(advanceWord) {
                wordValid.assign(stageValid)
                wordData.assign(romWord)
                wordLast.assign(stageLast)
                if let wordRaw, let stageRaw { wordRaw.assign(stageRaw) }
            }

            // Stage 2: the next chunk for the accumulator, left-aligned in 64 bits, with its length:
            // a value's code (or ESC and literal) and raw bits, or after a frame's last value, EOF.
            // Registered so the raw-bit shift and the EOF choice stay off the accumulator's path.
            let maxItem = max(maxChunk, eofLength)
            let chunkValid = m.register("chunk_valid", width: 1, reset: 0)
            let chunkBitsReg = m.register("chunk_bits", width: 7, reset: nil)
            // The fill level up to which there is room for one more chunk after this one.
            let chunkLimit = m.register("chunk_limit", width: 8, reset: nil)
            let chunkData = m.register("chunk_data", width: 64, reset: nil)
            let chunkLast = m.register("chunk_last", width: 1, reset: nil)
            let chunkIsEnd = m.register("chunk_is_end", width: 1, reset: nil)
            let fieldCount = wordData[fieldWidth + countWidth - 1, fieldWidth]
            let fieldLeft = wordData[fieldWidth - 1, 0]
            var composed = cat(fieldLeft, m.constant(0, width: 64 - fieldWidth))
            if let wordRaw {
                let rawLeft = cat(wordRaw, m.constant(0, width: 64 - wordRaw.width))
                composed = composed | (rawLeft >> fieldCount)
            }

            // Stage 3: the accumulator. Bits are left-aligned; below `count` it holds zeros. The
            // chunk is shifted by the registered fill level; when a word leaves in the same cycle
            // the sum moves up 32 bits (wiring, not a second shifter).
            let acc = m.register("acc", width: w, reset: 0)
            let count = m.register("count", width: 8, reset: 0)
            let flushing = m.register("flushing", width: 1, reset: 0)

            // Output register, then a skid buffer for a registered m_axis_tready.
            let outValid = m.register("out_valid", width: 1, reset: 0)
            let outData = m.register("out_data", width: 32, reset: nil)
            let outLast = m.register("out_last", width: 1, reset: nil)
            let out = m.instance(skid, name: "out_skid")
            let outFree = m.wire("out_free", !outValid || out["s_axis_tready"])
            let emit = m.wire("emit", (count >= 32) && outFree)

            // Whether a chunk fits, registered from the next fill level (off the shift path).
            let room = m.register("room", width: 1, reset: 1)
            let take = m.wire("take", chunkValid && !flushing && room)
            let takeEnd = m.wire("take_end", take && chunkIsEnd)
            let endNext = m.wire("end_next", take && chunkLast && !chunkIsEnd)
            advanceChunk.assign(!chunkValid || (take && !endNext))
            advanceWord.assign(!wordValid || advanceChunk)
            m.when(endNext) {
                // The frame's last value goes in: EOF is the next chunk.
                chunkIsEnd.assign(1)
                chunkLast.assign(0)
                chunkData.assign(m.constant(eofLeft, width: 64))
                chunkBitsReg.assign(UInt64(eofLength))
                chunkLimit.assign(UInt64(w - maxItem - eofLength))
            }.elseWhen(advanceChunk) {
                chunkValid.assign(wordValid)
                chunkIsEnd.assign(0)
                chunkLast.assign(wordLast)
                chunkData.assign(composed)
                let bits = fieldCount.zeroExtended(to: 8) + layout.rawBits
                chunkBitsReg.assign(bits.truncated(to: 7))
                chunkLimit.assign(m.constant(UInt64(w - maxItem), width: 8) - bits)
            }

            let shiftedChunk = m.wire("shifted_chunk", cat(chunkData, m.constant(0, width: w - 64)) >> count)
            let merged = m.wire("merged", acc | mux(take, shiftedChunk, 0))
            let countAppended = m.wire("count_appended", count + mux(take, chunkBitsReg.zeroExtended(to: 8), 0))
            acc.assign(mux(emit, merged << 32, merged))
            // After EOF the fill level is padded to the next word boundary: the bits below are
            // already zero. A word leaving in the same cycle moves everything up by 32.
            let padded = cat((countAppended + 31)[7, 5], m.constant(0, width: 5))
            let filled = m.wire("filled", mux(takeEnd, padded, countAppended))
            count.assign(mux(emit, filled - 32, filled))
            // Room next cycle, from comparisons of the current fill level with a registered limit
            // (no addition before the comparison): count + taken - 32 x emit <= limit. After EOF
            // the level is padded; room is off for that one cycle (flushing follows anyway).
            let limit = mux(take, chunkLimit, m.constant(UInt64(w - maxItem), width: 8))
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
        }
    }
}
