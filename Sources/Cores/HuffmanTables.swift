import Codec

/// A Huffman codebook as the cores need it: lengths, canonical codes, ESC and EOF indices.
struct HuffmanTables {
    let layout: ValueLayout
    let lengths: [Int]
    let code: CanonicalCode
    /// Entry index of ESC (n) and of EOF (n + 1).
    let escape: Int
    let endOfFrame: Int
    /// The code is complete (Kraft sum exactly 1): every bit pattern starts a code.
    var isComplete: Bool {
        let longest = lengths.max() ?? 0
        guard longest > 0, longest < 63 else { return false }
        return lengths.filter { $0 > 0 }.reduce(UInt64(0)) { $0 + (UInt64(1) << UInt64(longest - $1)) } == UInt64(1) << UInt64(longest)
    }

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
