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
}

/// Huffman encoding and decoding of frames with one codebook.
public struct HuffmanCoder: Sendable {
    public let layout: ValueLayout
    public let code: CanonicalCode
    /// Per symbol (not ESC/EOF): the bits to write for the symbol part, and how many. Escaped
    /// symbols get the ESC code followed by the literal, as one field.
    private let symbolField: [UInt32]
    private let symbolFieldBits: [UInt8]
    /// Indexed by the next `maxLength` bits: entry << 8 | code length (0: no code starts so).
    private let decodeTable: [UInt32]
    private let escape: Int
    private let endOfFrame: Int

    public init(layout: ValueLayout, codeLengths: [Int]) {
        self.layout = layout
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
                // ESC (<= 16 bits) then the literal (<= 12 bits): at most 28 bits.
                field[s] = code.codes[escape] << UInt32(layout.symbolBits) | UInt32(s)
                fieldBits[s] = UInt8(codeLengths[escape] + layout.symbolBits)
            }
        }
        symbolField = field
        symbolFieldBits = fieldBits
        let bits = code.maxLength
        var table = [UInt32](repeating: 0, count: 1 << bits)
        for entry in codeLengths.indices where codeLengths[entry] > 0 {
            let length = codeLengths[entry]
            let first = Int(code.codes[entry]) << (bits - length)
            for i in first..<(first + (1 << (bits - length))) { table[i] = UInt32(entry) << 8 | UInt32(length) }
        }
        decodeTable = table
    }

    /// Appends one frame: the values, EOF, zero padding to 32 bits.
    public func encodeFrame(_ values: ArraySlice<UInt32>, into writer: inout BitWriter) {
        let rawBits = layout.rawBits
        for v in values {
            let s = Int(layout.symbol(of: v))
            writer.write(symbolField[s], bits: Int(symbolFieldBits[s]))
            if rawBits > 0 { writer.write(layout.raw(of: v), bits: rawBits) }
        }
        writer.write(code.codes[endOfFrame], bits: code.lengths[endOfFrame])
        writer.padToWord()
    }

    /// Decodes one frame from the reader's position; appends its values; leaves the reader
    /// after the frame's padding.
    public func decodeFrame(_ reader: inout BitReader, into values: inout [UInt32]) throws(FrameDecodeError) {
        let bits = code.maxLength
        let symbolBits = layout.symbolBits
        let rawBits = layout.rawBits
        while true {
            let start = reader.position
            let slot = decodeTable[Int(reader.peek(bits))]
            let length = Int(slot & 0xFF)
            guard length > 0 else {
                // No code starts with these bits. If the stream ends first, it is truncated.
                if reader.remaining < bits { throw .truncated(bit: start) }
                throw .invalidCode(bit: start)
            }
            guard reader.remaining >= length else { throw .truncated(bit: start) }
            reader.skip(length)
            var symbol = Int(slot >> 8)
            if symbol == endOfFrame { break }
            if symbol == escape {
                guard reader.remaining >= symbolBits else { throw .truncated(bit: start) }
                symbol = Int(reader.read(symbolBits))
            }
            guard reader.remaining >= rawBits else { throw .truncated(bit: start) }
            let raw = reader.read(rawBits)
            values.append(layout.value(symbol: UInt32(symbol), raw: raw))
        }
        reader.position = min(reader.bitCount, (reader.position + 31) & ~31)
    }
}

/// Why one frame could not be decoded; `bit` is the stream position where the problem starts.
public enum FrameDecodeError: Error, Sendable, Equatable {
    /// The bits at `bit` start no code of an incomplete Huffman code.
    case invalidCode(bit: Int)
    /// The stream ends inside the frame.
    case truncated(bit: Int)
    /// A tANS frame whose EOF left the state at `state`, not 0.
    case badFinalState(bit: Int, state: Int)
    /// A tANS frame that runs through more than the table size of entries without reading a
    /// bit: its states cycle and it would never end.
    case endless(bit: Int)
}
