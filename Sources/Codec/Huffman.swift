/// Canonical Huffman codes from code lengths (FORMAT.md section 6, DEFLATE's rule).
public struct CanonicalCode: Sendable, Equatable {
    /// Length per entry (0: no code).
    public let lengths: [Int]
    /// Code per entry, right-aligned in `lengths[i]` bits (0 where the length is 0).
    public let codes: [UInt32]
    public let maxLength: Int

    /// Lengths must satisfy the Kraft inequality (a validated codebook does).
    public init(lengths: [Int]) {
        self.lengths = lengths
        var codes = [UInt32](repeating: 0, count: lengths.count)
        let order = lengths.indices.filter { lengths[$0] > 0 }.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var code: UInt32 = 0
        var previousLength = 0
        for (rank, entry) in order.enumerated() {
            let length = lengths[entry]
            if rank > 0 { code = (code + 1) << UInt32(length - previousLength) } else { code = 0 }
            codes[entry] = code
            previousLength = length
        }
        self.codes = codes
        maxLength = lengths.max() ?? 0
    }

    /// The Kraft sum of code lengths 0-16 (0: no code), in units of 2^-16: at most 65536 for a
    /// prefix code, exactly 65536 for a complete one.
    public static func kraftSum(_ lengths: [Int]) -> Int {
        lengths.reduce(0) { $0 + ($1 == 0 ? 0 : 1 << (16 - $1)) }
    }

    /// Every bit pattern starts a code (Kraft sum exactly 1).
    public var isComplete: Bool { Self.kraftSum(lengths) == 1 << 16 }
}

/// Huffman encoding and decoding of frames with one codebook.
public struct HuffmanCoder: Sendable, FrameDecoding {
    public let layout: ValueLayout
    public let code: CanonicalCode
    /// Per symbol: the bits written for its symbol part (its code, or ESC's code then the
    /// literal for an escaped symbol) and how many (at most 16 + 12).
    let symbolField: FixedTable<UInt32>
    let symbolFieldBits: FixedTable<UInt8>
    /// Indexed by the next `maxLength` bits: for a symbol, code length + rawBits (bits 0-5, so a
    /// shift by the slot itself consumes a value); code length (bits 6-10, 0: no code starts
    /// so), ESC (bit 11), EOF (bit 12), no code (bit 13), the entry (bits 16-28).
    let decodeTable: FixedTable<UInt32>
    /// For values of at most `valueTableBits` bits (one lane): per value, everything it writes
    /// (its symbol's field, then its raw bits) in bits 6-63 and how many bits in 0-5, so a value
    /// costs one load and one write.
    let valueTable: FixedTable<UInt64>?
    static let valueTableBits = 16
    /// For layouts without raw bits and codes of at most `pairTableBits` bits (huff0's
    /// double-symbol table): indexed like `decodeTable`, the bits used (0-5), how many values
    /// (6-7: 1, or 2 when a second whole code of a symbol follows the first in the index bits, 0
    /// for a slot that is not a symbol's), the first value (8-19) and the second (20-31).
    let pairTable: FixedTable<UInt32>?
    static let pairTableBits = 12
    /// The four-frame decode loop's table in C (`hwgen_huffman_decode4`); nil where a placed
    /// value needs more than 24 bits.
    let decodeKernel: HuffmanDecodeKernel?
    let escape: Int
    let endOfFrame: Int

    static let escapeFlag: UInt32 = 1 << 11
    static let endFlag: UInt32 = 1 << 12
    /// Marks bit patterns that start no code (their length is 0).
    static let invalidFlag: UInt32 = 1 << 13

    /// K (section 9); 1 is version 1's single stream.
    public let lanes: Int

    public init(layout: ValueLayout, codeLengths: [Int], lanes: Int = 1) {
        self.layout = layout
        self.lanes = max(1, lanes)
        code = CanonicalCode(lengths: codeLengths)
        escape = layout.symbolCount
        endOfFrame = layout.symbolCount + 1
        var field = [UInt32](repeating: 0, count: layout.symbolCount)
        var fieldBits = [UInt8](repeating: 0, count: layout.symbolCount)
        for s in 0..<layout.symbolCount {
            if codeLengths[s] > 0 {
                field[s] = code.codes[s]
                fieldBits[s] = UInt8(codeLengths[s])
            } else {
                field[s] = code.codes[escape] << UInt32(layout.symbolBits) | UInt32(s)
                fieldBits[s] = UInt8(codeLengths[escape] + layout.symbolBits)
            }
        }
        symbolField = FixedTable(field)
        symbolFieldBits = FixedTable(fieldBits)
        let bits = code.maxLength
        var table = [UInt32](repeating: Self.invalidFlag, count: 1 << bits)
        // Bits 0-5 of an ESC, EOF or no-code slot say how many bits a lane must hold before the
        // slot can be trusted (the code's length; for no code, the longest): a K-lane decoder
        // takes a word exactly when the bits it holds are fewer.
        for i in table.indices { table[i] |= UInt32(bits) }
        for entry in codeLengths.indices where codeLengths[entry] > 0 {
            let length = codeLengths[entry]
            let direct = entry < layout.symbolCount
            var slot = UInt32(direct ? length + layout.rawBits : length) | UInt32(length) << 6 | UInt32(entry) << 16
            if entry == layout.symbolCount { slot |= Self.escapeFlag }
            if entry == layout.symbolCount + 1 { slot |= Self.endFlag }
            let first = Int(code.codes[entry]) << (bits - length)
            for i in first..<(first + (1 << (bits - length))) { table[i] = slot }
        }
        decodeTable = FixedTable(table)
        decodeKernel = HuffmanDecodeKernel(decodeTable: decodeTable, layout: layout)
        if layout.rawBits == 0 && layout.symbolBits <= 12 && bits <= Self.pairTableBits && bits > 0 && self.lanes == 1 {
            let mask = (1 << bits) - 1
            pairTable = FixedTable((0..<(1 << bits)).map { w -> UInt32 in
                let first = table[w]
                guard first & (Self.escapeFlag | Self.endFlag | Self.invalidFlag) == 0 else { return 0 }
                let l1 = Int((first >> 6) & 0x1F)
                let value1 = layout.value(symbol: first >> 16, raw: 0)
                let single = UInt32(l1) | 1 << 6 | value1 << 8
                guard l1 < bits else { return single }
                // The second code, when the bits after the first hold all of it.
                let second = table[(w << l1) & mask]
                let l2 = Int((second >> 6) & 0x1F)
                guard second & (Self.escapeFlag | Self.endFlag | Self.invalidFlag) == 0, l2 <= bits - l1 else { return single }
                return UInt32(l1 + l2) | 2 << 6 | value1 << 8 | layout.value(symbol: second >> 16, raw: 0) << 20
            })
        } else {
            pairTable = nil
        }
        if layout.valueBits <= Self.valueTableBits && self.lanes == 1 {
            let rawBits = layout.rawBits
            valueTable = FixedTable((0..<(1 << layout.valueBits)).map { v -> UInt64 in
                let s = Int(layout.symbol(of: UInt32(v)))
                let raw = UInt64(layout.raw(of: UInt32(v)))
                let count = Int(fieldBits[s]) + rawBits
                return (UInt64(field[s]) << UInt64(rawBits) | raw) << 6 | UInt64(count)
            })
        } else {
            valueTable = nil
        }
    }

    /// Appends one frame: the values, EOF, zero padding to 32 bits. The values must fit the
    /// layout's value bits (`StreamCodec` checks them).
    func encodeFrame(_ values: ArraySlice<UInt32>, into writer: BitWriter) {
        switch (layout.transform, lanes) {
        case (.identity, 1): encodeFrame(values, into: writer, IdentityKernel.self)
        case (.split, 1): encodeFrame(values, into: writer, SplitKernel.self)
        case (.bf16Exponent, 1): encodeFrame(values, into: writer, BF16Kernel.self)
        case (.identity, _): encodeLanes(values, lanes: lanes, into: writer, IdentityKernel.self)
        case (.split, _): encodeLanes(values, lanes: lanes, into: writer, SplitKernel.self)
        case (.bf16Exponent, _): encodeLanes(values, lanes: lanes, into: writer, BF16Kernel.self)
        }
    }

    private func encodeFrame<K: TransformKernel>(_ values: ArraySlice<UInt32>, into writer: BitWriter, _: K.Type) {
        if let valueTable {
            // One load per value: its bits and their count (at most 16 + 16 bits).
            let table = valueTable.pointer
            writer.withLocalWriter(maxBits: values.count * 32) { out in
                for v in values {
                    let e = table[Int(truncatingIfNeeded: v)]
                    out.write64(e &>> 6, bits: Int(truncatingIfNeeded: e & 0x3F))
                }
            }
            writer.write(code.codes[endOfFrame], bits: code.lengths[endOfFrame])
            writer.padToWord()
            return
        }
        let rawBits = layout.rawBits
        let field = symbolField.pointer
        let fieldBits = symbolFieldBits.pointer
        writer.withLocalWriter(maxBits: values.count * (28 + rawBits)) { out in
            for v in values {
                let s = Int(K.symbol(v, rawBits: rawBits))
                let bits = Int(fieldBits[s])
                let raw = K.raw(v, rawBits: rawBits)
                // At most 28 + 31 bits: one write when they fit in 56.
                if bits &+ rawBits <= 56 {
                    out.write64(UInt64(field[s]) &<< UInt64(rawBits) | UInt64(raw), bits: bits &+ rawBits)
                } else {
                    out.write64(UInt64(field[s]), bits: bits)
                    out.write64(UInt64(raw), bits: rawBits)
                }
            }
        }
        writer.write(code.codes[endOfFrame], bits: code.lengths[endOfFrame])
        writer.padToWord()
    }

    /// Decodes one version-1 (one-lane) frame; see `FrameDecoding.decodeFrame`.
    func decodeSingle<K: TransformKernel>(_ reader: inout BitReader, into sink: inout ValueSink, limit valueLimit: Int, _: K.Type) throws(FrameDecodeError) {
        let bits = code.maxLength
        let symbolBits = layout.symbolBits
        let rawBits = layout.rawBits
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 << UInt64(rawBits)) - 1
        // One 64-bit load serves a code and its raw bits when both fit the peek window.
        let combined = bits + rawBits <= 57
        let table = decodeTable.pointer
        let stopFlags = Self.escapeFlag | Self.endFlag
        let windowBits = bits + rawBits
        let codeShift = UInt64(64 - bits)
        // A slot with length 0 (no code), ESC or EOF leaves the fast path.
        let stopMask = stopFlags | Self.invalidFlag
        while true {
            // Fast path: directly coded symbols at least 64 bits from the end of the stream,
            // from 64-bit loads at the position; the loop-carried chain is load -> table ->
            // shift (stream files decode four frames at once: `InterleavedFrames`).
            if combined {
                // Values per 64-bit load: as many whole entries as 57 bits surely hold; the
                // loads go on without a branch on the bits left while a budget of loads, worked
                // out once per block, keeps them inside the stream.
                let perLoad = max(1, 57 / windowBits)
                let limit = reader.bitCount - 64
                var position = reader.position
                var stopped = false
                while position <= limit && !stopped {
                    let loads = min(256 / perLoad, (limit - position) / (perLoad * windowBits) + 1)
                    sink.reserve(loads * perLoad)
                    var out = sink.base + sink.count
                    let first = out
                    blocks: for _ in 0..<loads {
                        var bits = reader.container(at: position)
                        for _ in 0..<perLoad {
                            let slot = table[Int(truncatingIfNeeded: bits &>> codeShift)]
                            if slot & stopMask != 0 { stopped = true; break blocks }
                            let used = Int(slot & 0x3F)
                            let raw = UInt32(truncatingIfNeeded: (bits &>> UInt64(64 &- used)) & rawMask)
                            out.pointee = K.placeSymbol(slot &>> 16, rawBits: rawBits) | K.placeRaw(raw)
                            out += 1
                            bits &<<= UInt64(slot)  // the shift count is the slot's low 6 bits
                            position &+= used
                        }
                    }
                    sink.advance(by: out - first)
                    if sink.count > valueLimit { throw .tooManyValues(bit: position, limit: valueLimit) }
                }
                reader.position = position
            }
            // General path: escapes, EOF, invalid codes, the end of the stream.
            let start = reader.position
            let slot = table[Int(reader.peek(bits))]
            let length = Int((slot &>> 6) & 0x1F)
            guard length > 0 else {
                if reader.remaining < bits { throw .truncated(bit: start) }
                throw .invalidCode(bit: start)
            }
            guard reader.remaining >= length else { throw .truncated(bit: start) }
            reader.skip(length)
            if slot & Self.endFlag != 0 { break }
            var high = K.placeSymbol(slot &>> 16, rawBits: rawBits)
            if slot & Self.escapeFlag != 0 {
                guard reader.remaining >= symbolBits else { throw .truncated(bit: start) }
                high = layout.value(symbol: reader.read(symbolBits), raw: 0)
            }
            guard reader.remaining >= rawBits else { throw .truncated(bit: start) }
            guard sink.count < valueLimit else { throw .tooManyValues(bit: start, limit: valueLimit) }
            sink.append(high | K.placeRaw(reader.read(rawBits)))
        }
        reader.position = min(reader.bitCount, (reader.position + 31) & ~31)
    }
}

/// Why one frame could not be decoded; `bit` is the stream position where the problem starts.
public indirect enum FrameDecodeError: Error, Sendable, Equatable {
    /// The bits at `bit` start no code of an incomplete Huffman code.
    case invalidCode(bit: Int)
    /// The stream ends inside the frame.
    case truncated(bit: Int)
    /// A tANS frame whose EOF left the state at `state`, not 0.
    case badFinalState(bit: Int, state: Int)
    /// The frame goes on past `limit` values (a stored frame's value count, or the most any
    /// frame may hold), by bit `bit`.
    case tooManyValues(bit: Int, limit: Int)
    /// The problem met by lane `lane` (0 first) decoding entry `entry` of the frame (K lanes).
    case inLane(lane: Int, entry: Int, FrameDecodeError)

    /// The problem itself, whatever lane met it.
    public var root: FrameDecodeError {
        if case .inLane(_, _, let inner) = self { return inner.root }
        return self
    }
}
