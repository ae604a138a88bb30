import Codec
import Cores
import HDL
import Testing
import TestSupport

@Suite("Generated cores are lint-clean and accepted by Icarus")
struct EncoderLintTests {
    @Test("verilator --lint-only -Wall and iverilog -g2005 on the encoder of every Huffman vector codebook")
    func lint() throws {
        for c in try EncoderLibrary.cases.get().prefix(12) {
            try ExternalTools.lint(c.module)
            try ExternalTools.icarusCompile(c.module)
        }
    }

    @Test("verilator --lint-only -Wall and iverilog -g2005 on the decoder of every Huffman vector codebook")
    func lintDecoders() throws {
        for c in try DecoderLibrary.cases.get().prefix(12) {
            try ExternalTools.lint(c.module)
            try ExternalTools.icarusCompile(c.module)
        }
    }
}
