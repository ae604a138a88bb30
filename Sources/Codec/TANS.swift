import CCodecKernels

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

    /// The encode rule for an entry with a count c (FORMAT.md section 7), in the form the coders
    /// use: with k = R - floor(log2 c), a state X in [T, 2T) emits nb = k bits when
    /// X >= `threshold` (= c << k), else k - 1, and moves to T + statesByEntry[(X >> nb) + `stateOffset`].
    public struct EncodeStep: Sendable, Equatable {
        public let k: Int
        public let threshold: Int
        /// stateStart[entry] - c (negative for the first entries).
        public let stateOffset: Int
    }

    /// The encode rule for `entry`, which must have a non-zero count.
    public func encodeStep(for entry: Int) -> EncodeStep {
        let c = counts[entry]
        let k = tableLog - (Int.bitWidth - 1 - c.leadingZeroBitCount)
        return EncodeStep(k: k, threshold: c << k, stateOffset: stateStart[entry] - c)
    }

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
public struct TANSCoder: Sendable, FrameDecoding {
    public let layout: ValueLayout
    public let tables: TANSTables
    /// Per state: 63 - nb (bits 0-5: shifting the container right by one and
    /// then by the slot itself leaves the nb state bits, 0 when nb is 0), base (bits 8-23),
    /// nb + rawBits (bits 24-31), the entry (bits 32-44), and bit 48 when the entry is ESC or EOF.
    let fastTable: FixedTable<UInt64>
    /// Per entry: the symbol's bits placed in the value.
    let entryValue: FixedTable<UInt32>
    /// Per entry with a count (FSE's trick): nb = (X + deltaBits) >> 16, and the next X is
    /// states[(X >> nb) + deltaState] (the states of each entry in ascending order, plus T).
    let deltaBits: FixedTable<Int32>
    let deltaState: FixedTable<Int32>
    let states: FixedTable<UInt16>
    /// Per symbol: whether it has a count (else it is escaped).
    let hasCount: FixedTable<Bool>
    /// Per entry with a count: deltaBits (bits 0-31) and deltaState (32-63), one load.
    let deltas: FixedTable<UInt64>
    /// For values of at most 16 bits: per value, the bits it adds after its state bits (raw
    /// bits, or ESC's literal and raw bits) in bits 19-63, its entry (a symbol or ESC) in 6-18
    /// and how many bits it adds in 0-5, so a value costs one load before its step.
    let valueSteps: FixedTable<UInt64>?
    /// For values of up to 16 bits, the C encode loop's word per value (`hwgen_tans_encode4`):
    /// the bits it adds after its state bits (6-21) and how many (0-5), as in `valueSteps`, and
    /// its entry's deltas in place of the entry: deltaState + 2^16
    /// (bits 24-41) and deltaBits (42-63, signed), so a value costs one load before its step.
    let encodeKernelTable: FixedTable<UInt64>?
    /// Every value adds at most 28 bits (its entry's most state bits and the bits after them),
    /// so the C encode loop stores whole bytes after every two values.
    let encodeKernelTwoPerFlush: Bool
    /// The four-frame decode loop's table in C (`hwgen_tans_decode4`); nil where a placed value
    /// needs 32 bits.
    let decodeKernel: TANSDecodeKernel?
    let escape: Int
    let endOfFrame: Int

    /// K (section 9); 1 is version 1's single stream.
    public let lanes: Int

    public init(layout: ValueLayout, tableLog: Int, counts: [Int], lanes: Int = 1) {
        self.layout = layout
        self.lanes = max(1, lanes)
        let t = TANSTables(tableLog: tableLog, counts: counts)
        tables = t
        escape = layout.symbolCount
        endOfFrame = layout.symbolCount + 1
        fastTable = FixedTable((0..<t.tableSize).map { u in
            let nb = Int(t.bitCount[u])
            let entry = Int(t.symbol[u])
            return UInt64(63 - nb) | UInt64(t.base[u]) << 8 | UInt64(nb + layout.rawBits) << 24
                | UInt64(entry) << 32 | (entry >= layout.symbolCount ? 1 << 48 : 0)
        })
        entryValue = FixedTable((0..<counts.count).map { e in e < layout.symbolCount ? layout.value(symbol: UInt32(e), raw: 0) : 0 })
        decodeKernel = TANSDecodeKernel(tables: t, layout: layout)
        var dBits = [Int32](repeating: 0, count: counts.count)
        var dState = [Int32](repeating: 0, count: counts.count)
        for (e, c) in counts.enumerated() where c > 0 {
            let rule = t.encodeStep(for: e)
            dBits[e] = Int32((rule.k << 16) - rule.threshold)
            dState[e] = Int32(rule.stateOffset)
        }
        deltaBits = FixedTable(dBits)
        deltaState = FixedTable(dState)
        states = FixedTable(t.statesByEntry.map { UInt16(t.tableSize) + $0 })
        hasCount = FixedTable(counts.map { $0 > 0 })
        deltas = FixedTable(zip(dBits, dState).map { UInt64(UInt32(bitPattern: $0)) | UInt64(UInt32(bitPattern: $1)) << 32 })
        if layout.valueBits <= 16 {
            let (symbolBits, rawBits, escape) = (layout.symbolBits, layout.rawBits, layout.symbolCount)
            valueSteps = FixedTable((0..<(1 << layout.valueBits)).map { v -> UInt64 in
                let s = Int(layout.symbol(of: UInt32(v))), raw = UInt64(layout.raw(of: UInt32(v)))
                return counts[s] > 0 ? raw << 19 | UInt64(s) << 6 | UInt64(rawBits)
                    : (UInt64(s) << UInt64(rawBits) | raw) << 19 | UInt64(escape) << 6 | UInt64(symbolBits + rawBits)
            })
        } else {
            valueSteps = nil
        }
        encodeKernelTwoPerFlush = valueSteps.map { steps in
            (0..<steps.count).allSatisfy { v in
                let word = steps[v], entry = Int((word >> 6) & 0x1FFF)
                return t.encodeStep(for: entry).k + Int(word & 0x3F) <= 28
            }
        } ?? false
        encodeKernelTable = valueSteps.map { steps in
            FixedTable((0..<steps.count).map { v -> UInt64 in
                let word = steps[v], entry = Int((word >> 6) & 0x1FFF)
                return word & 0x3F | (word >> 19) << 6 | UInt64(Int(dState[entry]) + 0x10000) << 24 | UInt64(bitPattern: Int64(dBits[entry]) << 42)
            })
        }
    }

    /// Appends frame `first`, then frame `second` if given, and returns the writer's bit count
    /// after the first. With one lane the two frames are coded together because their state
    /// chains are independent: interleaved, the processor overlaps them; with K lanes each frame
    /// already has K chains. The values must fit the layout's value bits (`StreamCodec` checks
    /// them).
    @discardableResult
    func encodeFrames(_ first: ArraySlice<UInt32>, _ second: ArraySlice<UInt32>?, into writer: BitWriter) -> Int {
        switch layout.transform {
        case .identity: encodeFrames(first, second, into: writer, IdentityKernel.self)
        case .split: encodeFrames(first, second, into: writer, SplitKernel.self)
        case .bf16Exponent: encodeFrames(first, second, into: writer, BF16Kernel.self)
        }
    }

    private func encodeFrames<K: TransformKernel>(_ first: ArraySlice<UInt32>, _ second: ArraySlice<UInt32>?, into writer: BitWriter, _: K.Type) -> Int {
        guard lanes > 1 else { return encodePair(first, second, into: writer, K.self) }
        encodeLanes(first, lanes: lanes, into: writer, K.self)
        let firstEnd = writer.bitCount
        if let second { encodeLanes(second, lanes: lanes, into: writer, K.self) }
        return firstEnd
    }

    /// Appends four frames, their values coded in C (`hwgen_tans_encode4`, the twin of
    /// `TANSReverseFrame`'s steps: two frames' state chains at a time, as the Swift pair loop,
    /// from one table word per value), and returns the writer's bit count after each; nil, with
    /// nothing written, unless the coder has one lane and a value table (values of up to 16
    /// bits) and the writer is at a word boundary. The values must fit the layout's value bits.
    func encodeFour(_ frames: [ArraySlice<UInt32>], into writer: BitWriter) -> [Int]? {
        guard frames.count == 4, lanes == 1, let valueSteps, let kernelTable = encodeKernelTable, writer.bitCount % 32 == 0 else { return nil }
        let table = valueSteps.pointer
        var coders = frames.map { TANSReverseFrame(coder: self, values: $0.count) }
        defer { coders.forEach { $0.release() } }
        for i in coders.indices { coders[i].addEnd(endOfFrame) }
        let rounds = frames.map(\.count).min() ?? 0
        var left = frames.map(\.count)
        if rounds > 0 {
            Self.withBases(frames) { bases in
                var kernel = (coders[0].kernelFrame(values: bases[0], count: left[0]), coders[1].kernelFrame(values: bases[1], count: left[1]),
                              coders[2].kernelFrame(values: bases[2], count: left[2]), coders[3].kernelFrame(values: bases[3], count: left[3]))
                withUnsafeMutableBytes(of: &kernel) { bytes in
                    // (A homogeneous tuple is laid out as an array.)
                    hwgen_tans_encode4(bytes.baseAddress?.assumingMemoryBound(to: hwgen_tans_encode_frame.self), kernelTable.pointer, states.pointer, encodeKernelTwoPerFlush ? 1 : 0, Int64(rounds))
                }
                for (i, frame) in [kernel.0, kernel.1, kernel.2, kernel.3].enumerated() {
                    coders[i].take(frame)
                    left[i] = Int(frame.count)
                }
            }
        }
        // The longer frames' first values, one frame at a time.
        for (i, frame) in frames.enumerated() {
            var index = frame.startIndex + left[i]
            while index > frame.startIndex {
                index &-= 1
                coders[i].add(step: table[Int(truncatingIfNeeded: frame[index])])
            }
        }
        return coders.indices.map { i in
            coders[i].finish(into: writer)
            return writer.bitCount
        }
    }

    /// Runs `body` with the first element's address of each of `slices` (none empty).
    private static func withBases(_ slices: [ArraySlice<UInt32>], _ body: ([UnsafePointer<UInt32>]) -> Void) {
        func nest(_ i: Int, _ bases: [UnsafePointer<UInt32>]) {
            guard i < slices.count else { return body(bases) }
            slices[i].withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { nest(i + 1, bases + [base]) }
            }
        }
        nest(0, [])
    }

    private func encodePair<K: TransformKernel>(_ first: ArraySlice<UInt32>, _ second: ArraySlice<UInt32>?, into writer: BitWriter, _: K.Type) -> Int {
        if let valueSteps, writer.bitCount % 32 == 0 {
            // Values of up to 16 bits: one backward pass per frame, both frames in turn.
            let table = valueSteps.pointer
            var a = TANSReverseFrame(coder: self, values: first.count)
            var b = TANSReverseFrame(coder: self, values: second?.count ?? 0)
            defer {
                a.release()
                b.release()
            }
            a.addEnd(endOfFrame)
            var ia = first.endIndex
            if let second {
                b.addEnd(endOfFrame)
                var ib = second.endIndex
                while ia > first.startIndex && ib > second.startIndex {
                    ia &-= 1
                    ib &-= 1
                    a.add(step: table[Int(truncatingIfNeeded: first[ia])])
                    b.add(step: table[Int(truncatingIfNeeded: second[ib])])
                }
                while ib > second.startIndex {
                    ib &-= 1
                    b.add(step: table[Int(truncatingIfNeeded: second[ib])])
                }
            }
            while ia > first.startIndex {
                ia &-= 1
                a.add(step: table[Int(truncatingIfNeeded: first[ia])])
            }
            a.finish(into: writer)
            let firstEnd = writer.bitCount
            if second != nil { b.finish(into: writer) }
            return firstEnd
        }
        var a = ChunkBuilder<K>(coder: self, capacity: first.count + 1)
        var b = ChunkBuilder<K>(coder: self, capacity: (second?.count ?? 0) + 1)
        defer {
            a.release()
            b.release()
        }
        a.addEnd()
        var ia = first.endIndex
        if let second {
            b.addEnd()
            var ib = second.endIndex
            while ia > first.startIndex && ib > second.startIndex {
                ia &-= 1
                ib &-= 1
                a.add(first[ia])
                b.add(second[ib])
            }
            while ib > second.startIndex {
                ib &-= 1
                b.add(second[ib])
            }
        }
        while ia > first.startIndex {
            ia &-= 1
            a.add(first[ia])
        }
        a.write(into: writer)
        let firstEnd = writer.bitCount
        if second != nil { b.write(into: writer) }
        return firstEnd
    }

    /// The chunks of one frame, built from the last entry to the first.
    struct ChunkBuilder<K: TransformKernel> {
        let size: Int
        let tableLog: Int
        let symbolBits: Int
        let rawBits: Int
        let escape: Int
        let endOfFrame: Int
        let hasCount: UnsafeMutablePointer<Bool>
        let deltaBits: UnsafeMutablePointer<Int32>
        let deltaState: UnsafeMutablePointer<Int32>
        let states: UnsafeMutablePointer<UInt16>
        /// Chunk i (last entry first): state bits, then literal and raw bits; at most 15 + 12 + 31 bits.
        let chunks: UnsafeMutablePointer<UInt64>
        let chunkBits: UnsafeMutablePointer<UInt8>
        var count = 0
        /// The encoder state, in [T, 2T).
        var x: Int

        init(coder: TANSCoder, capacity: Int) {
            size = coder.tables.tableSize
            tableLog = coder.tables.tableLog
            symbolBits = coder.layout.symbolBits
            rawBits = coder.layout.rawBits
            escape = coder.escape
            endOfFrame = coder.endOfFrame
            hasCount = coder.hasCount.pointer
            deltaBits = coder.deltaBits.pointer
            deltaState = coder.deltaState.pointer
            states = coder.states.pointer
            chunks = .allocate(capacity: capacity)
            chunkBits = .allocate(capacity: capacity)
            x = size
        }

        func release() {
            chunks.deallocate()
            chunkBits.deallocate()
        }

        /// Chunk `i` (0: the last entry's) and its bit count.
        @inline(__always)
        func chunk(_ i: Int) -> (UInt64, Int) { (chunks[i], Int(chunkBits[i])) }

        /// One coding step: the state bits to emit, how many, and the next state.
        @inline(__always)
        private mutating func step(_ entry: Int) -> (UInt64, Int) {
            let nb = (x &+ Int(deltaBits[entry])) &>> 16
            let bits = UInt64(x & ((1 &<< nb) &- 1))
            x = Int(states[(x &>> nb) &+ Int(deltaState[entry])])
            return (bits, nb)
        }

        mutating func addEnd() {
            let (bits, nb) = step(endOfFrame)
            chunks[count] = bits
            chunkBits[count] = UInt8(nb)
            count &+= 1
        }

        @inline(__always)
        mutating func add(_ value: UInt32) {
            let s = Int(K.symbol(value, rawBits: rawBits))
            let raw = UInt64(K.raw(value, rawBits: rawBits))
            if hasCount[s] {
                let (bits, nb) = step(s)
                chunks[count] = bits &<< UInt64(rawBits) | raw
                chunkBits[count] = UInt8(nb &+ rawBits)
            } else {
                let (bits, nb) = step(escape)
                chunks[count] = (bits &<< UInt64(symbolBits) | UInt64(s)) &<< UInt64(rawBits) | raw
                chunkBits[count] = UInt8(nb &+ symbolBits &+ rawBits)
            }
            count &+= 1
        }

        /// The frame: X - T in tableLog bits, the chunks in value order, padding.
        func write(into writer: BitWriter) {
            writer.write(UInt32(x - size), bits: tableLog)
            var i = count
            writer.withLocalWriter(maxBits: count * 58) { out in
                while i > 0 {
                    i &-= 1
                    let bits = Int(chunkBits[i])
                    if bits > 56 {
                        out.write64(chunks[i] &>> 32, bits: bits &- 32)
                        out.write64(chunks[i] & 0xFFFF_FFFF, bits: 32)
                    } else {
                        out.write64(chunks[i], bits: bits)
                    }
                }
            }
            writer.padToWord()
        }
    }

    /// Decodes one version-1 (one-lane) frame; see `FrameDecoding.decodeFrame`.
    func decodeSingle<K: TransformKernel>(_ reader: inout BitReader, into sink: inout ValueSink, limit valueLimit: Int, _: K.Type) throws(FrameDecodeError) {
        try decodeSingle(&reader, into: &sink, limit: valueLimit, from: nil, K.self)
    }

    /// Decodes the rest of a one-lane frame from the reader's position in `startState` (nil:
    /// at the frame's start, its first state still to read).
    func decodeSingle<K: TransformKernel>(_ reader: inout BitReader, into sink: inout ValueSink, limit valueLimit: Int, from startState: Int?,
                                          _: K.Type) throws(FrameDecodeError) {
        let frameStart = reader.position
        let tableLog = tables.tableLog
        var state: Int
        if let startState {
            state = startState
        } else {
            guard reader.remaining >= tableLog else { throw .truncated(bit: frameStart) }
            state = Int(reader.read(tableLog))
        }
        let symbolBits = layout.symbolBits
        let rawBits = layout.rawBits
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 << UInt64(rawBits)) - 1
        let window = tableLog + rawBits  // at most 46 bits: state bits and raw bits in one load
        let fast = fastTable.pointer
        let values = entryValue.pointer
        // No frame can run forever: an entry that reads no bits (nb = 0, no raw bits) leads from
        // state u to x - T < u (x = c + rank < T + u), so within u + 1 entries a bit is read.
        while true {
            // Fast path: directly coded symbols far from the end of the stream, in batches that
            // keep the state, bit position and output pointer in registers.
            let limit = reader.bitCount - 64
            while reader.position <= limit {
                sink.reserve(256)
                var out = sink.base + sink.count
                let first = out
                var position = reader.position
                var container = reader.container(at: position)
                var valid = 64 - (position & 7)
                var stopped = false
                for _ in 0..<256 {
                    if valid < window {
                        if position > limit { break }
                        container = reader.container(at: position)
                        valid = 64 - (position & 7)
                    }
                    // The loop-carried chain: table load, shift, add.
                    let slot = fast[state]
                    if slot >= 1 << 48 { stopped = true; break }
                    let used = Int((slot &>> 24) & 0xFF)
                    // The top nb bits of the container are the state bits.
                    let stateBits = Int(truncatingIfNeeded: (container &>> 1) &>> slot)
                    state = Int((slot &>> 8) & 0xFFFF) &+ stateBits
                    let raw = UInt32(truncatingIfNeeded: (container &>> UInt64(64 &- used)) & rawMask)
                    out.pointee = values[Int((slot &>> 32) & 0x1FFF)] | K.placeRaw(raw)
                    out += 1
                    container &<<= UInt64(used)
                    valid &-= used
                    position &+= used
                }
                reader.position = position
                sink.advance(by: out - first)
                if sink.count > valueLimit { throw .tooManyValues(bit: position, limit: valueLimit) }
                if stopped { break }
            }
            // General path: escapes, EOF, the end of the stream.
            let start = reader.position
            let slot = fast[state]
            let entry = Int((slot &>> 32) & 0x1FFF)
            let nb = 63 - Int(slot & 0x3F)
            guard reader.remaining >= nb else { throw .truncated(bit: start) }
            state = Int((slot &>> 8) & 0xFFFF) + Int(reader.read(nb))
            if entry == endOfFrame {
                guard state == 0 else { throw .badFinalState(bit: start, state: state) }
                break
            }
            var high = entryValue[entry]
            if entry == escape {
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
