import Codec
import HDL

/// Picks the cores to generate for a codebook.
public enum CoreGenerator {
    /// The decoder and/or encoder modules for `codebook` (each with its submodules).
    /// - Throws: `ElaborationError` if a core fails its checks.
    /// `maxFrame` is the tANS encoder's MAX_FRAME (values it holds per frame).
    /// `valuesPerBeat` and `wordsPerBeat` are a K-lane decoder's P and Q (nil: its defaults; a
    /// K-lane Huffman decoder moves P = K values per beat, a K-lane tANS decoder P = 1; both
    /// also the other).
    public static func modules(for codebook: Codebook, decoder: Bool = true, encoder: Bool = true,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame, valuesPerBeat: Int? = nil,
                               wordsPerBeat: Int? = nil) throws -> [Module] {
        let k = codebook.lanes
        if k == 1 {
            if let q = wordsPerBeat, q != 1 {
                throw CoreError.unsupported("--words-per-beat \(q): a one-lane codebook's cores move one word per beat (section 8); Q > 1 needs a K-lane codebook")
            }
            if let p = valuesPerBeat, p != 1 {
                throw CoreError.unsupported("--values-per-beat \(p): a one-lane codebook's cores move one value per beat (section 8); P > 1 needs a K-lane codebook")
            }
        } else {
            var modules: [Module] = []
            if decoder { modules.append(try laneDecoder(codebook, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat)) }
            if encoder { modules.append(try laneEncoder(codebook, maxFrame: maxFrame, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat)) }
            return modules
        }
        var modules: [Module] = []
        switch codebook.coder {
        case .huffman:
            if decoder { modules.append(try HuffmanDecoderCore.module(codebook: codebook)) }
            if encoder { modules.append(try HuffmanEncoderCore.module(codebook: codebook)) }
        case .tans:
            if decoder { modules.append(try TANSDecoderCore.module(codebook: codebook)) }
            if encoder { modules.append(try TANSEncoderCore.module(codebook: codebook, maxFrame: maxFrame)) }
        }
        return modules
    }

    /// A K-lane decoder: Huffman at P = K (default) or P = 1, tANS at P = 1 (default) or P = K.
    static func laneDecoder(_ codebook: Codebook, valuesPerBeat: Int?, wordsPerBeat: Int?) throws -> Module {
        let k = codebook.lanes
        switch codebook.coder {
        case .huffman:
            if valuesPerBeat == 1 { return try pipelined(codebook, wordsPerBeat: wordsPerBeat) }
            if let p = valuesPerBeat, p != k {
                throw CoreError.unsupported("--values-per-beat \(p): the K-lane Huffman decoder moves P = K = \(k) values per beat, or P = 1 (pipelined), so far")
            }
            return try HuffmanLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        case .tans:
            if valuesPerBeat == k { return try TANSLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat) }
            if let p = valuesPerBeat, p != 1 {
                throw CoreError.unsupported("--values-per-beat \(p): the K-lane tANS decoder moves P = 1 value per beat (pipelined, the default) or P = K = \(k), so far")
            }
            return try pipelined(codebook, wordsPerBeat: wordsPerBeat)
        }
    }

    /// A K-lane encoder, either coder: P = Q = 1, or P = K.
    static func laneEncoder(_ codebook: Codebook, maxFrame: Int, valuesPerBeat: Int?, wordsPerBeat: Int?) throws -> Module {
        let k = codebook.lanes
        if valuesPerBeat == k { return try fullRateLaneEncoder(codebook, maxFrame: maxFrame, wordsPerBeat: wordsPerBeat) }
        if let p = valuesPerBeat, p != 1 {
            throw CoreError.unsupported("--values-per-beat \(p): the K-lane encoders take P = 1 or P = K = \(k) values per beat")
        }
        if let q = wordsPerBeat, q != 1 {
            throw CoreError.unsupported("--words-per-beat \(q): the K-lane encoders write Q = 1 word per beat so far (generate the decoder alone with --decoder)")
        }
        switch codebook.coder {
        case .huffman: return try HuffmanEncoderCore.module(codebook: codebook)
        case .tans: return try TANSEncoderCore.module(codebook: codebook, maxFrame: maxFrame)
        }
    }

    /// The K-lane decoder that moves P = K values per beat, of either coder.
    public static func fullRateLaneDecoder(_ codebook: Codebook, wordsPerBeat: Int? = nil) throws -> Module {
        switch codebook.coder {
        case .huffman: return try HuffmanLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        case .tans: return try TANSLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        }
    }

    /// The K-lane encoder that takes P = K values per beat, of either coder. tANS: MAX_FRAME must
    /// be a multiple of K; the default is rounded down to one.
    public static func fullRateLaneEncoder(_ codebook: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame, wordsPerBeat: Int? = nil) throws -> Module {
        switch codebook.coder {
        case .huffman: return try HuffmanRoundEncoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        case .tans:
            let k = codebook.lanes
            let frame = maxFrame == TANSEncoderCore.defaultMaxFrame ? max(k, maxFrame - maxFrame % k) : maxFrame
            return try TANSRoundEncoderCore.module(codebook: codebook, maxFrame: frame, wordsPerBeat: wordsPerBeat)
        }
    }

    /// The pipelined K-lane decoder (P = Q = 1).
    static func pipelined(_ codebook: Codebook, wordsPerBeat: Int?) throws -> Module {
        if let q = wordsPerBeat, q != 1 {
            throw CoreError.unsupported("--words-per-beat \(q): the pipelined K-lane decoder (P = 1) takes Q = 1 word per beat")
        }
        return try PipelinedLaneDecoderCore.module(codebook: codebook)
    }
}
