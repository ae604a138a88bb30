import Codec

/// A Huffman codebook as the cores need it: lengths, canonical codes, ESC and EOF indices.
struct HuffmanTables {
    let layout: ValueLayout
    let lengths: [Int]
    let code: CanonicalCode
    /// Entry index of ESC (n) and of EOF (n + 1).
    let escape: Int
    let endOfFrame: Int

    /// - Throws: `CoreError.wrongCoder` for a tANS codebook.
    init(_ codebook: Codebook) throws {
        guard case .huffman(let lengths) = codebook.coder else {
            throw CoreError.wrongCoder(expected: "huffman", found: codebook.coder.name)
        }
        layout = codebook.layout
        self.lengths = lengths
        code = CanonicalCode(lengths: lengths)
        escape = layout.symbolCount
        endOfFrame = layout.symbolCount + 1
    }
}
