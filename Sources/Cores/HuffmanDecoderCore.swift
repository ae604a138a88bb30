import Codec
import HDL
import HDLBlocks

/// The fixed-codebook Huffman decoder: 32-bit stream words in, values out, one value per cycle
/// whenever the value's bits are buffered and the output can take it.
///
/// A 96-bit buffer (a worst-case 59-bit value plus a 32-bit word) holds the stream left-aligned (zeros below `count`); a whole word is appended
/// whenever at least 32 bits are free. Code length detection is canonical and does not ripple:
/// for every length l a constant range check on the top l bits (codes of one length are
/// consecutive), so the lengths are tested in parallel, one-hot. ESC and EOF are recognised the
/// same way, so the bits a value consumes (code, literal, raw bits) follow from the buffer
/// without a table on the feedback path; the rank of the code then addresses a symbol ROM.
///
/// A value is held back one entry so `m_axis_tlast` can be set on it when the next entry is
/// EOF; after EOF the padding to the word boundary is dropped. An empty frame produces nothing.
/// A bit pattern that starts no code (an incomplete code) raises `error`, which stays set until
/// reset; words are still accepted so the input side never hangs.
public enum HuffmanDecoderCore {
    static let bufferBits = 96

    public static func module(codebook: Codebook) throws -> Module {
        let tables = try HuffmanTables(codebook)
        let (layout, lengths, code) = (tables.layout, tables.lengths, tables.code)
        let (n, escape, endOfFrame) = (layout.symbolCount, tables.escape, tables.endOfFrame)
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

        let skid = try SkidBuffer.module(name: "\(codebook.name)_decoder_skid", dataWidth: layout.valueBits, hasLast: true)
        return try Module("\(codebook.name)_decoder") { m in
            m.comment("Huffman decoder for codebook '\(codebook.name)': \(layout.transform.rawValue), symbolBits \(layout.symbolBits), rawBits \(layout.rawBits), codes up to \(maxLength) bits.")
            m.comment("32-bit stream words in (s_axis, first bit at bit 31), values out (m_axis, tlast on a frame's last value); error is sticky until reset.")
            let ports = DecoderPorts(m, valueBits: layout.valueBits)

            let buffer = m.register("buffer", width: w, reset: 0)
            let count = m.register("count", width: 8, reset: 0)
            // Bits consumed since the frame began, modulo 32: where the padding after EOF ends.
            let position = m.register("position", width: 5, reset: 0)
            let failed = m.register("failed", width: 1, reset: 0)
            let output = HeldValueOutput(m, skid: skid, valueBits: layout.valueBits, ports: ports)

            // Length detection: one range check per code length, all in parallel.
            let top = buffer[w - 1, w - maxLength]
            var matches: [(length: Int, hit: Signal)] = []
            for l in usedLengths {
                guard let f = first[l], let c = countOf[l] else { continue }
                let bits = top[maxLength - 1, maxLength - l]
                let hit = c == 1 ? (bits == Int(f)) : f == 0 ? (bits < c) : ((bits >= Int(f)) && (bits < Int(f) + c))
                matches.append((l, m.wire("len\(l)", hit)))
            }
            let anyCode = m.wire("any_code", matches.map(\.hit).reduce(m.constant(0, width: 1)) { $0 || $1 })
            let length = m.wire("code_length", matches.reduce(m.constant(0, width: 5)) { acc, e in acc | mux(e.hit, m.constant(UInt64(e.length), width: 5), 0) })
            let rank = m.wire("code_rank", matches.reduce(m.constant(0, width: rankBits)) { acc, e in
                guard let f = first[e.length], let r = rankOf[e.length] else { return acc }
                let offset = (top[maxLength - 1, maxLength - e.length].resized(to: max(rankBits, e.length)) - Int(f) + r).resized(to: rankBits)
                return acc | mux(e.hit, offset, 0)
            })
            let isEscape = m.wire("is_escape", top[maxLength - 1, maxLength - escLength] == Int(code.codes[escape]))
            let isEnd = m.wire("is_end", top[maxLength - 1, maxLength - eofLength] == Int(code.codes[endOfFrame]))

            // Bits the entry at the head consumes, and whether they are all buffered: one-hot
            // selections of constants and of comparisons of the registered fill level with
            // constants, all in parallel with the length check (no adder after it).
            let escBits = escLength + layout.symbolBits + layout.rawBits
            let pad = m.wire("pad", (m.constant(0, width: 5) - (position + eofLength)).resized(to: 5))
            let endBits = m.wire("end_bits", m.constant(UInt64(eofLength), width: 8) + pad.zeroExtended(to: 8))
            let valueBits = m.wire("value_bits", matches.reduce(m.constant(0, width: 8)) { acc, e in
                acc | mux(e.hit, m.constant(UInt64(e.length + layout.rawBits), width: 8), 0)
            })
            let valueBuffered = m.wire("value_buffered", matches.reduce(m.constant(0, width: 1)) { acc, e in
                acc || (e.hit && (count >= e.length + layout.rawBits))
            })
            let consume = m.wire("consume", mux(isEnd, endBits, mux(isEscape, m.constant(UInt64(escBits), width: 8), valueBits)))
            let buffered = mux(isEnd, count >= endBits, mux(isEscape, count >= escBits, valueBuffered))
            let complete = m.wire("complete", anyCode && buffered)
            let invalid = m.wire("invalid", !anyCode && (count >= maxLength))
            // A value may leave the held register only when the output register can take it.
            let step = m.wire("step", complete && !failed && output.accepts)
            let consumed = m.wire("consumed", mux(step, consume, 0))

            // The symbol and raw bits behind the code.
            let afterCode = m.wire("after_code", buffer << length)
            let literal = afterCode[w - 1, w - layout.symbolBits]
            let symbolROM = m.rom("symbols", width: layout.symbolBits, contents: symbolsByRank.count >= 2 ? symbolsByRank : symbolsByRank + [0],
                                  style: .logic, address: rank.resized(to: max(1, bitsToAddress(max(2, symbolsByRank.count)))), synchronous: false)
            let symbol = mux(isEscape, literal, symbolROM)
            var raw: Signal? = nil
            if layout.rawBits > 0 {
                let afterSymbol = mux(isEscape, afterCode << layout.symbolBits, afterCode)
                raw = afterSymbol[w - 1, w - layout.rawBits]
            }
            let decoded = m.wire("decoded", ValueFields.value(symbol: symbol, raw: raw, layout: layout))

            // Refill with a whole word when 32 bits are free (also after an error: never hang).
            let accept = m.wire("accept", failed || (count <= w - 32))
            ports.sReady.assign(accept)
            // After an error, words are taken and dropped.
            let take = m.wire("take", accept && ports.sValid && !failed)
            let countLeft = m.wire("count_left", count - consumed)
            // The shift does not wait for `step`: it shifts by `consume` and `step` picks.
            let shifted = mux(step, buffer << consume, buffer)
            let word = cat(ports.sData, m.constant(0, width: w - 32))
            buffer.assign(mux(take, shifted | (word >> countLeft), shifted))
            count.assign(mux(take, countLeft + 32, countLeft))
            position.assign(mux(step && isEnd, m.constant(0, width: 5), position + consumed.resized(to: 5)))
            m.when(invalid && !failed) { failed.assign(1) }

            // The held value leaves when the next entry is decoded: with tlast if that is EOF.
            output.update(m, step: step, isEnd: isEnd, value: decoded)
            ports.error.assign(failed)
        }
    }
}
