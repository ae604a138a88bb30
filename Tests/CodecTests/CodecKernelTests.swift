import Codec
import Foundation
import Testing
import TestSupport

/// The C inner loops (`CCodecKernels`: one-lane decoding of stored frames four at a time for
/// both coders, tANS encoding four frames at a time) against their Swift twins
/// (`InnerLoop.swift`) and the one-frame reference path, on random codebooks of every transform.
@Suite("C inner loops against the Swift loops (one lane)")
struct CodecKernelTests {
    /// A random tANS codebook of every transform; every third with a layout of at most 16 bits
    /// so the encode loop's value table exists.
    static func book(_ random: inout RandomCodebooks, trial: Int) -> Codebook {
        var book = random.codebook(coder: "tans", name: "k\(trial)")
        while trial % 3 != 2 && book.layout.valueBits > 16 { book = random.codebook(coder: "tans", name: "k\(trial)") }
        return book
    }

    @Test("frames encoded four at a time in C are the Swift loop's bytes and frame ends, and decode to their values on the one-frame path (frames of 0 to 3,000 values, groups of four and a tail)")
    func encodeFour() throws {
        var random = RandomCodebooks(seed: 2020)
        var grouped = 0
        for trial in 0..<48 {
            let book = Self.book(&random, trial: trial)
            let codec = StreamCodec(codebook: book)
            let sizes = (0..<(4 + trial % 6)).map { f in [0, 1, 2, 57, 700, 3000, 1500][(f * 3 + trial) % 7] }
            let values = random.values(count: sizes.reduce(0, +), for: book)
            let fast = try codec.encodeFrames(values[...], frameSizes: sizes)
            let swift = try codec.encodeFrames(values[...], frameSizes: sizes, loop: .swift)
            #expect(fast.bytes == swift.bytes, "trial \(trial) (\(book.layout), \(book.coder)): the C loop's bytes differ")
            #expect(fast.frameEnds == swift.frameEnds, "trial \(trial): frame ends")
            // Every frame decodes alone, on the one-frame path, to its values.
            var start = 0, byte = 0
            for (f, size) in sizes.enumerated() {
                let words = PaddedStream(Array(fast.bytes[byte..<fast.frameEnds[f]]))
                let decoded = try codec.decodeStoredFrame(words, valueCount: size)
                #expect(decoded == Array(values[start..<(start + size)]), "trial \(trial), frame \(f) of \(size) values")
                start += size
                byte = fast.frameEnds[f]
            }
            if book.layout.valueBits <= 16 { grouped += 1 }
        }
        #expect(grouped >= 30)
    }

    @Test("stored frames decoded four at a time in C give the Swift loop's values and the encoder's input (escapes, incomplete codes, raw fields of 0 to 31 bits, tableLog 5 to 15, codes of 1 to 16 bits)",
          arguments: ["tans", "huffman"])
    func decodeFour(coder: String) throws {
        var random = RandomCodebooks(seed: coder == "tans" ? 2021 : 2022)
        var checked = 0
        for trial in 0..<48 {
            let book = random.codebook(coder: coder, name: "d\(trial)")
            let codec = StreamCodec(codebook: book)
            let sizes = (0..<(4 + trial % 5)).map { f in trial % 4 == 0 ? [0, 1, 3, 40, 700, 3000][(f + trial) % 6] : [700, 3000, 1500, 2200][(f + trial) % 4] }
            let encoded = try InterleavedFramesTests.frames(book, sizes: sizes, random: &random)
            let frames = encoded.map { ($0.words, $0.values.count) }
            let fast = codec.decodeStoredFrames(frames)
            let swift = codec.decodeStoredFrames(frames, loop: .swift)
            for f in frames.indices {
                #expect((try? fast[f].get()) == encoded[f].values, "trial \(trial) (\(book.layout), \(book.coder)), frame \(f) of \(sizes[f]) values: the C loop")
                #expect((try? swift[f].get()) == encoded[f].values, "trial \(trial), frame \(f): the Swift loop")
                checked += 1
            }
        }
        #expect(checked > 250)
    }
}
