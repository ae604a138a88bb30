/// The fast K-lane decode loops for K = 2, 4, 8 and 16, with every lane's container, bit count
/// and tANS state in local variables (registers, where the processor has enough) instead of
/// memory, so the K lanes' table loads overlap the way huff0's four streams do.
///
/// A group of lanes is a type: `OneLane`, and `LanePair` of two groups; K = 4 is
/// `LanePair<LanePair<OneLane, OneLane>, LanePair<OneLane, OneLane>>`. Specialised and inlined,
/// a round over the group is straight-line code over K sets of locals.

/// One lane in registers: its next bits left-aligned with zeros below, how many, its state.
struct LaneRegister {
    var container: UInt64
    var available: Int
    var state: Int
}

/// What one entry of a fast loop does: decode the lane's next entry from its registers and the
/// stream word at `word` (taken, and `word` advanced, exactly when the lane needs a bit it
/// lacks), write the value to `out` and return true; or return false, with nothing changed,
/// so that the exact path takes the entry (ESC, EOF, no code).
protocol FastLaneStep {
    func step(_ lane: inout LaneRegister, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Bool
}

/// K lanes held in locals.
protocol LaneGroup {
    static var count: Int { get }
    init(_ lanes: UnsafeMutablePointer<LaneState>)
    func store(_ lanes: UnsafeMutablePointer<LaneState>)
    /// Each lane's next entry, in lane order, to `out[0..<count]`; returns how many lanes
    /// decoded theirs (`count` unless one stopped).
    mutating func round<S: FastLaneStep>(_ step: S, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Int
}

struct OneLane: LaneGroup {
    var lane: LaneRegister
    static var count: Int { 1 }

    @inline(__always)
    init(_ lanes: UnsafeMutablePointer<LaneState>) {
        lane = LaneRegister(container: lanes[0].container, available: lanes[0].available, state: lanes[0].state)
    }

    @inline(__always)
    func store(_ lanes: UnsafeMutablePointer<LaneState>) {
        lanes[0].container = lane.container
        lanes[0].available = lane.available
        lanes[0].state = lane.state
    }

    @inline(__always)
    mutating func round<S: FastLaneStep>(_ step: S, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Int {
        step.step(&lane, &word, out) ? 1 : 0
    }
}

struct LanePair<First: LaneGroup, Second: LaneGroup>: LaneGroup {
    var first: First
    var second: Second
    static var count: Int { First.count + Second.count }

    @inline(__always)
    init(_ lanes: UnsafeMutablePointer<LaneState>) {
        first = First(lanes)
        second = Second(lanes + First.count)
    }

    @inline(__always)
    func store(_ lanes: UnsafeMutablePointer<LaneState>) {
        first.store(lanes)
        second.store(lanes + First.count)
    }

    @inline(__always)
    mutating func round<S: FastLaneStep>(_ step: S, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Int {
        let done = first.round(step, &word, out)
        guard done == First.count else { return done }
        return done &+ second.round(step, &word, out + First.count)
    }
}

typealias TwoLanes = LanePair<OneLane, OneLane>
typealias FourLanes = LanePair<TwoLanes, TwoLanes>
typealias EightLanes = LanePair<FourLanes, FourLanes>
typealias SixteenLanes = LanePair<EightLanes, EightLanes>

extension LaneContainers {
    /// The fast loop of a K-lane decoder: register rounds from lane 0 where K has a register
    /// group (after an entry of the exact path, the exact path goes on to lane 0), else batches
    /// with the lanes' state in memory. Both stop at the first entry `step` refuses.
    func fastLoop<S: FastLaneStep>(_ step: S, _ reader: inout BitReader, into sink: inout ValueSink, lane: inout Int, entry: inout Int, limit: Int) throws(FrameDecodeError) {
        switch lanes {
        case 2, 4, 8, 16: if lane == 0 { try fastRounds(step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit) }
        default: try fastBatches(step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
        }
    }

    /// Rounds of all K lanes from lane 0 in registers while the stream holds a word for each
    /// entry of the next batch (an entry of a fast loop takes at most one); stops at the first
    /// entry `step` refuses, leaving `lane` there for the exact path.
    private func fastRounds<S: FastLaneStep>(_ step: S, _ reader: inout BitReader, into sink: inout ValueSink, lane: inout Int, entry: inout Int, limit: Int) throws(FrameDecodeError) {
        switch lanes {
        case 2: try fastRounds(TwoLanes.self, step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
        case 4: try fastRounds(FourLanes.self, step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
        case 8: try fastRounds(EightLanes.self, step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
        default: try fastRounds(SixteenLanes.self, step, &reader, into: &sink, lane: &lane, entry: &entry, limit: limit)
        }
    }

    @inline(__always)
    private func fastRounds<G: LaneGroup, S: FastLaneStep>(_: G.Type, _ step: S, _ reader: inout BitReader, into sink: inout ValueSink,
                                                            lane: inout Int, entry: inout Int, limit: Int) throws(FrameDecodeError) {
        precondition(lane == 0 && reader.position % 32 == 0, "a register round starts at lane 0 on a word boundary")
        let rounds = max(1, 64 / G.count)
        let batch = rounds * G.count
        var group = G(state)
        defer { group.store(state) }
        // Stream positions in words while in the loop.
        var word = reader.position / 32
        let lastStart = reader.bitCount / 32 - batch
        while word <= lastStart {
            sink.reserve(batch)
            let first = sink.base + sink.count
            var out = first
            var stopped = false
            for _ in 0..<rounds {
                let done = group.round(step, &word, out)
                out += done
                if done != G.count {
                    lane = done
                    stopped = true
                    break
                }
            }
            entry &+= out - first
            sink.advance(by: out - first)
            if sink.count > limit {
                reader.position = word * 32
                throw .inLane(lane: lane, entry: entry, .tooManyValues(bit: reader.position, limit: limit))
            }
            if stopped { break }
        }
        reader.position = word * 32
    }
}

/// The Huffman fast entry: the lane's held bits (zero-filled) name the bits the entry needs
/// (the probe: a code and its raw bits, or for ESC, EOF and no code what makes the slot sure),
/// so whether the lane takes a word depends on the lane alone; the entry itself is read from
/// the held bits followed by the next stream word, which names the same slot when the lane
/// held enough and the right one when it did not, so the two table loads overlap.
struct HuffmanLaneStep<K: TransformKernel>: FastLaneStep {
    let table: UnsafeMutablePointer<UInt32>
    let words: UnsafeRawPointer
    let codeShift: UInt64
    let rawBits: Int
    let rawMask: UInt64
    let stopMask: UInt32

    @inline(__always)
    func step(_ lane: inout LaneRegister, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Bool {
        let c = lane.container, a = lane.available
        let probe = table[Int(truncatingIfNeeded: c &>> codeShift)]
        let next = UInt64(words.loadUnaligned(fromByteOffset: word &<< 2, as: UInt32.self).bigEndian)
        let filled = c | ((next &<< 32) &>> UInt64(a))
        let slot = table[Int(truncatingIfNeeded: filled &>> codeShift)]
        if slot & stopMask != 0 { return false }
        let need = Int(probe & 0x3F) > a
        let used = Int(slot & 0x3F)
        let raw = UInt32(truncatingIfNeeded: (filled &>> UInt64(64 &- used)) & rawMask)
        out.pointee = K.placeSymbol(slot &>> 16, rawBits: rawBits) | K.placeRaw(raw)
        lane.container = (need ? filled : c) &<< UInt64(used)
        lane.available = a &+ (need ? 32 : 0) &- used
        word &+= need ? 1 : 0
        return true
    }
}

/// The tANS fast entry: the state's slot says how many bits the entry reads (its state bits
/// and raw bits); a lane holding fewer takes the next word.
struct TANSLaneStep<K: TransformKernel>: FastLaneStep {
    let slots: UnsafeMutablePointer<UInt64>
    let values: UnsafeMutablePointer<UInt32>
    let words: UnsafeRawPointer
    let rawMask: UInt64

    @inline(__always)
    func step(_ lane: inout LaneRegister, _ word: inout Int, _ out: UnsafeMutablePointer<UInt32>) -> Bool {
        let slot = slots[lane.state]
        if slot >= 1 << 48 { return false }
        let a = lane.available
        let used = Int(truncatingIfNeeded: (slot &>> 24) & 0xFF)
        let next = UInt64(words.loadUnaligned(fromByteOffset: word &<< 2, as: UInt32.self).bigEndian)
        let need = used > a
        let c = need ? lane.container | ((next &<< 32) &>> UInt64(a)) : lane.container
        // The top nb bits of the container are the state bits.
        let stateBits = Int(truncatingIfNeeded: (c &>> 1) &>> slot)
        lane.state = Int(truncatingIfNeeded: (slot &>> 8) & 0xFFFF) &+ stateBits
        let raw = UInt32(truncatingIfNeeded: (c &>> UInt64(64 &- used)) & rawMask)
        out.pointee = values[Int(truncatingIfNeeded: (slot &>> 32) & 0x1FFF)] | K.placeRaw(raw)
        lane.container = c &<< UInt64(used)
        lane.available = a &+ (need ? 32 : 0) &- used
        word &+= need ? 1 : 0
        return true
    }
}
