/// Version 2 lanes (FORMAT.md section 9): entry j of a frame (value j, then EOF as entry N)
/// belongs to lane j mod K; each lane is coded on its own and padded to whole 32-bit words, and
/// the lanes' words are interleaved in one stream: just before entry j, every word of its lane
/// that holds a bit of entry j and has not been sent yet enters the stream. A decoder therefore
/// takes the stream's next word into a lane exactly when that lane needs a bit it lacks.

/// The words of K lanes in section 9's order, built as the entries are written in frame order.
///
/// Each lane fills one word at a time in a 64-bit accumulator. A word gets its place at the end
/// of the frame's word list when the first entry that reaches into it is written, and its bits
/// when it is full (or at the end of the frame, padded with zeros), so the list is the stream.
struct LaneWordWriter {
    let lanes: Int
    /// The frame's words in stream order (room for `capacity`, and a scratch word after them).
    private let words: UnsafeMutablePointer<UInt32>
    private let capacity: Int
    private(set) var count = 0
    /// Per lane: pending bits (right-aligned), how many (0 to 31), the place of the word they go to.
    private let pending: UnsafeMutablePointer<UInt64>
    private let pendingBits: UnsafeMutablePointer<Int>
    private let place: UnsafeMutablePointer<Int>

    /// Room for a frame of at most `maxBits` bits of entries.
    init(lanes: Int, maxBits: Int) {
        self.lanes = lanes
        capacity = maxBits / 32 + 2 * lanes + 2
        words = .allocate(capacity: capacity + 1)  // + the scratch place
        pending = .allocate(capacity: lanes)
        pending.initialize(repeating: 0, count: lanes)
        pendingBits = .allocate(capacity: lanes)
        pendingBits.initialize(repeating: 0, count: lanes)
        place = .allocate(capacity: lanes)
        place.initialize(repeating: 0, count: lanes)
    }

    func release() {
        words.deallocate()
        pending.deallocate()
        pendingBits.deallocate()
        place.deallocate()
    }

    /// Appends the low `count` bits of `value` (count 0 to 64) to `lane`: one entry, or a part of
    /// one (the parts of an entry are appended before any other entry).
    @inline(__always)
    mutating func append(lane: Int, _ value: UInt64, bits count: Int) {
        if count > 32 {
            append32(lane: lane, value &>> 32, bits: count &- 32)
            append32(lane: lane, value & 0xFFFF_FFFF, bits: 32)
        } else {
            append32(lane: lane, value, bits: count)
        }
    }

    /// Appends 0 to 32 bits, without a branch on the data: a word that is not full is stored to
    /// a scratch place past the end, and places are taken by selects.
    @inline(__always)
    private mutating func append32(lane: Int, _ value: UInt64, bits n: Int) {
        let held = pendingBits[lane]
        // A lane at a word boundary gets its next word's place from this entry.
        let starts = held == 0 && n > 0
        var at = starts ? count : place[lane]
        count &+= starts ? 1 : 0
        let acc = pending[lane] &<< UInt64(n) | value
        let total = held &+ n
        let full = total >= 32
        let rest = full ? total &- 32 : total
        words[full ? at : capacity] = UInt32(truncatingIfNeeded: acc &>> UInt64(rest))
        // The entry reached into the next word: it gets a place now.
        let more = full && rest > 0
        at = more ? count : at
        count &+= more ? 1 : 0
        place[lane] = at
        pending[lane] = acc & ((1 &<< UInt64(rest)) &- 1)
        pendingBits[lane] = rest
    }

    /// Pads every lane's last word with zeros and writes the frame's words.
    func write(into writer: BitWriter) {
        for lane in 0..<lanes where pendingBits[lane] > 0 {
            words[place[lane]] = UInt32(truncatingIfNeeded: pending[lane] &<< UInt64(32 &- pendingBits[lane]))
        }
        let words = self.words, count = self.count
        writer.withLocalWriter(maxBits: count * 32) { out in
            for i in 0..<count { out.write(words[i], bits: 32) }
        }
    }
}

/// One lane of a decoder: its next bits, left-aligned in a 64-bit container with zeros below,
/// how many it holds, its tANS state, and (in the exact path only) the stream words of the
/// last two words it took, to name positions.
struct LaneState {
    var container: UInt64 = 0
    var available = 0
    var state = 0
    var lastWord = 0
    var previousWord = 0
}

/// The lanes of a decoder over one stream; a lane takes the stream's next word only when it
/// needs a bit it lacks.
struct LaneContainers {
    let lanes: Int
    let state: UnsafeMutablePointer<LaneState>

    init(lanes: Int) {
        self.lanes = lanes
        state = .allocate(capacity: lanes)
        state.initialize(repeating: LaneState(), count: lanes)
    }

    func release() { state.deallocate() }

    /// Moves the stream's next word into `lane` (which holds at most 32 bits).
    @inline(__always)
    func take(_ lane: Int, _ reader: inout BitReader) throws(FrameDecodeError) {
        guard reader.remaining >= 32 else { throw .truncated(bit: position(lane, reader)) }
        let word = UInt64(reader.read(32))
        state[lane].container |= word &<< UInt64(32 &- state[lane].available)
        state[lane].available &+= 32
        state[lane].previousWord = state[lane].lastWord
        state[lane].lastWord = reader.position / 32 - 1
    }

    /// Reads `count` bits (0 to 32) of `lane`, taking a word when it lacks them.
    @inline(__always)
    func read(_ lane: Int, _ count: Int, _ reader: inout BitReader) throws(FrameDecodeError) -> UInt32 {
        guard count > 0 else { return 0 }
        if state[lane].available < count { try take(lane, &reader) }
        let value = UInt32(truncatingIfNeeded: state[lane].container &>> UInt64(64 &- count))
        consume(lane, count)
        return value
    }

    @inline(__always)
    func consume(_ lane: Int, _ count: Int) {
        state[lane].container = count >= 64 ? 0 : state[lane].container &<< UInt64(count)
        state[lane].available &-= count
    }

    /// The stream bit of the lane's next unread bit (the start of its next entry), or where its
    /// next word would be when it holds no bits.
    func position(_ lane: Int, _ reader: BitReader) -> Int {
        let held = state[lane].available
        if held == 0 { return reader.position }
        if held <= 32 { return 32 * state[lane].lastWord + 32 - held }
        return 32 * state[lane].previousWord + 64 - held
    }

    /// The fast loop for K without a register group: batches of 64 entries, lane after lane,
    /// each lane's state loaded from memory for its entry and stored back, while the stream
    /// holds a word for each entry (an entry of the fast loop takes at most one); stops at the
    /// first entry `step` refuses, leaving `lane` there for the exact path.
    func fastBatches<S: FastLaneStep>(_ step: S, _ reader: inout BitReader, into sink: inout ValueSink, lane: inout Int, entry: inout Int,
                                      limit: Int) throws(FrameDecodeError) {
        var word = reader.position / 32
        defer { reader.position = word * 32 }
        while word <= reader.bitCount / 32 - 64 {
            sink.reserve(64)
            var out = sink.base + sink.count
            let first = out
            var stopped = false
            for _ in 0..<64 {
                let p = state + lane
                var register = LaneRegister(container: p.pointee.container, available: p.pointee.available, state: p.pointee.state)
                guard step.step(&register, &word, out) else {
                    stopped = true
                    break
                }
                (p.pointee.container, p.pointee.available, p.pointee.state) = (register.container, register.available, register.state)
                out += 1
                lane &+= 1
                if lane == lanes { lane = 0 }
            }
            entry &+= out - first
            sink.advance(by: out - first)
            if sink.count > limit { throw .inLane(lane: lane, entry: entry, .tooManyValues(bit: word * 32, limit: limit)) }
            if stopped { return }
        }
    }

    /// The rest of an entry on the exact path, once its code (or state) is read: the literal
    /// after ESC (replacing `placed`, the symbol's bits), the raw bits; appends the value.
    @inline(__always)
    func appendValue<K: TransformKernel>(_ lane: Int, _ placed: UInt32, escaped: Bool, _ layout: ValueLayout, _ reader: inout BitReader,
                                         into sink: inout ValueSink, limit: Int, start: Int, _: K.Type) throws(FrameDecodeError) {
        var high = placed
        if escaped { high = layout.value(symbol: try read(lane, layout.symbolBits, &reader), raw: 0) }
        let raw = try read(lane, layout.rawBits, &reader)
        guard sink.count < limit else { throw .tooManyValues(bit: start, limit: limit) }
        sink.append(high | K.placeRaw(raw))
    }
}

extension HuffmanCoder {
    /// Appends one K-lane frame (section 9): each lane's entries coded as in version 1, the
    /// lanes' words interleaved in the order a decoder needs them.
    func encodeLanes<K: TransformKernel>(_ values: ArraySlice<UInt32>, lanes: Int, into writer: BitWriter, _: K.Type) {
        let rawBits = layout.rawBits
        let field = symbolField.pointer
        let fieldBits = symbolFieldBits.pointer
        var out = LaneWordWriter(lanes: lanes, maxBits: (values.count + 1) * (28 + rawBits))
        defer { out.release() }
        var lane = 0
        for v in values {
            let s = Int(K.symbol(v, rawBits: rawBits))
            let raw = UInt64(K.raw(v, rawBits: rawBits))
            out.append(lane: lane, UInt64(field[s]) &<< UInt64(rawBits) | raw, bits: Int(fieldBits[s]) &+ rawBits)
            lane &+= 1
            if lane == lanes { lane = 0 }
        }
        out.append(lane: lane, UInt64(code.codes[endOfFrame]), bits: code.lengths[endOfFrame])
        out.write(into: writer)
    }

    /// Decodes one K-lane frame from the reader's position (a word boundary); appends its
    /// values; leaves the reader after the frame's last word. `fast`: use the fast loop.
    func decodeLanes<K: TransformKernel>(_ reader: inout BitReader, lanes: Int, into sink: inout ValueSink, limit: Int, fast: Bool, _: K.Type) throws(FrameDecodeError) {
        let state = LaneContainers(lanes: lanes)
        defer { state.release() }
        let bits = code.maxLength
        let codeShift = UInt64(64 - bits)
        let table = decodeTable.pointer
        let rawBits = layout.rawBits
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 << UInt64(rawBits)) - 1
        let stopMask = Self.escapeFlag | Self.endFlag | Self.invalidFlag
        // The fast loop takes at most one word per entry: every symbol's code and raw bits fit
        // in 32.
        let fastOK = fast && bits + rawBits <= 32
        var lane = 0
        var entry = 0
        while true {
            // Fast loop: directly coded symbols, 64 entries at a time while the stream has a word
            // for each. Per entry: the slot of the lane's bits (zero-filled) says how many bits
            // the lane must hold (a symbol's code and raw bits; for ESC, EOF or no code, what
            // makes the slot sure); a lane holding fewer takes the stream's next word (a select,
            // no branch); the slot of the filled container is the entry.
            if fastOK {
                let step = HuffmanLaneStep<K>(table: table, words: reader.base, codeShift: codeShift, rawBits: rawBits,
                                              rawMask: rawMask, stopMask: stopMask)
                try state.fastLoop(step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
            }
            // One entry, exactly as the spec reads it: escapes, EOF, invalid codes, the stream's end.
            let start = state.position(lane, reader)
            do throws(FrameDecodeError) {
                // The code: the lane's bits, zero-filled, name it once the code fits in what the
                // lane holds; else the entry needs a bit the lane lacks.
                var slot = table[Int(state.state[lane].container &>> codeShift)]
                var length = Int((slot &>> 6) & 0x1F)
                while length == 0 || length > state.state[lane].available {
                    if length == 0 && state.state[lane].available >= bits { throw FrameDecodeError.invalidCode(bit: start) }
                    try state.take(lane, &reader)
                    slot = table[Int(state.state[lane].container &>> codeShift)]
                    length = Int((slot &>> 6) & 0x1F)
                }
                state.consume(lane, length)
                if slot & Self.endFlag != 0 { break }
                try state.appendValue(lane, K.placeSymbol(slot &>> 16, rawBits: rawBits), escaped: slot & Self.escapeFlag != 0,
                                      layout, &reader, into: &sink, limit: limit, start: start, K.self)
            } catch {
                throw .inLane(lane: lane, entry: entry, error)
            }
            entry &+= 1
            lane &+= 1
            if lane == lanes { lane = 0 }
        }
    }
}

extension TANSCoder {
    /// Appends one K-lane frame (section 9): lane L a tANS frame of its own entries (encoded
    /// backwards from X = T, its R-bit initial state counted with its first entry), the lanes'
    /// words interleaved in the order a decoder needs them.
    func encodeLanes<K: TransformKernel>(_ values: ArraySlice<UInt32>, lanes: Int, into writer: BitWriter, _: K.Type) {
        let entries = values.count + 1
        let used = min(lanes, entries)
        var builders = (0..<used).map { lane in ChunkBuilder<K>(coder: self, capacity: (entries - lane + lanes - 1) / lanes) }
        defer { for b in builders { b.release() } }
        // Backwards over the frame: EOF (entry N) first, in its lane.
        builders[values.count % lanes].addEnd()
        var lane = values.count % lanes
        var j = values.endIndex
        while j > values.startIndex {
            j &-= 1
            lane = lane == 0 ? lanes - 1 : lane - 1
            builders[lane].add(values[j])
        }
        // Forwards: each entry's chunk into its lane, the lane's state first.
        var out = LaneWordWriter(lanes: lanes, maxBits: entries * 58 + lanes * tables.tableLog)
        defer { out.release() }
        let size = tables.tableSize
        for e in 0..<entries {
            let l = e % lanes
            if e < lanes { out.append(lane: l, UInt64(builders[l].x - size), bits: tables.tableLog) }
            let (chunk, count) = builders[l].chunk(builders[l].count - 1 - e / lanes)
            out.append(lane: l, chunk, bits: count)
        }
        out.write(into: writer)
    }

    /// Decodes one K-lane frame from the reader's position (a word boundary); appends its
    /// values; checks that every lane that had an entry ends in state 0; leaves the reader after
    /// the frame's last word. `fast`: use the fast loop.
    func decodeLanes<K: TransformKernel>(_ reader: inout BitReader, lanes: Int, into sink: inout ValueSink, limit: Int, fast: Bool, _: K.Type) throws(FrameDecodeError) {
        let containers = LaneContainers(lanes: lanes)
        defer { containers.release() }
        let tableLog = tables.tableLog
        let rawBits = layout.rawBits
        let slotTable = fastTable.pointer
        let values = entryValue.pointer
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 << UInt64(rawBits)) - 1
        // The fast loop takes at most one word per entry: state bits and raw bits fit in 32.
        let fastOK = fast && tableLog + rawBits <= 32
        let lanesState = containers.state
        var lane = 0
        var entry = 0
        while true {
            // Fast loop: after each lane's first entry (its initial state), directly coded
            // symbols 64 at a time while the stream has a word for each. The state's slot says
            // how many bits the entry reads; a lane holding fewer takes the next word (a
            // select, no branch).
            if fastOK && entry >= lanes {
                let step = TANSLaneStep<K>(slots: slotTable, values: values, words: reader.base, rawMask: rawMask)
                try containers.fastLoop(step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
            }
            let start = containers.position(lane, reader)
            do throws(FrameDecodeError) {
                if entry < lanes { lanesState[lane].state = Int(try containers.read(lane, tableLog, &reader)) }
                let slot = slotTable[lanesState[lane].state]
                let decoded = Int((slot &>> 32) & 0x1FFF)
                let nb = 63 - Int(slot & 0x3F)
                lanesState[lane].state = Int((slot &>> 8) & 0xFFFF) + Int(try containers.read(lane, nb, &reader))
                if decoded == endOfFrame { break }
                try containers.appendValue(lane, entryValue[decoded], escaped: decoded == escape,
                                           layout, &reader, into: &sink, limit: limit, start: start, K.self)
            } catch {
                throw .inLane(lane: lane, entry: entry, error)
            }
            entry &+= 1
            lane &+= 1
            if lane == lanes { lane = 0 }
        }
        // Every lane that had an entry (lanes 0 ..< min(K, N + 1)) must be back in state 0.
        for l in 0..<min(lanes, entry + 1) where lanesState[l].state != 0 {
            throw .inLane(lane: l, entry: entry, .badFinalState(bit: containers.position(l, reader), state: lanesState[l].state))
        }
    }
}

/// A coder that decodes frames of one lane (version 1) and of K lanes, specialised per transform.
protocol FrameDecoding {
    var layout: ValueLayout { get }
    var lanes: Int { get }
    func decodeSingle<K: TransformKernel>(_ reader: inout BitReader, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError)
    func decodeLanes<K: TransformKernel>(_ reader: inout BitReader, lanes: Int, into sink: inout ValueSink, limit: Int, fast: Bool, _: K.Type) throws(FrameDecodeError)
}

extension FrameDecoding {
    /// Decodes one frame from the reader's position; appends its values; leaves the reader
    /// after the frame (its padding, or its lanes' last words). A frame that would take the sink
    /// past `limit` values is an error (`tooManyValues`) before it can.
    func decodeFrame(_ reader: inout BitReader, into sink: inout ValueSink, limit: Int) throws(FrameDecodeError) {
        switch layout.transform {
        case .identity: try decodeFrame(&reader, into: &sink, limit: limit, IdentityKernel.self)
        case .split: try decodeFrame(&reader, into: &sink, limit: limit, SplitKernel.self)
        case .bf16Exponent: try decodeFrame(&reader, into: &sink, limit: limit, BF16Kernel.self)
        }
    }

    private func decodeFrame<K: TransformKernel>(_ reader: inout BitReader, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError) {
        guard lanes > 1 else { return try decodeSingle(&reader, into: &sink, limit: limit, K.self) }
        // The fast lane loops keep no word positions; a frame that fails is decoded again on
        // the exact path alone, which names the stream bit where the failing entry starts.
        let start = reader.position, count = sink.count
        do throws(FrameDecodeError) {
            try decodeLanes(&reader, lanes: lanes, into: &sink, limit: limit, fast: true, K.self)
        } catch {
            reader.position = start
            sink.truncate(to: count)
            try decodeLanes(&reader, lanes: lanes, into: &sink, limit: limit, fast: false, K.self)
            throw error
        }
    }
}
