import Codec

/// Random codebooks that the format allows, for property tests of coders (software and hardware).
public struct RandomCodebooks {
    public var random: SeededRandom

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    /// A random layout: any transform, symbolBits 1-12 (8 for bf16), rawBits within the rules.
    public mutating func layout(maxSymbolBits: Int = 12) -> ValueLayout {
        switch below(3) {
        case 0: return ValueLayout(transform: .identity, symbolBits: 1 + below(maxSymbolBits), rawBits: 0)
        case 1:
            let s = 1 + below(maxSymbolBits)
            return ValueLayout(transform: .split, symbolBits: s, rawBits: below(33 - s))
        default: return ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)
        }
    }

    /// Random Huffman lengths: some symbols escaped, lengths up to `maxLength`, complete or not.
    public mutating func huffmanLengths(entries: Int, maxLength: Int = 16) -> [Int] {
        let n = entries - 2
        var lengths = [Int](repeating: 0, count: entries)
        let used = max(0, min(n, below(min(n, 300) + 1)))
        var candidates = Array(0..<n)
        for i in 0..<used {
            let j = i + below(candidates.count - i)
            candidates.swapAt(i, j)
            lengths[candidates[i]] = 1 + below(maxLength)
        }
        lengths[n] = 1 + below(maxLength)
        lengths[n + 1] = 1 + below(maxLength)
        // Lengthen codes until the Kraft sum is at most 1.
        func kraft() -> Int { lengths.reduce(0) { $0 + ($1 == 0 ? 0 : 1 << (16 - $1)) } }
        while kraft() > 1 << 16 {
            let nonzero = lengths.indices.filter { lengths[$0] > 0 && lengths[$0] < maxLength }
            if nonzero.isEmpty {
                // Too many codes for maxLength: escape some symbols.
                let symbols = lengths.indices.filter { $0 < n && lengths[$0] > 0 }
                lengths[symbols[below(symbols.count)]] = 0
            } else {
                lengths[nonzero[below(nonzero.count)]] += 1
            }
        }
        // Half the time, shorten codes while the sum stays at most 1 (towards complete codes).
        if below(2) == 0 {
            for i in lengths.indices.shuffled(using: &random) where lengths[i] > 1 {
                lengths[i] -= 1
                if kraft() > 1 << 16 { lengths[i] += 1 }
            }
        }
        return lengths
    }

    /// Random tANS counts summing to 2^tableLog, ESC and EOF non-zero, some symbols escaped.
    public mutating func tansCounts(entries: Int, tableLog: Int) -> [Int] {
        let size = 1 << tableLog
        let n = entries - 2
        var counts = [Int](repeating: 0, count: entries)
        counts[n] = 1
        counts[n + 1] = 1
        let used = min(n, size - 2, below(min(n, 300) + 1))
        var candidates = Array(0..<n)
        for i in 0..<used {
            let j = i + below(candidates.count - i)
            candidates.swapAt(i, j)
            counts[candidates[i]] = 1
        }
        let holders = counts.indices.filter { counts[$0] > 0 }
        var left = size - holders.count
        // Skewed shares: a few symbols get most of the table, as real data does.
        while left > 0 {
            let i = holders[below(holders.count)]
            let share = min(left, 1 + below(max(1, left / (1 + below(4)))))
            counts[i] += share
            left -= share
        }
        return counts
    }

    /// A random valid codebook of either coder.
    public mutating func codebook(coder: String? = nil, name: String = "random") -> Codebook {
        let layout = self.layout()
        let entries = layout.symbolCount + 2
        let useHuffman = coder.map { $0 == "huffman" } ?? (below(2) == 0)
        let c: Codebook.Coder
        if useHuffman {
            c = .huffman(codeLengths: huffmanLengths(entries: entries, maxLength: 1 + below(16)))
        } else {
            let tableLog = 5 + below(11)
            c = .tans(tableLog: tableLog, counts: tansCounts(entries: entries, tableLog: tableLog))
        }
        do {
            return try Codebook(name: name, coder: c, layout: layout)
        } catch {
            fatalError("generated an invalid codebook: \(error)")
        }
    }

    /// A random layout of `valueBits`-bit values (1-32): identity (up to 12 bits), a split of
    /// 1-12 symbol bits, or bf16-exponent (16 bits).
    public mutating func layout(valueBits w: Int) -> ValueLayout {
        var options: [ValueLayout] = []
        if w <= 12 { options.append(ValueLayout(transform: .identity, symbolBits: w, rawBits: 0)) }
        let s = 1 + below(min(12, w))
        options.append(ValueLayout(transform: .split, symbolBits: s, rawBits: w - s))
        if w == 16 { options.append(ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)) }
        return options[below(options.count)]
    }

    /// A random codebook set (FORMAT.md section 13): `members` codebooks of `coder` for
    /// `valueBits`-bit values, mixed transforms, named `<name>_m<j>`.
    public mutating func set(coder: String, members: Int, valueBits: Int, name: String = "random_set") -> CodebookSet {
        let books = (0..<members).map { j -> Codebook in
            let layout = self.layout(valueBits: valueBits)
            let entries = layout.symbolCount + 2
            let c: Codebook.Coder
            if coder == "huffman" {
                c = .huffman(codeLengths: huffmanLengths(entries: entries, maxLength: 1 + below(16)))
            } else {
                let tableLog = 5 + below(11)
                c = .tans(tableLog: tableLog, counts: tansCounts(entries: entries, tableLog: tableLog))
            }
            do {
                return try Codebook(name: "\(name)_m\(j)", coder: c, layout: layout)
            } catch {
                fatalError("generated an invalid codebook: \(error)")
            }
        }
        do {
            return try CodebookSet(name: name, members: books)
        } catch {
            fatalError("generated an invalid codebook set: \(error)")
        }
    }

    /// Random values for `layout`, drawn mostly from the coded symbols, sometimes escaped ones.
    public mutating func values(count: Int, for codebook: Codebook) -> [UInt32] {
        let layout = codebook.layout
        let weights: [Int]
        switch codebook.coder {
        case .huffman(let lengths): weights = lengths.prefix(layout.symbolCount).map { $0 == 0 ? 0 : 1 << (16 - $0) }
        case .tans(_, let counts): weights = Array(counts.prefix(layout.symbolCount))
        }
        let coded = weights.indices.filter { weights[$0] > 0 }
        let rawMask: UInt64 = layout.rawBits == 0 ? 0 : (1 << UInt64(layout.rawBits)) - 1
        return (0..<count).map { _ in
            let symbol = coded.isEmpty || below(10) == 0 ? below(layout.symbolCount) : coded[below(coded.count)]
            let raw = UInt32(truncatingIfNeeded: random.next() & rawMask)
            if layout.transform == .bf16Exponent {
                return layout.value(symbol: UInt32(symbol), raw: raw & 0xFF)
            }
            return layout.value(symbol: UInt32(symbol), raw: raw)
        }
    }
}
