import Codec
import HDL

/// Picks the cores to generate for a codebook.
public enum CoreGenerator {
    /// The decoder and/or encoder modules for `codebook` (each with its submodules).
    /// - Throws: `ElaborationError` if a core fails its checks.
    /// `maxFrame` is the tANS encoder's MAX_FRAME (values it holds per frame).
    public static func modules(for codebook: Codebook, decoder: Bool = true, encoder: Bool = true,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame) throws -> [Module] {
        guard codebook.lanes == 1 else {
            throw CoreError.unsupported("codebook '\(codebook.name)' has \(codebook.lanes) lanes: the generated cores decode and encode one lane (version 1) so far; train with --lanes 1 for hardware")
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
