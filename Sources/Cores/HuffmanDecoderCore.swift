import Codec
import HDL
import HDLBlocks

/// The fixed-codebook Huffman decoder: 32-bit stream words in, values out, one value per cycle
/// whenever the value's bits are buffered and the output can take it.
///
/// A 128-bit buffer holds the stream left-aligned (zeros below `count`); a whole word is appended
/// whenever at least 32 bits are free. The code at the head of the buffer is decoded one cycle
/// ahead: while the current entry is consumed (a shift by a registered amount), the entry that
/// follows it is decoded from fixed slices of the same buffer, one slice per possible consumed
/// length, and the registered choice picks one. So the feedback loop is buffer -> range checks
/// on fixed slices -> registered select, and buffer -> shift by a registered amount; neither waits
/// on the other. Lengths are checked in parallel, one-hot (codes of one length are consecutive),
/// ESC and EOF are recognised the same way. After EOF, a reset or a stall for bits, one cycle
/// decodes the head directly.
///
/// A value is held back one entry so `m_axis_tlast` can be set on it when the next entry is
/// EOF; after EOF the padding to the word boundary is dropped. An empty frame produces nothing.
/// A bit pattern that starts no code (an incomplete code) raises `error`, which stays set until
/// reset; words are still accepted and dropped, so the input side never hangs.
public enum HuffmanDecoderCore {
    static let bufferBits = 128

    /// What the decoder knows about the entry at the head of the buffer.
    struct HeadInfo {
        let hit: Signal
        let length: Signal
        let isEscape: Signal
        let isEnd: Signal
        /// One-hot over `consumeChoices`: which consumed length a value or ESC entry has.
        let select: [Signal]
    }

    public static func module(codebook: Codebook) throws -> Module {
        guard case .huffman(let lengths) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "huffman", found: codebook.coder.name)
        }
        let layout = codebook.layout
        let code = CanonicalCode(lengths: lengths)
        let n = layout.symbolCount
        let escape = n, endOfFrame = n + 1
        let maxLength = code.maxLength
        let w = bufferBits
        // Canonical ranges: per length, the first code, how many codes, and the rank of the first.
        let order = lengths.indices.filter { lengths[$0] > 0 }.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var first = [Int: UInt64](), countOf = [Int: Int](), rankOf = [Int: Int]()
        for (rank, entry) in order.enumerated() {
            let l = lengths[entry]
            if first[l] == nil {
                first[l] = UInt64(code.codes[entry])
                rankOf[l] = rank
            }
            countOf[l, default: 0] += 1
        }
        let usedLengths = first.keys.sorted()
        let rankBits = max(1, bitsToAddress(order.count))
        let symbolsByRank = order.map { $0 < n ? UInt64($0) : 0 }
        let escLength = lengths[escape], eofLength = lengths[endOfFrame]
        let escBits = escLength + layout.symbolBits + layout.rawBits
        // The lengths a value or ESC entry can consume (EOF is handled apart: it adds padding).
        let symbolLengths = Set(order.filter { $0 < n }.map { lengths[$0] })
        let consumeChoices = (Set(symbolLengths.map { $0 + layout.rawBits }).union([escBits])).sorted()

        let skid = try SkidBuffer.module(name: "\(codebook.name)_decoder_skid", dataWidth: layout.valueBits, hasLast: true)
        return try Module("\(codebook.name)_decoder") { m in
            m.comment("Huffman decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), codes up to \(maxLength) bits.")
            m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
            let sData = m.input("s_axis_tdata", width: 32)
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let mData = m.output("m_axis_tdata", width: layout.valueBits)
            let mValid = m.output("m_axis_tvalid")
            let mReady = m.input("m_axis_tready")
            let mLast = m.output("m_axis_tlast")
            let errorOut = m.output("error")

            let buffer = m.register("buffer", width: w, reset: 0)
            let count = m.register("count", width: 8, reset: 0)
            // Bits consumed since the frame began, modulo 32: where the padding after EOF ends.
            let position = m.register("position", width: 5, reset: 0)
            let failed = m.register("failed", width: 1, reset: 0)
            let heldValid = m.register("held_valid", width: 1, reset: 0)
            let heldValue = m.register("held_value", width: layout.valueBits, reset: nil)
            let outValid = m.register("out_valid", width: 1, reset: 0)
            let outValue = m.register("out_value", width: layout.valueBits, reset: nil)
            let outLast = m.register("out_last", width: 1, reset: nil)
            let out = m.instance(skid, name: "out_skid")
            let outFree = m.wire("out_free", !outValid || out["s_axis_tready"])

            // The head entry, decoded ahead.
            let infoValid = m.register("info_valid", width: 1, reset: 0)
            // Decoded from at least maxLength real bits (else new bits may change it).
            let infoExact = m.register("info_exact", width: 1, reset: nil)
            let infoHit = m.register("info_hit", width: 1, reset: nil)
            let infoLength = m.register("info_length", width: 5, reset: nil)
            let infoEscape = m.register("info_escape", width: 1, reset: nil)
            let infoEnd = m.register("info_end", width: 1, reset: nil)
            let infoSelect = consumeChoices.map { m.register("info_take\($0)", width: 1, reset: nil) }

            /// Range checks on a maxLength-bit window: which code starts there.
            func decode(_ window: Signal, _ tag: String) -> HeadInfo {
                var hits: [(length: Int, hit: Signal)] = []
                for l in usedLengths {
                    guard let f = first[l], let c = countOf[l] else { continue }
                    let bits = window[maxLength - 1, maxLength - l]
                    let hit = c == 1 ? (bits == Int(f)) : f == 0 ? (bits < c) : ((bits >= Int(f)) && (bits < Int(f) + c))
                    hits.append((l, m.wire("\(tag)_len\(l)", hit)))
                }
                let isEscape = window[maxLength - 1, maxLength - escLength] == Int(code.codes[escape])
                let isEnd = window[maxLength - 1, maxLength - eofLength] == Int(code.codes[endOfFrame])
                let any = hits.map(\.hit).reduce(m.constant(0, width: 1)) { $0 || $1 }
                let length = hits.reduce(m.constant(0, width: 5)) { acc, e in acc | mux(e.hit, m.constant(UInt64(e.length), width: 5), 0) }
                let select = consumeChoices.map { c -> Signal in
                    let forValues = hits.filter { symbolLengths.contains($0.length) && $0.length + layout.rawBits == c }.map(\.hit)
                    let valueHit = forValues.reduce(m.constant(0, width: 1)) { $0 || $1 }
                    let plain = valueHit && !isEscape && !isEnd
                    return c == escBits ? (plain || isEscape) : plain
                }
                return HeadInfo(hit: any, length: length, isEscape: isEscape, isEnd: isEnd, select: select)
            }

            // Bits the head entry consumes (EOF: its code and the padding to the word boundary,
            // kept in a register computed from the next position).
            let endBits = m.register("end_bits", width: 8, reset: UInt64(eofLength + (32 - eofLength % 32) % 32))
            let entryBits = m.wire("entry_bits", zip(consumeChoices, infoSelect).reduce(m.constant(0, width: 8)) { acc, e in
                acc | mux(e.1, m.constant(UInt64(e.0), width: 8), 0)
            })
            let consume = m.wire("consume", mux(infoEnd, endBits, entryBits))
            // "All its bits are buffered" and "the slice after it is exact", as one-hot picks of
            // comparisons of the fill level with constants (no subtraction before a comparison).
            let buffered = m.wire("buffered", zip(consumeChoices, infoSelect).reduce(infoEnd && (count >= endBits)) { acc, e in
                acc || (e.1 && (count >= e.0))
            })
            let aheadFits = m.wire("ahead_fits", zip(consumeChoices, infoSelect).reduce(m.constant(0, width: 1)) { acc, e in
                acc || (e.1 && (count >= e.0 + maxLength))
            })
            let complete = m.wire("complete", infoValid && infoHit && buffered)
            let invalid = m.wire("invalid", infoValid && infoExact && !infoHit)
            // A value may leave the held register only when the output register can take it.
            let step = m.wire("step", complete && !failed && (!heldValid || outFree))

            // Refill with a whole word when 32 bits are free (after an error: take and drop).
            let accept = m.wire("accept", failed || (count <= w - 32))
            sReady.assign(accept)
            let take = m.wire("take", accept && sValid && !failed)
            let consumed = m.wire("consumed", mux(step, consume, 0))
            let countLeft = m.wire("count_left", count - consumed)
            // The word goes in at the registered fill level and then everything moves up by the
            // bits consumed, so neither shift waits for the other or for `step`.
            let word = cat(sData, m.constant(0, width: w - 32))
            let filled = m.wire("filled", mux(take, buffer | (word >> count), buffer))
            buffer.assign(mux(step, filled << consume, filled))
            count.assign(mux(take, countLeft + 32, countLeft))
            let nextPosition = m.wire("next_position", mux(step && infoEnd, m.constant(0, width: 5), position + consumed.resized(to: 5)))
            position.assign(nextPosition)
            let pad = (m.constant(0, width: 5) - (nextPosition + eofLength)).resized(to: 5)
            endBits.assign(m.constant(UInt64(eofLength), width: 8) + pad.zeroExtended(to: 8))
            m.when(invalid && !failed) { failed.assign(1) }

            // The next head: after a value or ESC, from the slice that starts where this entry
            // ends (chosen by the registered one-hot); otherwise straight from the buffer top.
            let direct = decode(buffer[w - 1, w - maxLength], "head")
            let ahead = consumeChoices.map { c in decode(buffer[w - 1 - c, w - c - maxLength], "next\(c)") }
            func pick(_ field: (HeadInfo) -> Signal) -> Signal {
                zip(ahead, infoSelect).reduce(m.constant(0, width: field(direct).width)) { acc, e in acc | mux(e.1, field(e.0), 0) }
            }
            let stepAhead = m.wire("step_ahead", step && !infoEnd)
            // The slice ahead is exact when it lies in real bits: count - consume >= maxLength.
            let aheadExact = aheadFits
            m.when(stepAhead) {
                infoValid.assign(aheadExact)
                infoExact.assign(1)
                infoHit.assign(pick(\.hit))
                infoLength.assign(pick(\.length))
                infoEscape.assign(pick(\.isEscape))
                infoEnd.assign(pick(\.isEnd))
                for (i, reg) in infoSelect.enumerated() {
                    reg.assign(zip(ahead, infoSelect).reduce(m.constant(0, width: 1)) { acc, e in acc | (e.1 && e.0.select[i]) })
                }
            }.elseWhen(step || !infoValid || (take && !infoExact)) {
                // After EOF, at the start, or when the decode saw padding zeros: decode directly
                // (next cycle, when the buffer holds the bits).
                // Valid next cycle unless this cycle consumed (EOF) or a word arrives while the
                // decode saw padding zeros (then it runs again with the new bits).
                let exact = count >= maxLength
                infoValid.assign(!step && !(take && !exact))
                infoExact.assign(exact)
                infoHit.assign(direct.hit)
                infoLength.assign(direct.length)
                infoEscape.assign(direct.isEscape)
                infoEnd.assign(direct.isEnd)
                for (i, reg) in infoSelect.enumerated() { reg.assign(direct.select[i]) }
            }

            // The value behind the head code, from registered lengths: off the feedback loop.
            let window = buffer[w - 1, w - 64]
            let afterCode = m.wire("after_code", window << infoLength)
            let literal = afterCode[63, 64 - layout.symbolBits]
            let top = buffer[w - 1, w - maxLength]
            let rank = m.wire("code_rank", usedLengths.reduce(m.constant(0, width: rankBits)) { acc, l in
                guard let f = first[l], let r = rankOf[l] else { return acc }
                let offset = (top[maxLength - 1, maxLength - l].resized(to: max(rankBits, l)) - Int(f) + r).resized(to: rankBits)
                return acc | mux(infoLength == l, offset, 0)
            })
            let symbolROM = m.rom("symbols", width: layout.symbolBits, contents: symbolsByRank.count >= 2 ? symbolsByRank : symbolsByRank + [0],
                                  style: .logic, address: rank.resized(to: max(1, bitsToAddress(max(2, symbolsByRank.count)))), synchronous: false)
            let symbol = mux(infoEscape, literal, symbolROM)
            var raw: Signal? = nil
            if layout.rawBits > 0 {
                let afterSymbol = mux(infoEscape, afterCode << layout.symbolBits, afterCode)
                raw = afterSymbol[63, 64 - layout.rawBits]
            }
            let decoded = m.wire("decoded", ValueFields.value(symbol: symbol, raw: raw, layout: layout))

            // The held value leaves when the next entry is decoded: with tlast if that is EOF.
            m.when(step && heldValid) {
                outValid.assign(1)
                outValue.assign(heldValue)
                outLast.assign(infoEnd)
            }.elseWhen(outFree) {
                outValid.assign(0)
            }
            m.when(step) {
                heldValid.assign(!infoEnd)
                heldValue.assign(decoded)
            }

            out["s_axis_tdata"].assign(outValue)
            out["s_axis_tvalid"].assign(outValid)
            out["s_axis_tlast"].assign(outLast)
            out["m_axis_tready"].assign(mReady)
            mData.assign(out["m_axis_tdata"])
            mValid.assign(out["m_axis_tvalid"])
            mLast.assign(out["m_axis_tlast"])
            errorOut.assign(failed)
        }
    }
}
