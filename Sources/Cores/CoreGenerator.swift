import Codec
import HDL

/// Picks the cores to generate for a codebook.
public enum CoreGenerator {
    /// The decoder and/or encoder modules for `codebook` (each with its submodules).
    /// - Throws: `CoreError.unsupported` for tANS codebooks (their cores are not written yet),
    ///   `ElaborationError` if a core fails its checks.
    public static func modules(for codebook: Codebook, decoder: Bool = true, encoder: Bool = true) throws -> [Module] {
        guard case .huffman = codebook.coder else {
            throw CoreError.unsupported("hardware for \(codebook.coder.name) codebooks is not generated yet; hwgen generates Huffman cores")
        }
        var modules: [Module] = []
        if decoder { modules.append(try HuffmanDecoderCore.module(codebook: codebook)) }
        if encoder { modules.append(try HuffmanEncoderCore.module(codebook: codebook)) }
        return modules
    }
}
