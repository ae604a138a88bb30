import Codec
import HDL

/// Picks the cores to generate for a codebook.
public enum CoreGenerator {
    /// The decoder and/or encoder modules for `codebook` (each with its submodules).
    /// - Throws: `ElaborationError` if a core fails its checks.
    /// `maxFrame` is the tANS encoder's MAX_FRAME (values it holds per frame).
    /// `wordsPerBeat` is a K-lane decoder's Q (nil: its default).
    public static func modules(for codebook: Codebook, decoder: Bool = true, encoder: Bool = true,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame, wordsPerBeat: Int? = nil) throws -> [Module] {
        if codebook.lanes == 1, let q = wordsPerBeat, q != 1 {
            throw CoreError.unsupported("--words-per-beat \(q): a one-lane codebook's cores move one word per beat (section 8); Q > 1 needs a K-lane codebook")
        }
        guard codebook.lanes == 1 else {
            // K lanes: the Huffman decoder (P = K values per beat) so far.
            if case .huffman = codebook.coder, decoder && !encoder {
                return [try HuffmanLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)]
            }
            let what = codebook.coder.name == "huffman" ? "a K-lane Huffman encoder" : "K-lane tANS cores"
            throw CoreError.unsupported("codebook '\(codebook.name)' has \(codebook.lanes) lanes: hwgen does not generate \(what) yet; the K-lane Huffman decoder is there (--decoder), or train with --lanes 1 for every core")
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
}
