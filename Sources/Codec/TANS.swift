/// tANS tables from counts (FORMAT.md section 7): spread, decode table and encode table.
public struct TANSTables: Sendable, Equatable {
    public let tableLog: Int
    public let counts: [Int]
    /// Per state u: the entry it decodes to.
    public let symbol: [UInt16]
    /// Per state u: bits to read.
    public let bitCount: [UInt8]
    /// Per state u: the next state is base + the bits read.
    public let base: [UInt16]
    /// The states of each entry in ascending order, all entries concatenated; entry i's start
    /// in this list is `stateStart[i]`.
    public let statesByEntry: [UInt16]
    public let stateStart: [Int]

    public var tableSize: Int { 1 << tableLog }

    /// Counts must sum to 2^tableLog (a validated codebook does).
    public init(tableLog: Int, counts: [Int]) {
        self.tableLog = tableLog
        self.counts = counts
        let size = 1 << tableLog
        var spread = [UInt16](repeating: 0, count: size)
        let step = (size >> 1) + (size >> 3) + 3
        var position = 0
        for (entry, count) in counts.enumerated() {
            for _ in 0..<count {
                spread[position] = UInt16(entry)
                position = (position + step) & (size - 1)
            }
        }
        symbol = spread
        var next = counts
        var nb = [UInt8](repeating: 0, count: size)
        var base = [UInt16](repeating: 0, count: size)
        for u in 0..<size {
            let entry = Int(spread[u])
            let x = next[entry]
            next[entry] += 1
            let bits = tableLog - (Int.bitWidth - 1 - x.leadingZeroBitCount)
            nb[u] = UInt8(bits)
            base[u] = UInt16((x << bits) - size)
        }
        bitCount = nb
        self.base = base
        var start = [Int](repeating: 0, count: counts.count + 1)
        for i in counts.indices { start[i + 1] = start[i] + counts[i] }
        var fill = start
        var list = [UInt16](repeating: 0, count: size)
        for u in 0..<size {
            let entry = Int(spread[u])
            list[fill[entry]] = UInt16(u)
            fill[entry] += 1
        }
        statesByEntry = list
        stateStart = start
    }
}

/// tANS encoding and decoding of frames with one codebook.
public struct TANSCoder: Sendable {
    public let layout: ValueLayout
    public let tables: TANSTables
    private let escape: Int
    private let endOfFrame: Int

    public init(layout: ValueLayout, tableLog: Int, counts: [Int]) {
        self.layout = layout
        tables = TANSTables(tableLog: tableLog, counts: counts)
        escape = layout.symbolCount
        endOfFrame = layout.symbolCount + 1
    }

    /// One coding step of the encoder: from state X in [T, 2T) for `entry`, the state bits to
    /// emit (value, count) and the next X.
    @inline(__always)
    func encodeStep(_ x: Int, entry: Int) -> (bits: UInt32, count: Int, next: Int) {
        let c = tables.counts[entry]
        var nb = (Int.bitWidth - x.leadingZeroBitCount) - (Int.bitWidth - c.leadingZeroBitCount)
        if (x >> nb) < c { nb -= 1 }
        let k = (x >> nb) - c
        let state = Int(tables.statesByEntry[tables.stateStart[entry] + k])
        return (UInt32(x & ((1 << nb) - 1)), nb, tables.tableSize + state)
    }

    /// Appends one frame: the R-bit initial state, the chunks in value order, padding. The code
    /// is built backwards from EOF, so the chunks are collected first.
    public func encodeFrame(_ values: ArraySlice<UInt32>, into writer: inout BitWriter) {
        let size = tables.tableSize
        // Per entry, last first: (state bits, their count, then the literal/raw part and its count).
        var chunks: [(UInt32, Int, UInt64, Int)] = []
        chunks.reserveCapacity(values.count + 1)
        var x = size
        let eof = encodeStep(x, entry: endOfFrame)
        chunks.append((eof.bits, eof.count, 0, 0))
        x = eof.next
        let symbolBits = layout.symbolBits
        let rawBits = layout.rawBits
        for v in values.reversed() {
            let s = Int(layout.symbol(of: v))
            let raw = UInt64(layout.raw(of: v))
            if tables.counts[s] > 0 {
                let step = encodeStep(x, entry: s)
                chunks.append((step.bits, step.count, raw, rawBits))
                x = step.next
            } else {
                let step = encodeStep(x, entry: escape)
                chunks.append((step.bits, step.count, UInt64(s) << UInt64(rawBits) | raw, symbolBits + rawBits))
                x = step.next
            }
        }
        writer.write(UInt32(x - size), bits: tables.tableLog)
        for (bits, count, tail, tailCount) in chunks.reversed() {
            writer.write(bits, bits: count)
            if tailCount > 32 {
                writer.write(UInt32(truncatingIfNeeded: tail >> 32), bits: tailCount - 32)
                writer.write(UInt32(truncatingIfNeeded: tail), bits: 32)
            } else if tailCount > 0 {
                writer.write(UInt32(truncatingIfNeeded: tail), bits: tailCount)
            }
        }
        writer.padToWord()
    }

    /// Decodes one frame from the reader's position; appends its values; leaves the reader
    /// after the frame's padding.
    public func decodeFrame(_ reader: inout BitReader, into values: inout [UInt32]) throws(FrameDecodeError) {
        let frameStart = reader.position
        let tableLog = tables.tableLog
        guard reader.remaining >= tableLog else { throw .truncated(bit: frameStart) }
        var state = Int(reader.read(tableLog))
        let symbolBits = layout.symbolBits
        let rawBits = layout.rawBits
        var stepsWithoutInput = 0
        while true {
            let start = reader.position
            let entry = Int(tables.symbol[state])
            let nb = Int(tables.bitCount[state])
            guard reader.remaining >= nb else { throw .truncated(bit: start) }
            state = Int(tables.base[state]) + Int(reader.read(nb))
            if entry == endOfFrame {
                guard state == 0 else { throw .badFinalState(bit: start, state: state) }
                break
            }
            var symbol = UInt32(entry)
            if entry == escape {
                guard reader.remaining >= symbolBits else { throw .truncated(bit: start) }
                symbol = reader.read(symbolBits)
            }
            guard reader.remaining >= rawBits else { throw .truncated(bit: start) }
            values.append(layout.value(symbol: symbol, raw: reader.read(rawBits)))
            // States are a function of the bits read; more steps than states without reading
            // a bit means they cycle and EOF never comes.
            if reader.position == start {
                stepsWithoutInput += 1
                if stepsWithoutInput > tables.tableSize { throw .endless(bit: start) }
            } else {
                stepsWithoutInput = 0
            }
        }
        reader.position = min(reader.bitCount, (reader.position + 31) & ~31)
    }
}
