/// Version 2 lanes (FORMAT.md section 9): entry j of a frame (value j, then EOF as entry N)
/// belongs to lane j mod K; each lane is coded on its own and padded to whole 32-bit words, and
/// the lanes' words are interleaved in one stream: just before entry j, every word of its lane
/// that holds a bit of entry j and has not been sent yet enters the stream. A decoder therefore
/// takes the stream's next word into a lane exactly when that lane needs a bit it lacks.

/// The words of K lanes in section 9's order, built as the entries are written in frame order.
///
/// Appending an entry's bits to a lane first reserves, at the end of the frame's word list, a
/// place for every word of the lane the entry reaches into and that has none yet; the bits then
/// land in their word's place. A lane has at most three words open at once (an entry is at
/// most 64 bits), kept in a ring of four places per lane.
struct LaneWordWriter {
    let lanes: Int
    /// The frame's words in stream order.
    private(set) var words: [UInt32] = []
    /// Per lane: bits written.
    private var bitCount: [Int]
    /// Per lane: words that have a place in `words`.
    private var reserved: [Int]
    /// Per lane, 4 places: where word w of lane L sits in `words` is `places[4 L + w % 4]`.
    private var places: [Int]

    init(lanes: Int, capacity: Int = 0) {
        self.lanes = lanes
        bitCount = [Int](repeating: 0, count: lanes)
        reserved = [Int](repeating: 0, count: lanes)
        places = [Int](repeating: 0, count: 4 * lanes)
        words.reserveCapacity(capacity)
    }

    /// Appends the low `count` bits of `value` (count 0 to 64) to `lane`: one entry, or a part of
    /// one (the parts of an entry are appended before any other entry).
    @inline(__always)
    mutating func append(lane: Int, _ value: UInt64, bits count: Int) {
        let start = bitCount[lane]
        let end = start &+ count
        while reserved[lane] &* 32 < end {
            places[4 &* lane &+ (reserved[lane] & 3)] = words.count
            words.append(0)
            reserved[lane] &+= 1
        }
        var position = start
        var left = count
        while left > 0 {
            let offset = position & 31
            let take = min(left, 32 &- offset)
            let piece = UInt32(truncatingIfNeeded: (value &>> UInt64(left &- take)) & ((1 &<< UInt64(take)) &- 1))
            words[places[4 &* lane &+ ((position &>> 5) & 3)]] |= piece &<< UInt32(32 &- offset &- take)
            position &+= take
            left &-= take
        }
        bitCount[lane] = end
    }

    /// Writes the frame's words (every lane's last word is padded with zeros already).
    func write(into writer: BitWriter) {
        writer.withLocalWriter(maxBits: words.count * 32) { out in
            for word in words { out.write(word, bits: 32) }
        }
    }
}

/// The lanes of a decoder over one stream: per lane a 64-bit container (the lane's next bits,
/// left-aligned, zeros below) and how many bits it holds; a lane takes the stream's next word
/// only when it needs a bit it lacks.
struct LaneContainers {
    let lanes: Int
    let containers: UnsafeMutablePointer<UInt64>
    let available: UnsafeMutablePointer<Int>
    /// Per lane, the stream words of its last two words taken (to name stream positions).
    let lastWord: UnsafeMutablePointer<Int>
    let previousWord: UnsafeMutablePointer<Int>

    init(lanes: Int) {
        self.lanes = lanes
        containers = .allocate(capacity: lanes)
        available = .allocate(capacity: lanes)
        lastWord = .allocate(capacity: lanes)
        previousWord = .allocate(capacity: lanes)
        clear()
    }

    func release() {
        containers.deallocate()
        available.deallocate()
        lastWord.deallocate()
        previousWord.deallocate()
    }

    /// Every lane empty (a frame starts; the bits left in a lane's word are its padding).
    func clear() {
        containers.initialize(repeating: 0, count: lanes)
        available.initialize(repeating: 0, count: lanes)
        lastWord.initialize(repeating: 0, count: lanes)
        previousWord.initialize(repeating: 0, count: lanes)
    }

    /// Moves the stream's next word into `lane` (which holds at most 32 bits).
    @inline(__always)
    func take(_ lane: Int, _ reader: inout BitReader) throws(FrameDecodeError) {
        guard reader.remaining >= 32 else { throw .truncated(bit: position(lane, reader)) }
        let word = UInt64(reader.read(32))
        containers[lane] |= word &<< UInt64(32 &- available[lane])
        available[lane] &+= 32
        previousWord[lane] = lastWord[lane]
        lastWord[lane] = reader.position / 32 - 1
    }

    /// Reads `count` bits (0 to 32) of `lane`, taking a word when it lacks them.
    @inline(__always)
    func read(_ lane: Int, _ count: Int, _ reader: inout BitReader) throws(FrameDecodeError) -> UInt32 {
        guard count > 0 else { return 0 }
        if available[lane] < count { try take(lane, &reader) }
        let value = UInt32(truncatingIfNeeded: containers[lane] &>> UInt64(64 &- count))
        consume(lane, count)
        return value
    }

    @inline(__always)
    func consume(_ lane: Int, _ count: Int) {
        containers[lane] = count >= 64 ? 0 : containers[lane] &<< UInt64(count)
        available[lane] &-= count
    }

    /// The stream bit of the lane's next unread bit (the start of its next entry), or where its
    /// next word would be when it holds no bits.
    func position(_ lane: Int, _ reader: BitReader) -> Int {
        let held = available[lane]
        if held == 0 { return reader.position }
        if held <= 32 { return 32 * lastWord[lane] + 32 - held }
        return 32 * previousWord[lane] + 64 - held
    }
}

extension HuffmanCoder {
    /// Appends one K-lane frame (section 9): each lane's entries coded as in version 1, the
    /// lanes' words interleaved in the order a decoder needs them.
    func encodeLanes<K: TransformKernel>(_ values: ArraySlice<UInt32>, lanes: Int, into writer: BitWriter, _: K.Type) {
        let rawBits = layout.rawBits
        let field = symbolField.pointer
        let fieldBits = symbolFieldBits.pointer
        var out = LaneWordWriter(lanes: lanes, capacity: values.count / 2 + 2 * lanes)
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
    /// values; leaves the reader after the frame's last word.
    func decodeLanes<K: TransformKernel>(_ reader: inout BitReader, lanes: Int, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError) {
        let state = LaneContainers(lanes: lanes)
        defer { state.release() }
        let bits = code.maxLength
        let codeShift = UInt64(64 - bits)
        let table = decodeTable.pointer
        let symbolBits = layout.symbolBits, rawBits = layout.rawBits
        var lane = 0
        var entry = 0
        while true {
            let start = state.position(lane, reader)
            do throws(FrameDecodeError) {
                // The code: the lane's bits, zero-filled, name it once the code fits in what the
                // lane holds; else the entry needs a bit the lane lacks.
                var slot = table[Int(state.containers[lane] &>> codeShift)]
                var length = Int((slot &>> 6) & 0x1F)
                while length == 0 || length > state.available[lane] {
                    if length == 0 && state.available[lane] >= bits { throw FrameDecodeError.invalidCode(bit: start) }
                    try state.take(lane, &reader)
                    slot = table[Int(state.containers[lane] &>> codeShift)]
                    length = Int((slot &>> 6) & 0x1F)
                }
                state.consume(lane, length)
                if slot & Self.endFlag != 0 { break }
                var high = K.placeSymbol(slot &>> 16, rawBits: rawBits)
                if slot & Self.escapeFlag != 0 {
                    high = layout.value(symbol: try state.read(lane, symbolBits, &reader), raw: 0)
                }
                let raw = try state.read(lane, rawBits, &reader)
                guard sink.count < limit else { throw FrameDecodeError.tooManyValues(bit: start, limit: limit) }
                sink.append(high | K.placeRaw(raw))
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
        var out = LaneWordWriter(lanes: lanes, capacity: values.count / 2 + 2 * lanes)
        let size = tables.tableSize
        for e in 0..<entries {
            let l = e % lanes
            if e < lanes { out.append(lane: l, UInt64(builders[l].x - size), bits: tables.tableLog) }
            let (chunk, count) = builders[l].chunk(builders[l].count - 1 - e / lanes)
            if count > 56 {
                out.append(lane: l, chunk &>> 32, bits: count - 32)
                out.append(lane: l, chunk & 0xFFFF_FFFF, bits: 32)
            } else {
                out.append(lane: l, chunk, bits: count)
            }
        }
        out.write(into: writer)
    }

    /// Decodes one K-lane frame from the reader's position (a word boundary); appends its
    /// values; checks that every lane that had an entry ends in state 0; leaves the reader after
    /// the frame's last word.
    func decodeLanes<K: TransformKernel>(_ reader: inout BitReader, lanes: Int, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError) {
        let containers = LaneContainers(lanes: lanes)
        defer { containers.release() }
        var states = [Int](repeating: 0, count: lanes)
        let tableLog = tables.tableLog
        let symbolBits = layout.symbolBits, rawBits = layout.rawBits
        let fast = fastTable.pointer
        var lane = 0
        var entry = 0
        while true {
            let start = containers.position(lane, reader)
            do throws(FrameDecodeError) {
                if entry < lanes { states[lane] = Int(try containers.read(lane, tableLog, &reader)) }
                let slot = fast[states[lane]]
                let decoded = Int((slot &>> 32) & 0x1FFF)
                let nb = 63 - Int(slot & 0x3F)
                states[lane] = Int((slot &>> 8) & 0xFFFF) + Int(try containers.read(lane, nb, &reader))
                if decoded == endOfFrame { break }
                var high = entryValue[decoded]
                if decoded == escape {
                    high = layout.value(symbol: try containers.read(lane, symbolBits, &reader), raw: 0)
                }
                let raw = try containers.read(lane, rawBits, &reader)
                guard sink.count < limit else { throw FrameDecodeError.tooManyValues(bit: start, limit: limit) }
                sink.append(high | K.placeRaw(raw))
            } catch {
                throw .inLane(lane: lane, entry: entry, error)
            }
            entry &+= 1
            lane &+= 1
            if lane == lanes { lane = 0 }
        }
        // Every lane that had an entry (lanes 0 ..< min(K, N + 1)) must be back in state 0.
        for l in 0..<min(lanes, entry + 1) where states[l] != 0 {
            throw .inLane(lane: l, entry: entry, .badFinalState(bit: containers.position(lane, reader), state: states[l]))
        }
    }
}
