import Codec
import Foundation

/// What to train.
public struct TrainingOptions: Sendable {
    public enum CoderKind: String, Sendable, CaseIterable { case huffman, tans }
    public enum TransformChoice: Sendable, Equatable {
        case fixed(Transform, symbolBits: Int?)
        /// Try every transform and symbolBits; keep the smallest coded size.
        case auto
    }

    public var name: String
    public var coder: CoderKind
    public var transform: TransformChoice
    public var maxCodeLength: Int
    public var tableLog: Int
    public var shardSize: Int
    /// K of the codebook (FORMAT.md section 9): 1 writes version 1, more version 2.
    public var lanes: Int
    /// The dtype of the training tensors (safetensors' name, e.g. "BF16"), recorded in the
    /// codebook's provenance; nil for raw values.
    public var sourceDType: String? = nil

    /// The dtype recorded for F32 tensors that `--round-f32` rounded to bf16 (they train as BF16).
    public static let roundedF32DType = "F32 rounded to BF16"

    /// The transform to train when none is asked for: `bf16-exponent` for bf16, identity for
    /// 8-bit types, the best split or identity (`auto`) for other dtypes; raw values of 16 bits
    /// keep `bf16-exponent` (the common case), other raw widths `auto`.
    public static func defaultTransform(dtype: String?, valueBits: Int) -> TransformChoice {
        switch dtype {
        case "BF16"?, roundedF32DType?: return .fixed(.bf16Exponent, symbolBits: nil)
        case nil: return valueBits == 16 ? .fixed(.bf16Exponent, symbolBits: nil) : .auto
        default: return valueBits == 8 ? .fixed(.identity, symbolBits: nil) : .auto
        }
    }

    public init(name: String, coder: CoderKind, transform: TransformChoice = .fixed(.bf16Exponent, symbolBits: nil),
                maxCodeLength: Int = 12, tableLog: Int = 11, shardSize: Int = 65536, lanes: Int = 1) {
        self.name = name
        self.coder = coder
        self.transform = transform
        self.maxCodeLength = maxCodeLength
        self.tableLog = tableLog
        self.shardSize = shardSize
        self.lanes = lanes
    }
}

/// Options that cannot produce a codebook.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    case noValues
    case invalidOption(String)

    public var description: String {
        switch self {
        case .noValues: return "no values to train on"
        case .invalidOption(let message): return message
        }
    }
}

/// One candidate layout with its trained codebook and coded size on the training data.
public struct TrainedCandidate: Sendable {
    public let codebook: Codebook
    /// Bits to code the training values (symbols, escapes, raw bits, one EOF per shard).
    public let bits: Double
    public let values: Int
    /// Shannon entropy of the symbols plus raw bits, per value.
    public let entropyBitsPerValue: Double
    public var bitsPerValue: Double { bits / Double(values) }
}

/// Trains fixed codebooks from the average statistics of earlier data (the single-stage method).
public enum Trainer {
    /// Trains one codebook; with `.auto`, the best of all layouts (the others are returned too).
    public static func train(_ values: [UInt32], valueBits: Int, options: TrainingOptions) throws -> (best: TrainedCandidate, candidates: [TrainedCandidate]) {
        var statistics = try accumulator(valueBits: valueBits, options: options)
        try statistics.add(values)
        return try train(statistics, options: options)
    }

    /// An accumulator for the layouts `options` asks to try, to stream training values through.
    public static func accumulator(valueBits: Int, options: TrainingOptions) throws -> HistogramAccumulator {
        try check(options)
        return HistogramAccumulator(valueBits: valueBits, layouts: try candidateLayouts(valueBits: valueBits, choice: options.transform))
    }

    /// Trains from streamed statistics: one codebook per layout of `statistics`, the best first.
    public static func train(_ statistics: HistogramAccumulator, options: TrainingOptions) throws -> (best: TrainedCandidate, candidates: [TrainedCandidate]) {
        try check(options)
        guard statistics.count > 0 else { throw TrainingError.noValues }
        var candidates: [TrainedCandidate] = []
        for (i, layout) in statistics.layouts.enumerated() {
            let pooled = PooledHistogram(histogram: statistics.histogram(i), shardSize: options.shardSize)
            candidates.append(try train(pooled, layout: layout, options: options))
        }
        guard let best = candidates.min(by: { $0.bits < $1.bits }) else { throw TrainingError.noValues }
        return (best, candidates)
    }

    private static func check(_ options: TrainingOptions) throws {
        guard (1...16).contains(options.maxCodeLength) else { throw TrainingError.invalidOption("--max-code-length must be 1 to 16, is \(options.maxCodeLength)") }
        guard (5...15).contains(options.tableLog) else { throw TrainingError.invalidOption("--table-log must be 5 to 15, is \(options.tableLog)") }
        guard options.shardSize > 0 else { throw TrainingError.invalidOption("--shard-size must be positive") }
        guard Codebook.laneRange.contains(options.lanes) else {
            throw TrainingError.invalidOption("--lanes must be \(Codebook.laneRange.lowerBound) to \(Codebook.laneRange.upperBound), is \(options.lanes)")
        }
    }

    /// The layouts to try for `valueBits`-bit values.
    public static func candidateLayouts(valueBits: Int, choice: TrainingOptions.TransformChoice) throws -> [ValueLayout] {
        guard (1...32).contains(valueBits) else { throw TrainingError.invalidOption("values of \(valueBits) bits cannot be coded (1 to 32)") }
        switch choice {
        case .fixed(.bf16Exponent, _):
            guard valueBits == 16 else { throw TrainingError.invalidOption("bf16-exponent needs 16-bit values, these have \(valueBits) bits") }
            return [ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)]
        case .fixed(.identity, _):
            guard valueBits <= 12 else { throw TrainingError.invalidOption("identity codes symbols of at most 12 bits; these values have \(valueBits): use split") }
            return [ValueLayout(transform: .identity, symbolBits: valueBits, rawBits: 0)]
        case .fixed(.split, nil):
            // No symbol width asked for: every split, as auto tries them.
            return (1...min(12, valueBits)).filter { $0 < valueBits }.map {
                ValueLayout(transform: .split, symbolBits: $0, rawBits: valueBits - $0)
            }
        case .fixed(.split, let s?):
            guard (1...min(12, valueBits)).contains(s) else {
                throw TrainingError.invalidOption("--symbol-bits must be 1 to \(min(12, valueBits)) for \(valueBits)-bit values, is \(s)")
            }
            return [ValueLayout(transform: .split, symbolBits: s, rawBits: valueBits - s)]
        case .auto:
            var layouts: [ValueLayout] = []
            if valueBits == 16 { layouts.append(ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)) }
            if valueBits <= 12 { layouts.append(ValueLayout(transform: .identity, symbolBits: valueBits, rawBits: 0)) }
            for s in 1...min(12, valueBits) where s < valueBits {
                layouts.append(ValueLayout(transform: .split, symbolBits: s, rawBits: valueBits - s))
            }
            return layouts
        }
    }

    /// Coded bits of symbols counted in `counts` (symbol s `counts[s]` times) and `frames` EOFs
    /// under `coder` (an escaped symbol: ESC's code and its `symbolBits`-bit literal; tANS
    /// entries at their ideal cost, tableLog - log2 count), raw bits not included.
    public static func codedBits(_ coder: Codebook.Coder, counts: [Int], symbolBits: Int, frames: Int) -> Double {
        let perEntry: [Double]
        switch coder {
        case .huffman(let lengths): perEntry = lengths.map(Double.init)
        case .tans(let r, let c): perEntry = c.map { $0 == 0 ? .infinity : Double(r) - log2(Double($0)) }
        }
        let n = perEntry.count - 2
        var bits = Double(frames) * perEntry[n + 1]
        for s in 0..<min(n, counts.count) where counts[s] > 0 {
            let direct = perEntry[s]
            bits += Double(counts[s]) * (direct.isFinite && direct > 0 ? direct : perEntry[n] + Double(symbolBits))
        }
        return bits
    }

    /// Trains the coder for one layout from the pooled histogram of its shards.
    public static func train(_ sharded: PooledHistogram, layout: ValueLayout, options: TrainingOptions) throws -> TrainedCandidate {
        let counts = sharded.histogram.counts
        let n = layout.symbolCount
        let valueCount = sharded.histogram.total
        // ESC carries the estimated mass of unseen symbols (Good-Turing: the symbols seen once), at
        // least 1; EOF is one per frame, a frame per shard.
        let seenOnce = counts.filter { $0 == 1 }.count
        let unseenWeight = max(1, seenOnce)
        let eofWeight = max(1, sharded.shardCount)
        var escaped = Set<Int>()
        // Symbols beyond what the code or table can hold are escaped, rarest first.
        let capacity = options.coder == .huffman ? (1 << options.maxCodeLength) - 2 : (1 << options.tableLog) - 2
        let seen = counts.indices.filter { counts[$0] > 0 }.sorted { (counts[$0], $0) < (counts[$1], $1) }
        if seen.count > capacity { escaped.formUnion(seen.prefix(seen.count - capacity)) }

        func weights(_ escaped: Set<Int>) -> [Int] {
            var w = counts + [0, eofWeight]
            for s in escaped { w[n] += w[s]; w[s] = 0 }
            w[n] += unseenWeight
            return w
        }
        func table(_ w: [Int]) -> Codebook.Coder {
            switch options.coder {
            case .huffman: return .huffman(codeLengths: LengthLimitedHuffman.lengths(weights: w, maxLength: options.maxCodeLength))
            case .tans: return .tans(tableLog: options.tableLog, counts: TANSNormalizer.counts(weights: w, tableLog: options.tableLog))
            }
        }
        /// Coded bits of the training symbols (and EOFs) under `coder`.
        func cost(_ coder: Codebook.Coder) -> Double {
            codedBits(coder, counts: counts, symbolBits: layout.symbolBits, frames: eofWeight)
        }

        var coder = table(weights(escaped))
        var bits = cost(coder)
        // Escaping the rarest symbols frees code space (or tANS states) for all the others: try
        // escaping more and more of them, rarest first, and keep the best prefix. The cost is
        // close to unimodal in the number escaped; stop after a run of steps without a gain.
        let directlyCoded = seen.filter { !escaped.contains($0) }
        var best = (escaped, coder, bits)
        var sinceGain = 0
        for k in 0..<max(0, directlyCoded.count - 1) where sinceGain < 12 {
            let trial = escaped.union(directlyCoded.prefix(k + 1))
            let trialCoder = table(weights(trial))
            let trialBits = cost(trialCoder)
            if trialBits < best.2 {
                best = (trial, trialCoder, trialBits)
                sinceGain = 0
            } else {
                sinceGain += 1
            }
        }
        (escaped, coder, bits) = best
        // Then escape any symbol whose own code still costs more than ESC plus the literal.
        for _ in 0..<32 {
            let perEntry: [Double]
            switch coder {
            case .huffman(let lengths): perEntry = lengths.map(Double.init)
            case .tans(let r, let c): perEntry = c.map { $0 == 0 ? .infinity : Double(r) - log2(Double($0)) }
            }
            let escapeCost = perEntry[n] + Double(layout.symbolBits)
            let more = (0..<n).filter { counts[$0] > 0 && !escaped.contains($0) && perEntry[$0] > escapeCost }
            guard !more.isEmpty else { break }
            let trial = escaped.union(more)
            let trialCoder = table(weights(trial))
            let trialBits = cost(trialCoder)
            guard trialBits < bits else { break }
            (escaped, coder, bits) = (trial, trialCoder, trialBits)
        }

        var members: [(key: String, value: JSONValue)] = [("by", .string("hwgen train"))]
        if let dtype = options.sourceDType { members.append(("dtype", .string(dtype))) }
        let provenance = JSONValue.object(members + [
            ("method", .string("single-stage: fixed codebook from the pooled histogram of \(sharded.shardCount) shard(s) of \(sharded.shardSize) values")),
            ("values", .number(text: "\(valueCount)", integer: Int64(valueCount))),
            ("bitsPerValue", .number(text: String(format: "%.6f", (bits + Double(valueCount * layout.rawBits)) / Double(valueCount)), integer: nil)),
            ("trainingHistogram", .array(counts.map { .number(text: "\($0)", integer: Int64($0)) })),
        ])
        let book = try Codebook(name: options.name, coder: coder, layout: layout, lanes: options.lanes, provenance: provenance)
        return TrainedCandidate(
            codebook: book, bits: bits + Double(valueCount * layout.rawBits), values: valueCount,
            entropyBitsPerValue: sharded.histogram.entropy + Double(layout.rawBits))
    }
}
