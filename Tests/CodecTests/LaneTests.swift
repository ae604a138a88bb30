import Codec
import Testing
import TestSupport

/// FORMAT.md section 9 written out plainly, bit by bit, in the test: each lane's bits from the
/// spec's rules (Huffman: code, literal, raw bits; tANS: the lane coded backwards from X = T),
/// the word order from the rule "just before entry j, every unsent word of its lane that holds a
/// bit of entry j", and a decoder whose lanes take a word exactly when they need a bit. The
/// reference coders are held to it; it shares nothing with them but the canonical codes and the
/// tANS tables (checked against RFC 1951 and vector 02 elsewhere).
enum LaneOracle {
    typealias Bits = [Bool]

    static func bits(_ value: UInt64, _ count: Int) -> Bits {
        (0..<count).map { (value >> UInt64(count - 1 - $0)) & 1 == 1 }
    }

    static func number(_ bits: ArraySlice<Bool>) -> UInt64 { bits.reduce(0) { $0 << 1 | ($1 ? 1 : 0) } }

    /// Each entry's bits (values then EOF) for one lane's entries, in the lane's order.
    static func laneEntryBits(_ book: Codebook, _ values: [UInt32], hasEOF: Bool) -> [Bits] {
        let layout = book.layout
        let symbolCount = layout.symbolCount
        switch book.coder {
        case .huffman(let lengths):
            let code = CanonicalCode(lengths: lengths)
            var out: [Bits] = values.map { v in
                let s = Int(layout.symbol(of: v))
                var b = lengths[s] > 0 ? bits(UInt64(code.codes[s]), lengths[s])
                                       : bits(UInt64(code.codes[symbolCount]), lengths[symbolCount]) + bits(UInt64(s), layout.symbolBits)
                b += bits(UInt64(layout.raw(of: v)), layout.rawBits)
                return b
            }
            if hasEOF { out.append(bits(UInt64(code.codes[symbolCount + 1]), lengths[symbolCount + 1])) }
            return out
        case .tans(let tableLog, let counts):
            let tables = TANSTables(tableLog: tableLog, counts: counts)
            let size = 1 << tableLog
            var entries: [(entry: Int, tail: Bits)] = values.map { v in
                let s = Int(layout.symbol(of: v))
                let raw = bits(UInt64(layout.raw(of: v)), layout.rawBits)
                return counts[s] > 0 ? (s, raw) : (symbolCount, bits(UInt64(s), layout.symbolBits) + raw)
            }
            if hasEOF { entries.append((symbolCount + 1, [])) }
            // Backwards from X = T: nb with c <= X >> nb < 2c, the low nb bits, X = T + k-th state.
            var x = size
            var chunks = [Bits](repeating: [], count: entries.count)
            for i in entries.indices.reversed() {
                let c = counts[entries[i].entry]
                var nb = 0
                while (x >> nb) >= 2 * c { nb += 1 }
                chunks[i] = bits(UInt64(x & ((1 << nb) - 1)), nb) + entries[i].tail
                let states = tables.stateStart[entries[i].entry]..<tables.stateStart[entries[i].entry + 1]
                x = size + Int(tables.statesByEntry[states][states.lowerBound + (x >> nb) - c])
            }
            if !chunks.isEmpty { chunks[0] = bits(UInt64(x - size), tableLog) + chunks[0] }
            return chunks
        }
    }

    /// One frame's stream words by the word-order rule.
    static func frameWords(_ book: Codebook, _ values: [UInt32]) -> [UInt32] {
        let k = book.lanes
        let n = values.count
        var laneBits = [Bits](repeating: [], count: k)
        var ends = [Int](repeating: 0, count: n + 1)  // entry j's end in its lane's bits
        for lane in 0..<min(k, n + 1) {
            let mine = Array(stride(from: lane, to: n + 1, by: k))
            let entryBits = laneEntryBits(book, mine.filter { $0 < n }.map { values[$0] }, hasEOF: mine.last == n)
            for (j, b) in zip(mine, entryBits) {
                laneBits[lane] += b
                ends[j] = laneBits[lane].count
            }
        }
        var sent = [Int](repeating: 0, count: k)
        var words: [UInt32] = []
        for j in 0...n {
            let lane = j % k
            while sent[lane] * 32 < ends[j] {
                let word = laneBits[lane][(sent[lane] * 32)..<min(laneBits[lane].count, sent[lane] * 32 + 32)]
                words.append(UInt32(number(word) << UInt64(32 - word.count)))
                sent[lane] += 1
            }
        }
        return words
    }

    /// Decodes one frame from `words` starting at word `start`: returns its values, the next
    /// word, and the words each lane took (for the per-lane check). Huffman codes are matched
    /// bit by bit; a lane takes the stream's next word when it needs a bit and has none.
    static func decodeFrame(_ book: Codebook, _ words: [UInt32], start: Int) -> (values: [UInt32], next: Int, laneWords: [[UInt32]])? {
        let k = book.lanes
        let layout = book.layout
        let symbolCount = layout.symbolCount
        var queues = [Bits](repeating: [], count: k)
        var laneWords = [[UInt32]](repeating: [], count: k)
        var next = start
        func bit(_ lane: Int) -> Bool? {
            if queues[lane].isEmpty {
                guard next < words.count else { return nil }
                queues[lane] = bits(UInt64(words[next]), 32)
                laneWords[lane].append(words[next])
                next += 1
            }
            return queues[lane].removeFirst()
        }
        func read(_ lane: Int, _ count: Int) -> UInt64? {
            var v: UInt64 = 0
            for _ in 0..<count {
                guard let b = bit(lane) else { return nil }
                v = v << 1 | (b ? 1 : 0)
            }
            return v
        }
        var values: [UInt32] = []
        var states = [Int](repeating: 0, count: k)
        // Huffman: (length, code) -> entry; tANS: the tables.
        var byCode: [Int: Int] = [:]
        var tables: TANSTables?
        switch book.coder {
        case .huffman(let lengths):
            let code = CanonicalCode(lengths: lengths)
            for e in lengths.indices where lengths[e] > 0 { byCode[lengths[e] << 20 | Int(code.codes[e])] = e }
        case .tans(let tableLog, let counts):
            tables = TANSTables(tableLog: tableLog, counts: counts)
        }
        var j = 0
        while true {
            let lane = j % k
            let entry: Int
            switch book.coder {
            case .huffman:
                var acc = 0
                var length = 0
                var found: Int?
                while found == nil {
                    guard length < 16, let b = bit(lane) else { return nil }
                    acc = acc << 1 | (b ? 1 : 0)
                    length += 1
                    found = byCode[length << 20 | acc]
                }
                entry = found ?? 0
            case .tans(let tableLog, _):
                guard let tables else { return nil }
                if j < k { guard let s = read(lane, tableLog) else { return nil }; states[lane] = Int(s) }
                let u = states[lane]
                entry = Int(tables.symbol[u])
                guard let b = read(lane, Int(tables.bitCount[u])) else { return nil }
                states[lane] = Int(tables.base[u]) + Int(b)
            }
            if entry == symbolCount + 1 {
                if case .tans = book.coder, states.prefix(min(k, j + 1)).contains(where: { $0 != 0 }) { return nil }
                return (values, next, laneWords)
            }
            var symbol = UInt32(entry)
            if entry == symbolCount { guard let s = read(lane, layout.symbolBits) else { return nil }; symbol = UInt32(s) }
            guard let raw = read(lane, layout.rawBits) else { return nil }
            values.append(layout.value(symbol: symbol, raw: UInt32(raw)))
            j += 1
        }
    }
}

@Suite("Lanes (FORMAT.md section 9): the reference coders against a bit-by-bit reading of the spec")
struct LaneTests {
    static func bytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 & 0xFF)] }
    }

    /// Random frame sizes around the lane count (empty, shorter than K, K - 1, K, K + 1, longer).
    static func frames(_ count: Int, lanes: Int, random: inout SeededRandom) -> [Int] {
        var sizes: [Int] = []
        var left = count
        while left > 0 {
            let pick = Int(random.next() % 6)
            let size = [0, lanes - 1, lanes, lanes + 1, Int(random.next() % UInt64(lanes + 1)), Int(random.next() % 300)][pick]
            sizes.append(min(left, max(0, size)))
            left -= sizes[sizes.count - 1]
        }
        if random.next() % 3 == 0 { sizes.append(0) }
        return sizes
    }

    @Test("random K-lane codebooks (K = 1-32, both coders, every transform): encode gives the spec's words, decode the values")
    func randomRoundTrips() throws {
        var gen = RandomCodebooks(seed: 2024)
        var transforms = Set<String>()
        var lanesSeen = Set<Int>()
        for round in 0..<TestScale.pick(quick: 120, long: 1500) {
            var book = gen.codebook(name: "lanes\(round)")
            book.lanes = round < 32 ? round + 1 : 1 + Int(gen.random.next() % 32)
            lanesSeen.insert(book.lanes)
            transforms.insert(book.layout.transform.rawValue)
            let codec = StreamCodec(codebook: book)
            let values = gen.values(count: Int(gen.random.next() % 400), for: book)
            let sizes = Self.frames(values.count, lanes: book.lanes, random: &gen.random)
            var expected: [UInt32] = []
            var start = 0
            for size in sizes {
                expected += LaneOracle.frameWords(book, Array(values[start..<(start + size)]))
                start += size
            }
            let stream = try codec.encode(values, frameSizes: sizes)
            #expect(stream == Self.bytes(expected), "\(book.coder.name) K=\(book.lanes) \(book.layout.transform.rawValue) frames \(sizes)")
            let decoded = try codec.decode(stream)
            #expect(decoded.values == values && decoded.frameSizes == sizes, "\(book.name)")
            // The spec-literal decoder reads the same values, and the lane holding EOF, its words
            // pulled out by section 9's order, is a version-1 frame of exactly that lane's entries.
            var at = 0
            start = 0
            for size in sizes {
                guard let frame = LaneOracle.decodeFrame(book, expected, start: at) else {
                    Issue.record("\(book.name): the spec-literal decoder failed")
                    break
                }
                #expect(frame.values == Array(values[start..<(start + size)]))
                let eofLane = size % book.lanes
                var single = book
                single.lanes = 1
                let laneValues = stride(from: eofLane, to: size, by: book.lanes).map { values[start + $0] }
                let laneDecoded = try StreamCodec(codebook: single).decode(Self.bytes(frame.laneWords[eofLane]))
                #expect(laneDecoded.values == laneValues && laneDecoded.frameSizes == [laneValues.count], "\(book.name): EOF lane")
                at = frame.next
                start += size
            }
        }
        #expect(lanesSeen == Set(1...32))
        #expect(transforms == ["identity", "split", "bf16-exponent"])
    }

    @Test("long frames (the fast loops: K lanes in registers for K = 2, 4, 8, 16, in memory for other K) decode to what the spec-literal decoder reads")
    func longFrames() throws {
        var gen = RandomCodebooks(seed: 77)
        let laneCounts = [2, 4, 8, 16, 3, 5, 32]
        for round in 0..<TestScale.pick(quick: 28, long: 280) {
            var book = gen.codebook(name: "long\(round)")
            book.lanes = laneCounts[round % laneCounts.count]
            let codec = StreamCodec(codebook: book)
            // Frames long enough that most entries run in the fast loops, with escapes among them
            // (one value in ten), an empty frame and one shorter than K between.
            let values = gen.values(count: 3000 + Int(gen.random.next() % 3000), for: book)
            let sizes = [values.count / 2, 0, book.lanes - 1, values.count - values.count / 2 - (book.lanes - 1)]
            let stream = try codec.encode(values, frameSizes: sizes)
            var words: [UInt32] = []
            var start = 0
            for size in sizes {
                words += LaneOracle.frameWords(book, Array(values[start..<(start + size)]))
                start += size
            }
            #expect(stream == Self.bytes(words), "\(book.name) K=\(book.lanes): encoder against the spec's words")
            let decoded = try codec.decode(stream)
            #expect(decoded.values == values && decoded.frameSizes == sizes, "\(book.name) K=\(book.lanes) \(book.coder.name)")
            // A flipped bit far into the first frame: the error (if any) names a lane, and the
            // values before it are the encoded ones.
            var damaged = stream
            let bit = stream.count * 2 + Int(gen.random.next() % UInt64(stream.count * 2))
            damaged[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            let outcome = codec.decodeUntilError(damaged)
            if let error = outcome.error { #expect("\(error)".contains("lane "), "\(error)") }
            let bits = book.layout.valueBits
            #expect(outcome.decoded.values.allSatisfy { bits == 32 || $0 >> UInt32(bits) == 0 })
            // The first frame's values up to the flipped bit's word come out as encoded: at
            // least the entries wholly in the words before it (each entry is at most 64 bits).
            let safeEntries = max(0, (bit / 32 * 32) / 64 - book.lanes)
            let safe = min(safeEntries, sizes[0], outcome.decoded.values.count)
            #expect(Array(outcome.decoded.values.prefix(safe)) == Array(values.prefix(safe)), "\(book.name): values before the flip")
            if outcome.error != nil { #expect(outcome.decoded.values.count >= min(safeEntries, sizes[0])) }
        }
    }

    @Test("corrupt K-lane streams: an error naming the frame, lane and entry, or values that fit; cut streams keep the values before the cut")
    func corrupt() throws {
        var gen = RandomCodebooks(seed: 31)
        var named = 0
        for round in 0..<TestScale.pick(quick: 150, long: 3000) {
            var book = gen.codebook(name: "c\(round)")
            book.lanes = 2 + Int(gen.random.next() % 31)
            let codec = StreamCodec(codebook: book)
            let values = gen.values(count: 1 + Int(gen.random.next() % 300), for: book)
            let sizes = Self.frames(values.count, lanes: book.lanes, random: &gen.random)
            var stream = try codec.encode(values, frameSizes: sizes)
            if round % 2 == 0 {
                // Cut: the values before the cut come out, and the error says truncated.
                let cut = Int(gen.random.next() % UInt64(stream.count))
                let outcome = codec.decodeUntilError(Array(stream[..<(cut & ~3)]))
                #expect(Array(values.prefix(outcome.decoded.values.count)) == outcome.decoded.values, "\(book.name): values before the cut")
                if let error = outcome.error {
                    #expect("\(error)".contains("lane "), "\(error)")
                    named += 1
                }
            } else {
                let bit = Int(gen.random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                let outcome = codec.decodeUntilError(stream)
                let bits = book.layout.valueBits
                #expect(outcome.decoded.values.allSatisfy { bits == 32 || $0 >> UInt32(bits) == 0 })
                if let error = outcome.error, case .corruptFrame(let frame, let inner) = error {
                    #expect(frame >= 1 && "\(error)".contains("frame \(frame): lane "), "\(error)")
                    if case .inLane(let lane, _, _) = inner { #expect(lane < book.lanes) }
                    named += 1
                }
            }
        }
        #expect(named > 20)
    }

    @Test("tANS: a lane not back in state 0 at EOF is an error naming that lane")
    func badFinalState() throws {
        // Vector 19's codebook (2 tANS lanes): flip a bit of lane 1's initial state.
        let book = try Codebook.parse(Array(#"{"format": "hwgen-codebook/2", "name": "t", "coder": "tans", "transform": "identity", "symbolBits": 2, "rawBits": 0, "lanes": 2, "tableLog": 5, "counts": [12, 9, 0, 0, 6, 5]}"#.utf8))
        let codec = StreamCodec(codebook: book)
        var stream = try codec.encode([0, 1, 0, 1, 1, 0], frameSizes: [6])
        #expect(stream.count == 8)  // one word per lane: lane 0's, then lane 1's
        stream[4] ^= 0x08  // lane 1's state, bit 4 of 5
        let outcome = codec.decodeUntilError(stream)
        guard case .corruptFrame(1, .inLane(let lane, _, let inner))? = outcome.error else {
            Issue.record("expected a lane error, got \(String(describing: outcome.error)) with \(outcome.decoded.values)")
            return
        }
        if case .badFinalState = inner {
            #expect(lane == 1)
        } else if case .truncated = inner {
            // The flipped state took lane 1 through more bits than its word holds.
            #expect(lane == 1 || lane == 0)
        } else {
            Issue.record("unexpected \(inner)")
        }
    }

    @Test("version 2 requires lanes 1-32; version 1 forbids the key")
    func codebookRules() throws {
        let base = #""name": "x", "coder": "huffman", "transform": "identity", "symbolBits": 2, "rawBits": 0, "codeLengths": [1, 2, 0, 0, 3, 3]"#
        func parse(_ extra: String) throws -> Codebook { try Codebook.parse(Array("{\(extra), \(base)}".utf8)) }
        #expect(try parse(#""format": "hwgen-codebook/2", "lanes": 32"#).lanes == 32)
        #expect(try parse(#""format": "hwgen-codebook/1""#).lanes == 1)
        #expect(try parse(#""format": "hwgen-codebook/2", "lanes": 1"#).lanes == 1)
        #expect(throws: CodebookError.missingKey("lanes")) { try parse(#""format": "hwgen-codebook/2""#) }
        #expect(throws: CodebookError.self) { try parse(#""format": "hwgen-codebook/1", "lanes": 2"#) }
        #expect(throws: CodebookError.invalid(key: "lanes", rule: "must be 1 to 32, is 33")) { try parse(#""format": "hwgen-codebook/2", "lanes": 33"#) }
        #expect(throws: CodebookError.invalid(key: "lanes", rule: "must be 1 to 32, is 0")) { try parse(#""format": "hwgen-codebook/2", "lanes": 0"#) }
        #expect(throws: CodebookError.self) { try parse(#""format": "hwgen-codebook/2", "lanes": 2.0"#) }
        #expect(throws: CodebookError.self) { try parse(#""format": "hwgen-codebook/3", "lanes": 2"#) }
        // Written back: version 2 with lanes for K > 1, version 1 for one lane.
        let two = try parse(#""format": "hwgen-codebook/2", "lanes": 4"#)
        #expect(two.jsonText().contains("\"hwgen-codebook/2\"") && two.jsonText().contains("\"lanes\": 4"))
        #expect(try Codebook.parse(Array(two.jsonText().utf8)) == two)
        #expect(!(try parse(#""format": "hwgen-codebook/2", "lanes": 1"#)).jsonText().contains("lanes"))
        var other = two
        other.lanes = 2
        #expect(two.codingDifference(from: other) == "lanes")
    }
}
