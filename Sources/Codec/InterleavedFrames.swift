import CCodecKernels

/// Stored frames of a one-lane stream decoded four at a time on one thread.
///
/// One frame's decode is a chain: a Huffman code's table slot says where the next code starts,
/// a tANS entry's slot gives the next state, so each lookup waits for the last (about 10
/// cycles a value here, whatever the instruction count). Frames of a stream file are
/// independent and their word counts are known, so four of them decode in one loop, a step of
/// each in turn: four chains in flight. Each step takes as many directly coded values as one
/// 64-bit load surely holds, with no branch on the bits left: a budget of steps, worked out per
/// round from each frame's bits and stored value count, keeps the loads inside the frames. ESC
/// entries are taken in place; a frame that meets EOF, a slot that is no entry, its last 64
/// bits or its value count ends the loop, and every frame finishes on the one-frame path
/// (`decodeSingle`), which also names any error exactly.
enum InterleavedFrames {
    /// Frames decoded together.
    static let width = 4
    /// The most values a frame may claim to be decoded in a group: a group holds four frames'
    /// outputs at once, so frames that claim more (only a hostile file's, at the default frame
    /// sizes) go one at a time and memory stays as before.
    static let groupValueLimit = 1 << 20

    /// One frame in the loop: its bits, where it is, its state (tANS), where its values go.
    struct Cursor {
        let base: UnsafeRawPointer
        /// The last position at which 64 bits can be loaded.
        let limit: Int
        var position: Int
        var state: Int
        var out: UnsafeMutablePointer<UInt32>
        let end: UnsafeMutablePointer<UInt32>

        init(_ reader: BitReader, out: UnsafeMutablePointer<UInt32>, count: Int) {
            base = reader.base
            limit = reader.bitCount - 64
            position = reader.position
            state = 0
            self.out = out
            end = out + count
        }

        /// The 64 bits from the position on, left-aligned (at least 57 real).
        @inline(__always)
        func load() -> UInt64 {
            base.loadUnaligned(fromByteOffset: position &>> 3, as: UInt64.self).bigEndian &<< UInt64(position & 7)
        }

        /// An escaped value from `bits` (the stream at the position, left-aligned): after `skip`
        /// bits (ESC's code, or its state bits), the literal and the raw bits (at most 16 + 32
        /// bits in all, inside the 57 loaded); the position moves past them.
        @inline(__always)
        mutating func putEscaped<K: TransformKernel>(_ bits: UInt64, skipping skip: Int, layout: ValueLayout, _: K.Type) {
            let (symbolBits, rawBits) = (layout.symbolBits, layout.rawBits)
            let fields = bits &<< UInt64(skip)
            let literal = symbolBits == 0 ? 0 : UInt32(truncatingIfNeeded: fields &>> UInt64(64 - symbolBits))
            let raw = rawBits == 0 ? 0 : UInt32(truncatingIfNeeded: (fields &<< UInt64(symbolBits)) &>> UInt64(64 - rawBits))
            out.pointee = layout.value(symbol: literal, raw: 0) | K.placeRaw(raw)
            out += 1
            position &+= skip &+ symbolBits &+ rawBits
        }

        /// Steps this frame can surely take: each does `perLoad` lookups of at most `windowBits`
        /// bits from a load at most at `limit`, and writes at most `perStep` values.
        @inline(__always)
        func budget(perLoad: Int, perStep: Int, windowBits: Int) -> Int {
            guard position <= limit else { return 0 }
            let bitsLeft: Int = limit &- position
            let byBits: Int = bitsLeft / (perLoad &* windowBits) &+ 1
            let valuesLeft: Int = end - out
            return min(byBits, valuesLeft / perStep)
        }
    }

    /// Decodes `frames` (words and value counts) with a one-lane coder; per frame its values,
    /// or nil where the frame must be decoded alone to learn what is wrong with it.
    static func decode<C: InterleavedCoder>(_ frames: [(words: PaddedStream, valueCount: Int)], coder: C, loop: InnerLoop) -> [[UInt32]?] {
        switch coder.layout.transform {
        case .identity: decode(frames, coder: coder, loop: loop, IdentityKernel.self)
        case .split: decode(frames, coder: coder, loop: loop, SplitKernel.self)
        case .bf16Exponent: decode(frames, coder: coder, loop: loop, BF16Kernel.self)
        }
    }

    private static func decode<C: InterleavedCoder, K: TransformKernel>(_ frames: [(words: PaddedStream, valueCount: Int)], coder: C, loop: InnerLoop,
                                                                       _: K.Type) -> [[UInt32]?] {
        var results: [[UInt32]?] = []
        var start = 0
        while start < frames.count {
            let group = Array(frames[start..<min(frames.count, start + width)])
            let together = group.count == width && group.allSatisfy { $0.valueCount <= groupValueLimit }
            results += together ? decodeGroup(group, coder: coder, loop: loop, K.self) : group.map { decodeAlone($0, coder: coder, K.self) }
            start += width
        }
        return results
    }

    /// One frame on the one-frame path.
    private static func decodeAlone<C: InterleavedCoder, K: TransformKernel>(_ frame: (words: PaddedStream, valueCount: Int), coder: C, _: K.Type) -> [UInt32]? {
        var ok = false
        let values = [UInt32](unsafeUninitializedCapacity: frame.valueCount + 256) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            frame.words.withReader { (reader: inout BitReader) in
                ok = finish(&reader, state: nil, coder: coder, out: base, done: 0, capacity: buffer.count, valueCount: frame.valueCount, K.self)
            }
            initialized = ok ? frame.valueCount : 0
        }
        return ok ? values : nil
    }

    /// Finishes a frame from `reader`'s position on the one-frame path (tANS: in `state`, nil
    /// at the frame's start), `done` values already in `out`; true when it holds exactly
    /// `valueCount` values and ends at its last word.
    private static func finish<C: InterleavedCoder, K: TransformKernel>(_ reader: inout BitReader, state: Int?, coder: C, out: UnsafeMutablePointer<UInt32>,
                                                                       done: Int, capacity: Int, valueCount: Int, _: K.Type) -> Bool {
        var sink = ValueSink(borrowing: out, capacity: capacity)
        defer { sink.release() }
        sink.advance(by: done)
        do {
            try coder.decodeRest(&reader, state: state, into: &sink, limit: valueCount, K.self)
        } catch {
            return false
        }
        return sink.isBorrowing && sink.count == valueCount && reader.position == reader.bitCount
    }

    /// Four frames in one loop, each decoded straight into its array (uninitialized until
    /// written, with room for the one-frame path's blocks past the count).
    private static func decodeGroup<C: InterleavedCoder, K: TransformKernel>(_ frames: [(words: PaddedStream, valueCount: Int)], coder: C, loop: InnerLoop,
                                                                            _: K.Type) -> [[UInt32]?] {
        var ok = [Bool](repeating: false, count: frames.count)
        let counts = frames.map(\.valueCount)
        var out1: [UInt32] = [], out2: [UInt32] = [], out3: [UInt32] = []
        let out0 = [UInt32](unsafeUninitializedCapacity: counts[0] + 256) { b0, n0 in
            out1 = [UInt32](unsafeUninitializedCapacity: counts[1] + 256) { b1, n1 in
                out2 = [UInt32](unsafeUninitializedCapacity: counts[2] + 256) { b2, n2 in
                    out3 = [UInt32](unsafeUninitializedCapacity: counts[3] + 256) { b3, n3 in
                        (n0, n1, n2, n3) = (0, 0, 0, 0)
                        let bases = [b0, b1, b2, b3].compactMap(\.baseAddress)
                        guard bases.count == width else { return }
                        withReaders(frames.map(\.words)) { readers in
                            ok = run(&readers, outputs: bases, capacities: [b0.count, b1.count, b2.count, b3.count], counts: counts, coder: coder, loop: loop, K.self)
                        }
                        n0 = ok[0] ? counts[0] : 0
                        n1 = ok[1] ? counts[1] : 0
                        n2 = ok[2] ? counts[2] : 0
                        n3 = ok[3] ? counts[3] : 0
                    }
                }
            }
        }
        return zip([out0, out1, out2, out3], ok).map { $1 ? $0 : nil }
    }

    /// The interleaved loop over four readers, then each frame's end on the one-frame path.
    private static func run<C: InterleavedCoder, K: TransformKernel>(_ readers: inout [BitReader], outputs: [UnsafeMutablePointer<UInt32>], capacities: [Int],
                                                                    counts: [Int], coder: C, loop: InnerLoop, _: K.Type) -> [Bool] {
        let windowBits = coder.windowBits
        let context = coder.stepContext()
        var c0 = Cursor(readers[0], out: outputs[0], count: counts[0]), c1 = Cursor(readers[1], out: outputs[1], count: counts[1])
        var c2 = Cursor(readers[2], out: outputs[2], count: counts[2]), c3 = Cursor(readers[3], out: outputs[3], count: counts[3])
        // The loop runs when every frame has begun (tANS: its first state read) and entries fit a load.
        var live = windowBits <= 57 && coder.begin(&c0) && coder.begin(&c1) && coder.begin(&c2) && coder.begin(&c3)
        let begun = live
        // Values per step: as many whole entries as 57 bits surely hold.
        let perLoad = max(1, 57 / max(1, windowBits))
        let perStep = perLoad * coder.valuesPerLookup
        while live {
            let budget = min(c0.budget(perLoad: perLoad, perStep: perStep, windowBits: windowBits), c1.budget(perLoad: perLoad, perStep: perStep, windowBits: windowBits),
                             c2.budget(perLoad: perLoad, perStep: perStep, windowBits: windowBits), c3.budget(perLoad: perLoad, perStep: perStep, windowBits: windowBits))
            guard budget > 0 else { break }
            let done = coder.rounds(&c0, &c1, &c2, &c3, budget: budget, context, perLoad: perLoad, loop: loop, K.self)
            if done == budget { continue }
            // One met a slot that is no direct symbol: an ESC goes on in place; anything else
            // ends the loop. (Each step stops before such a slot, so every frame is whole.)
            live = (coder.stepsOn(c0) || coder.escape(&c0, K.self)) && (coder.stepsOn(c1) || coder.escape(&c1, K.self))
                && (coder.stepsOn(c2) || coder.escape(&c2, K.self)) && (coder.stepsOn(c3) || coder.escape(&c3, K.self))
        }
        // (A group that could not begin finishes every frame from its start.)
        let cursors = [c0, c1, c2, c3]
        return (0..<width).map { i in
            if begun { readers[i].position = cursors[i].position }
            return finish(&readers[i], state: begun ? cursors[i].state : nil, coder: coder, out: outputs[i], done: begun ? cursors[i].out - outputs[i] : 0,
                          capacity: capacities[i], valueCount: counts[i], K.self)
        }
    }

    /// Up to `budget` rounds of `coder.step` over the four cursors in turn, stopping where a
    /// step does (the cursors after it not stepped); the rounds completed. The Swift loop every
    /// coder has (`InterleavedCoder.rounds`).
    @inline(__always)
    static func swiftRounds<C: InterleavedCoder, K: TransformKernel>(_ c0: inout Cursor, _ c1: inout Cursor, _ c2: inout Cursor, _ c3: inout Cursor, budget: Int,
                                                                      _ context: C.StepContext, perLoad: Int, coder: C, _: K.Type) -> Int {
        var done = 0
        while done < budget && coder.step(&c0, context, perLoad: perLoad, K.self) && coder.step(&c1, context, perLoad: perLoad, K.self)
            && coder.step(&c2, context, perLoad: perLoad, K.self) && coder.step(&c3, context, perLoad: perLoad, K.self) { done += 1 }
        return done
    }

    /// Runs a C loop (`body`, given the four cursors as `hwgen_decode_frame`s, returning the
    /// rounds it completed) and takes the cursors' progress back.
    @inline(__always)
    static func inC(_ c0: inout Cursor, _ c1: inout Cursor, _ c2: inout Cursor, _ c3: inout Cursor,
                    _ body: (UnsafeMutablePointer<hwgen_decode_frame>?) -> Int64) -> Int {
        func frame(_ c: Cursor) -> hwgen_decode_frame {
            hwgen_decode_frame(base: c.base.assumingMemoryBound(to: UInt8.self), position: Int64(c.position), state: UInt64(c.state), out: c.out)
        }
        var frames = (frame(c0), frame(c1), frame(c2), frame(c3))
        // (A homogeneous tuple is laid out as an array.)
        let done = withUnsafeMutableBytes(of: &frames) { body($0.baseAddress?.assumingMemoryBound(to: hwgen_decode_frame.self)) }
        func update(_ c: inout Cursor, _ f: hwgen_decode_frame) {
            c.position = Int(f.position)
            c.state = Int(f.state)
            c.out = f.out
        }
        update(&c0, frames.0)
        update(&c1, frames.1)
        update(&c2, frames.2)
        update(&c3, frames.3)
        return Int(done)
    }

    /// Runs `body` with a reader at the start of each stream.
    private static func withReaders(_ streams: [PaddedStream], _ body: (inout [BitReader]) -> Void) {
        func nest(_ i: Int, _ readers: [BitReader]) {
            if i == streams.count {
                var all = readers
                body(&all)
                return
            }
            streams[i].withReader { (reader: inout BitReader) in nest(i + 1, readers + [reader]) }
        }
        nest(0, [])
    }
}

/// Which inner loops code frames several at a time (`StreamCodec.decodeStoredFrames`,
/// `StreamCodec.encodeFrames`).
public enum InnerLoop: Sendable {
    /// The C twins of the Swift loops where the coder has them (one lane: decoding tANS where
    /// placed values fit 31 bits and Huffman of one value a lookup where they fit 24; encoding
    /// tANS four frames at a time where values fit 16 bits), else the Swift loops: the fastest
    /// correct choice, and the default.
    case fastest
    /// The Swift loops for every coder: the twins the C loops are checked against.
    case swift
}

/// What a one-lane coder gives the four-frame loop (`InterleavedFrames`).
protocol InterleavedCoder {
    var layout: ValueLayout { get }
    /// The most bits one direct entry reads (its code or state bits and raw bits).
    var windowBits: Int { get }
    /// The most values one lookup of `step` gives (each reading at most `windowBits` bits).
    var valuesPerLookup: Int { get }
    /// Starts a frame at its first bit (tANS: reads its first state); false when the frame is too short to.
    func begin(_ c: inout InterleavedFrames.Cursor) -> Bool
    /// What `step` reads, worked out once per group (table addresses, masks).
    associatedtype StepContext
    func stepContext() -> StepContext
    /// Up to `perLoad` directly coded values from one load; false when an entry that is no
    /// direct symbol stops it (the values before it are taken, the cursor is before it).
    func step<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _ context: StepContext, perLoad: Int, _: K.Type) -> Bool
    /// Up to `budget` rounds of `step` over the four cursors in turn (`InterleavedFrames.swiftRounds`,
    /// or a C twin of it where `loop` allows and the coder has one); the rounds completed.
    func rounds<K: TransformKernel>(_ c0: inout InterleavedFrames.Cursor, _ c1: inout InterleavedFrames.Cursor, _ c2: inout InterleavedFrames.Cursor,
                                    _ c3: inout InterleavedFrames.Cursor, budget: Int, _ context: StepContext, perLoad: Int, loop: InnerLoop, _: K.Type) -> Int
    /// Whether the next entry is a direct symbol with bits to spare.
    func stepsOn(_ c: InterleavedFrames.Cursor) -> Bool
    /// Takes an ESC entry in place (true), or false when the next entry is not one or the
    /// frame is near its end.
    func escape<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _: K.Type) -> Bool
    /// Decodes the rest of the frame from the reader's position (tANS: in `state`; nil: the
    /// frame's start) on the one-frame path.
    func decodeRest<K: TransformKernel>(_ reader: inout BitReader, state: Int?, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError)
}

extension HuffmanCoder: InterleavedCoder {
    var windowBits: Int { code.maxLength + layout.rawBits }

    func begin(_ c: inout InterleavedFrames.Cursor) -> Bool { true }

    struct StepContext {
        let table: UnsafeMutablePointer<UInt32>
        let codeShift: UInt64
        let rawBits: Int
        /// Two symbols a lookup where the layout has no raw bits (`pairTable`).
        let pairs: UnsafeMutablePointer<UInt32>?
    }

    func stepContext() -> StepContext {
        StepContext(table: decodeTable.pointer, codeShift: UInt64(64 - code.maxLength), rawBits: layout.rawBits, pairs: pairTable?.pointer)
    }

    /// Two lookups of up to two values each from one load (codes of at most 12 bits, no raw bits).
    var valuesPerLookup: Int { pairTable == nil ? 1 : 2 }

    @inline(__always)
    func step<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _ context: StepContext, perLoad: Int, _: K.Type) -> Bool {
        var bits = c.load()
        if let pairs = context.pairs {
            // Up to two values a lookup (four lookups a load spelled out, the common case).
            if perLoad == 4 {
                return pair(&c, &bits, pairs, context.codeShift) && pair(&c, &bits, pairs, context.codeShift)
                    && pair(&c, &bits, pairs, context.codeShift) && pair(&c, &bits, pairs, context.codeShift)
            }
            for _ in 0..<perLoad where !pair(&c, &bits, pairs, context.codeShift) { return false }
            return true
        }
        // Two values a load (the common case, spelled out), else a loop.
        if perLoad == 2 {
            return value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self)
        }
        for _ in 0..<perLoad where !value(&c, &bits, context, K.self) { return false }
        return true
    }

    func rounds<K: TransformKernel>(_ c0: inout InterleavedFrames.Cursor, _ c1: inout InterleavedFrames.Cursor, _ c2: inout InterleavedFrames.Cursor,
                                    _ c3: inout InterleavedFrames.Cursor, budget: Int, _ context: StepContext, perLoad: Int, loop: InnerLoop, _: K.Type) -> Int {
        // The C loop for one value a lookup (where two a lookup apply, the Swift pair loop is faster).
        guard loop == .fastest, context.pairs == nil, let kernel = decodeKernel else {
            return InterleavedFrames.swiftRounds(&c0, &c1, &c2, &c3, budget: budget, context, perLoad: perLoad, coder: self, K.self)
        }
        return InterleavedFrames.inC(&c0, &c1, &c2, &c3) { frames in
            hwgen_huffman_decode4(frames, kernel.table.pointer, Int32(code.maxLength), Int32(perLoad), Int32(layout.rawBits), kernel.placement, Int64(budget))
        }
    }

    /// One or two values from a `pairTable` lookup (both slots written, the count moves on), or
    /// false at a slot that is no symbol's.
    @inline(__always)
    private func pair(_ c: inout InterleavedFrames.Cursor, _ bits: inout UInt64, _ pairs: UnsafeMutablePointer<UInt32>, _ codeShift: UInt64) -> Bool {
        let e = pairs[Int(truncatingIfNeeded: bits &>> codeShift)]
        let count = Int((e &>> 6) & 3)
        if count == 0 { return false }
        c.out[0] = (e &>> 8) & 0xFFF
        c.out[1] = e &>> 20
        c.out += count
        bits &<<= UInt64(e & 0x3F)
        c.position &+= Int(e & 0x3F)
        return true
    }

    /// One directly coded value from `bits` (the stream at the cursor, left-aligned), or false
    /// at a slot that is none.
    @inline(__always)
    private func value<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _ bits: inout UInt64, _ context: StepContext, _: K.Type) -> Bool {
        let rawBits = K.rawBits(context.rawBits)
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 &<< UInt64(rawBits)) &- 1
        let slot = context.table[Int(truncatingIfNeeded: bits &>> context.codeShift)]
        if slot & (Self.escapeFlag | Self.endFlag | Self.invalidFlag) != 0 { return false }
        let used = Int(slot & 0x3F)
        let raw = UInt32(truncatingIfNeeded: (bits &>> UInt64(64 &- used)) & rawMask)
        c.out.pointee = K.placeSymbol(slot &>> 16, rawBits: rawBits) | K.placeRaw(raw)
        c.out += 1
        bits &<<= UInt64(slot)  // the shift count is the slot's low 6 bits
        c.position &+= used
        return true
    }

    func stepsOn(_ c: InterleavedFrames.Cursor) -> Bool {
        guard c.position <= c.limit, c.out != c.end else { return false }
        let slot = decodeTable[Int(truncatingIfNeeded: c.load() &>> UInt64(64 - code.maxLength))]
        return slot & (Self.escapeFlag | Self.endFlag | Self.invalidFlag) == 0
    }

    func escape<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _: K.Type) -> Bool {
        guard c.position <= c.limit, c.out != c.end else { return false }
        let bits = c.load()
        let slot = decodeTable[Int(truncatingIfNeeded: bits &>> UInt64(64 - code.maxLength))]
        guard slot & (Self.endFlag | Self.invalidFlag) == 0, slot & Self.escapeFlag != 0 else { return false }
        c.putEscaped(bits, skipping: Int((slot &>> 6) & 0x1F), layout: layout, K.self)
        return true
    }

    func decodeRest<K: TransformKernel>(_ reader: inout BitReader, state: Int?, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError) {
        try decodeSingle(&reader, into: &sink, limit: limit, K.self)
    }
}

extension TANSCoder: InterleavedCoder {
    var windowBits: Int { tables.tableLog + layout.rawBits }
    var valuesPerLookup: Int { 1 }

    func begin(_ c: inout InterleavedFrames.Cursor) -> Bool {
        guard c.position <= c.limit else { return false }
        c.state = Int(truncatingIfNeeded: c.load() &>> UInt64(64 - tables.tableLog))
        c.position &+= tables.tableLog
        return true
    }

    struct StepContext {
        let fast: UnsafeMutablePointer<UInt64>
        let values: UnsafeMutablePointer<UInt32>
    }

    func stepContext() -> StepContext { StepContext(fast: fastTable.pointer, values: entryValue.pointer) }

    @inline(__always)
    func step<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _ context: StepContext, perLoad: Int, _: K.Type) -> Bool {
        var bits = c.load()
        // Two, three or five values a load (the common cases, spelled out), else a loop.
        switch perLoad {
        case 2: return value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self)
        case 3: return value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self)
        case 5:
            // (No raw bits and tableLog 10 or 11: the exponent bytes alone, say.)
            return value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self)
                && value(&c, &bits, context, K.self) && value(&c, &bits, context, K.self)
        default:
            for _ in 0..<perLoad where !value(&c, &bits, context, K.self) { return false }
            return true
        }
    }

    /// The C loop (`hwgen_tans_decode4`, on `decodeKernel`'s table) where `loop` allows and the coder has
    /// its table, else the Swift loop; the same steps either way.
    func rounds<K: TransformKernel>(_ c0: inout InterleavedFrames.Cursor, _ c1: inout InterleavedFrames.Cursor, _ c2: inout InterleavedFrames.Cursor,
                                    _ c3: inout InterleavedFrames.Cursor, budget: Int, _ context: StepContext, perLoad: Int, loop: InnerLoop, _: K.Type) -> Int {
        guard loop == .fastest, let kernel = decodeKernel else {
            return InterleavedFrames.swiftRounds(&c0, &c1, &c2, &c3, budget: budget, context, perLoad: perLoad, coder: self, K.self)
        }
        return InterleavedFrames.inC(&c0, &c1, &c2, &c3) { frames in
            hwgen_tans_decode4(frames, kernel.table.pointer, kernel.noZero ? 1 : 0, Int32(perLoad), Int32(layout.rawBits), kernel.placement, Int64(budget))
        }
    }

    /// One directly coded value from `bits` (the stream at the cursor, left-aligned), or false
    /// at ESC or EOF.
    @inline(__always)
    private func value<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _ bits: inout UInt64, _ context: StepContext, _: K.Type) -> Bool {
        let rawBits = K.rawBits(layout.rawBits)
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 &<< UInt64(rawBits)) &- 1
        let slot = context.fast[c.state]
        if slot >= 1 << 48 { return false }
        let used = Int((slot &>> 24) & 0xFF)
        // The top nb bits are the state bits.
        let stateBits = Int(truncatingIfNeeded: (bits &>> 1) &>> slot)
        c.state = Int((slot &>> 8) & 0xFFFF) &+ stateBits
        let raw = UInt32(truncatingIfNeeded: (bits &>> UInt64(64 &- used)) & rawMask)
        c.out.pointee = context.values[Int((slot &>> 32) & 0x1FFF)] | K.placeRaw(raw)
        c.out += 1
        bits &<<= UInt64(used)
        c.position &+= used
        return true
    }

    func stepsOn(_ c: InterleavedFrames.Cursor) -> Bool {
        c.position <= c.limit && c.out != c.end && fastTable[c.state] < 1 << 48
    }

    func escape<K: TransformKernel>(_ c: inout InterleavedFrames.Cursor, _: K.Type) -> Bool {
        guard c.position <= c.limit, c.out != c.end else { return false }
        let slot = fastTable[c.state]
        guard Int((slot &>> 32) & 0x1FFF) == escape else { return false }
        let bits = c.load()
        let nb = 63 - Int(slot & 0x3F)
        let stateBits = nb == 0 ? 0 : Int(truncatingIfNeeded: bits &>> UInt64(64 - nb))
        c.state = Int((slot &>> 8) & 0xFFFF) &+ stateBits
        c.putEscaped(bits, skipping: nb, layout: layout, K.self)
        return true
    }

    func decodeRest<K: TransformKernel>(_ reader: inout BitReader, state: Int?, into sink: inout ValueSink, limit: Int, _: K.Type) throws(FrameDecodeError) {
        try decodeSingle(&reader, into: &sink, limit: limit, from: state, K.self)
    }
}
