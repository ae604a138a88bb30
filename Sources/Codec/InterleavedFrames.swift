/// Stored frames of a one-lane Huffman stream decoded four at a time on one thread.
///
/// One frame's decode is a chain: each code's table slot says how far the next code starts, so
/// the next lookup waits for the last (about 10 cycles a value here, whatever the instruction
/// count). Frames of a stream file are independent and their word counts are known, so four of
/// them decode in one loop, a step of each in turn: four chains in flight. The loop runs each
/// frame's fast path (directly coded symbols at least 64 bits before its end) and takes ESC
/// entries in place; a frame that meets EOF, a pattern that starts no code, its last 64 bits or
/// its stored value count leaves the loop and finishes on the one-frame path
/// (`HuffmanCoder.decodeSingle`), which also names any error exactly.
struct InterleavedHuffmanFrames {
    /// Frames decoded together.
    static let width = 4

    /// One frame in the loop: its bits, where it is, where its values go.
    struct Cursor {
        let base: UnsafeRawPointer
        let bitCount: Int
        /// The last position at which 64 bits can be loaded.
        let limit: Int
        var position: Int
        var container: UInt64
        var out: UnsafeMutablePointer<UInt32>
        let end: UnsafeMutablePointer<UInt32>

        init(_ reader: BitReader, out: UnsafeMutablePointer<UInt32>, count: Int) {
            base = reader.base
            bitCount = reader.bitCount
            limit = reader.bitCount - 64
            position = reader.position
            container = 0
            self.out = out
            end = out + count
        }

        @inline(__always)
        mutating func reload() {
            container = base.loadUnaligned(fromByteOffset: position &>> 3, as: UInt64.self).bigEndian &<< UInt64(position & 7)
        }

        /// Up to `perLoad` directly coded values from one 64-bit load at the position (no
        /// branch on how many bits are left: the caller's budget keeps the load inside the
        /// frame); false when a slot that is not a direct symbol stops it (the values before
        /// it are taken).
        @inline(__always)
        mutating func step<K: TransformKernel>(_ table: UnsafeMutablePointer<UInt32>, codeShift: UInt64, perLoad: Int, stopMask: UInt32,
                                               rawMask: UInt64, rawBits: Int, _: K.Type) -> Bool {
            var bits = base.loadUnaligned(fromByteOffset: position &>> 3, as: UInt64.self).bigEndian &<< UInt64(position & 7)
            for _ in 0..<perLoad {
                let slot = table[Int(truncatingIfNeeded: bits &>> codeShift)]
                if slot & stopMask != 0 { return false }
                let used = Int(slot & 0x3F)
                let raw = UInt32(truncatingIfNeeded: (bits &>> UInt64(64 &- used)) & rawMask)
                out.pointee = K.placeSymbol(slot &>> 16, rawBits: rawBits) | K.placeRaw(raw)
                out += 1
                bits &<<= UInt64(slot)  // the shift count is the slot's low 6 bits
                position &+= used
            }
            return true
        }

        /// Loads of `perLoad` values this frame can surely take: each reads at most
        /// `perLoad x windowBits` bits and loads 64 bits at most `limit`.
        @inline(__always)
        func budget(perLoad: Int, windowBits: Int) -> Int {
            guard position <= limit else { return 0 }
            let bitsLeft: Int = limit &- position
            let byBits: Int = bitsLeft / (perLoad &* windowBits) &+ 1
            let valuesLeft: Int = end - out
            return min(byBits, valuesLeft / perLoad)
        }
    }

    /// Decodes `frames` (words and value counts) with `coder`; per frame its values, or nil where
    /// the frame must be decoded alone to learn what is wrong with it.
    static func decode(_ frames: [(words: PaddedStream, valueCount: Int)], coder: HuffmanCoder) -> [[UInt32]?] {
        switch coder.layout.transform {
        case .identity: decode(frames, coder: coder, IdentityKernel.self)
        case .split: decode(frames, coder: coder, SplitKernel.self)
        case .bf16Exponent: decode(frames, coder: coder, BF16Kernel.self)
        }
    }

    private static func decode<K: TransformKernel>(_ frames: [(words: PaddedStream, valueCount: Int)], coder: HuffmanCoder, _: K.Type) -> [[UInt32]?] {
        var results: [[UInt32]?] = []
        var start = 0
        while start < frames.count {
            let group = Array(frames[start..<min(frames.count, start + width)])
            results += group.count == width ? decodeGroup(group, coder: coder, K.self) : group.map { decodeAlone($0, coder: coder, K.self) }
            start += width
        }
        return results
    }

    /// One frame on the one-frame path.
    private static func decodeAlone<K: TransformKernel>(_ frame: (words: PaddedStream, valueCount: Int), coder: HuffmanCoder, _: K.Type) -> [UInt32]? {
        var ok = false
        let values = [UInt32](unsafeUninitializedCapacity: frame.valueCount + 256) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            frame.words.withReader { (reader: inout BitReader) in
                ok = finish(&reader, coder: coder, out: base, done: 0, capacity: buffer.count, valueCount: frame.valueCount, K.self)
            }
            initialized = ok ? frame.valueCount : 0
        }
        return ok ? values : nil
    }

    /// Finishes a frame from `reader`'s position on the one-frame path, `done` values already in
    /// `out`; true when it holds exactly `valueCount` values and ends at its last word.
    private static func finish<K: TransformKernel>(_ reader: inout BitReader, coder: HuffmanCoder, out: UnsafeMutablePointer<UInt32>, done: Int,
                                                   capacity: Int, valueCount: Int, _: K.Type) -> Bool {
        var sink = ValueSink(borrowing: out, capacity: capacity)
        defer { sink.release() }
        sink.advance(by: done)
        do {
            try coder.decodeSingle(&reader, into: &sink, limit: valueCount, K.self)
        } catch {
            return false
        }
        return sink.isBorrowing && sink.count == valueCount && reader.position == reader.bitCount
    }

    /// Four frames in one loop.
    private static func decodeGroup<K: TransformKernel>(_ frames: [(words: PaddedStream, valueCount: Int)], coder: HuffmanCoder, _: K.Type) -> [[UInt32]?] {
        // Each frame's values go straight into its array (room for the one-frame path's
        // 256-value steps past the count).
        func room(_ i: Int) -> [UInt32] { [UInt32](repeating: 0, count: frames[i].valueCount + 256) }
        var out0 = room(0), out1 = room(1), out2 = room(2), out3 = room(3)
        var ok = [Bool](repeating: false, count: frames.count)
        withReaders(frames.map(\.words)) { readers in
            out0.withUnsafeMutableBufferPointer { o0 in
                out1.withUnsafeMutableBufferPointer { o1 in
                    out2.withUnsafeMutableBufferPointer { o2 in
                        out3.withUnsafeMutableBufferPointer { o3 in
                            let bases = [o0, o1, o2, o3].compactMap(\.baseAddress)
                            guard bases.count == width else { return }
                            ok = run(&readers, outputs: bases, capacities: [o0.count, o1.count, o2.count, o3.count], counts: frames.map(\.valueCount),
                                     coder: coder, K.self)
                        }
                    }
                }
            }
        }
        return zip([out0, out1, out2, out3], zip(ok, frames)).map { output, e in
            guard e.0 else { return nil }
            var values = output
            values.removeLast(values.count - e.1.valueCount)
            return values
        }
    }

    /// The interleaved loop over four readers, then each frame's end on the one-frame path.
    private static func run<K: TransformKernel>(_ readers: inout [BitReader], outputs: [UnsafeMutablePointer<UInt32>], capacities: [Int], counts: [Int],
                                                coder: HuffmanCoder, _: K.Type) -> [Bool] {
        let layout = coder.layout
        let bits = coder.code.maxLength, rawBits = layout.rawBits, symbolBits = layout.symbolBits
        let windowBits = bits + rawBits
        guard windowBits <= 57 else {
            return (0..<readers.count).map { finish(&readers[$0], coder: coder, out: outputs[$0], done: 0, capacity: capacities[$0],
                                                    valueCount: counts[$0], K.self) }
        }
        let rawMask: UInt64 = rawBits == 0 ? 0 : (1 << UInt64(rawBits)) - 1
        let table = coder.decodeTable.pointer
        let codeShift = UInt64(64 - bits)
        let stopMask = HuffmanCoder.escapeFlag | HuffmanCoder.endFlag | HuffmanCoder.invalidFlag
        func cursor(_ i: Int) -> Cursor { Cursor(readers[i], out: outputs[i], count: counts[i]) }
        var c0 = cursor(0), c1 = cursor(1), c2 = cursor(2), c3 = cursor(3)
        /// An ESC entry in place (true), or false when the frame leaves the loop.
        func escape(_ c: inout Cursor) -> Bool {
            guard c.position <= c.limit, c.out != c.end else { return false }
            c.reload()
            let slot = table[Int(truncatingIfNeeded: c.container &>> codeShift)]
            guard slot & (HuffmanCoder.endFlag | HuffmanCoder.invalidFlag) == 0, slot & HuffmanCoder.escapeFlag != 0 else { return false }
            let length = Int((slot &>> 6) & 0x1F)
            // ESC's code, the literal and the raw bits: at most 16 + 32 bits, inside the 57 loaded.
            let fields = c.container &<< UInt64(length)
            let literal = symbolBits == 0 ? 0 : UInt32(truncatingIfNeeded: fields &>> UInt64(64 - symbolBits))
            let raw = UInt32(truncatingIfNeeded: (fields &<< UInt64(symbolBits)) &>> UInt64(64 - max(1, rawBits))) & UInt32(truncatingIfNeeded: rawMask)
            c.out.pointee = layout.value(symbol: literal, raw: 0) | K.placeRaw(raw)
            c.out += 1
            c.position &+= length &+ symbolBits &+ rawBits
            return true
        }
        // Values per 64-bit load: as many whole entries as 57 bits surely hold.
        let perLoad = max(1, 57 / windowBits)
        var live = true
        while live {
            // Steps of the four frames in turn, as many as each can surely take.
            let budget = min(c0.budget(perLoad: perLoad, windowBits: windowBits), c1.budget(perLoad: perLoad, windowBits: windowBits),
                             c2.budget(perLoad: perLoad, windowBits: windowBits), c3.budget(perLoad: perLoad, windowBits: windowBits))
            guard budget > 0 else { break }
            var done = 0
            while done < budget
                && c0.step(table, codeShift: codeShift, perLoad: perLoad, stopMask: stopMask, rawMask: rawMask, rawBits: rawBits, K.self)
                && c1.step(table, codeShift: codeShift, perLoad: perLoad, stopMask: stopMask, rawMask: rawMask, rawBits: rawBits, K.self)
                && c2.step(table, codeShift: codeShift, perLoad: perLoad, stopMask: stopMask, rawMask: rawMask, rawBits: rawBits, K.self)
                && c3.step(table, codeShift: codeShift, perLoad: perLoad, stopMask: stopMask, rawMask: rawMask, rawBits: rawBits, K.self) { done += 1 }
            if done == budget { continue }
            // One met a slot that is not a direct symbol: an ESC goes on in place; anything else
            // ends the loop. (Each step stops before such a slot, so every frame is whole.)
            for i in 0..<4 {
                switch i {
                case 0: live = live && (stepsOn(c0) || escape(&c0))
                case 1: live = live && (stepsOn(c1) || escape(&c1))
                case 2: live = live && (stepsOn(c2) || escape(&c2))
                default: live = live && (stepsOn(c3) || escape(&c3))
                }
            }
        }
        let cursors = [c0, c1, c2, c3]
        return (0..<4).map { i in
            readers[i].position = cursors[i].position
            return finish(&readers[i], coder: coder, out: outputs[i], done: cursors[i].out - outputs[i],
                          capacity: capacities[i], valueCount: counts[i], K.self)
        }

        /// Whether the cursor's next entry is a direct symbol with bits to spare (it need not
        /// leave the loop).
        func stepsOn(_ c: Cursor) -> Bool {
            guard c.position <= c.limit, c.out != c.end else { return false }
            let bits = c.base.loadUnaligned(fromByteOffset: c.position &>> 3, as: UInt64.self).bigEndian &<< UInt64(c.position & 7)
            return table[Int(truncatingIfNeeded: bits &>> codeShift)] & stopMask == 0
        }
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
