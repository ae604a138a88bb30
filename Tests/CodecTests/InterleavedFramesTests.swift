import Codec
import Foundation
import Testing
import TestSupport

/// Stored frames of one-lane streams of both coders decoded four at a time (`decodeStoredFrames`):
/// every frame's values are the encoder's input, and a damaged frame fails with exactly the
/// error the one-frame path names, the others decoding as before.
@Suite("Stored frames decoded four at a time (one lane, Huffman and tANS)")
struct InterleavedFramesTests {
    /// Frames of `sizes` values of `book`, encoded by the reference coder: (words, values) each.
    static func frames(_ book: Codebook, sizes: [Int], random: inout RandomCodebooks) throws -> [(words: PaddedStream, values: [UInt32])] {
        let codec = StreamCodec(codebook: book)
        return try sizes.map { size in
            let values = random.values(count: size, for: book)
            let bytes = try codec.encode(values, frameSizes: [size])
            return (PaddedStream(bytes), values)
        }
    }

    @Test("random codebooks of every transform (escapes, incomplete codes, long raw fields), frames of 0 to 3,000 values in groups of 4 and a tail (a planted error in the loop's value or ESC step fails it): each frame's values are its input",
          arguments: ["huffman", "tans"])
    func randomBooks(coder: String) throws {
        var random = RandomCodebooks(seed: coder == "tans" ? 171 : 71)
        var checked = 0
        for trial in 0..<60 {
            let book = random.codebook(coder: coder, name: "b\(trial)")
            // Mostly long frames (the four-frame loop runs while all four have 64 bits left);
            // every third trial with short and empty ones among them.
            let sizes = (0..<(4 + trial % 7)).map { f in trial % 3 == 0 ? [0, 1, 3, 40, 700, 3000][(f + trial) % 6] : [700, 3000, 1500, 2200][(f + trial) % 4] }
            let frames = try Self.frames(book, sizes: sizes, random: &random)
            let results = StreamCodec(codebook: book).decodeStoredFrames(frames.map { ($0.words, $0.values.count) })
            for (f, (frame, result)) in zip(frames, results).enumerated() {
                let values = try result.get()
                #expect(values == frame.values, "trial \(trial) (\(book.layout)), frame \(f) of \(frame.values.count) values")
                checked += 1
            }
        }
        #expect(checked > 300)
    }

    @Test("a frame with a flipped bit or the wrong value count fails as on the one-frame path; the frames beside it decode",
          arguments: ["huffman", "tans"])
    func damagedFrames(coder: String) throws {
        var random = RandomCodebooks(seed: coder == "tans" ? 172 : 72)
        var compared = 0
        for trial in 0..<40 {
            let book = random.codebook(coder: coder, name: "d\(trial)")
            let codec = StreamCodec(codebook: book)
            let frames = try Self.frames(book, sizes: [500, 800, 2000, 1200, 900], random: &random)
            let victim = trial % frames.count
            var stored = frames.map { ($0.words, $0.values.count) }
            var bytes = [UInt8](repeating: 0, count: frames[victim].words.byteCount)
            frames[victim].words.withBytes { bytes = Array($0) }
            if trial % 3 == 0 {
                stored[victim].1 += trial % 2 == 0 ? 1 : -1
            } else {
                let bit = Int(random.random.next() % UInt64(bytes.count * 8))
                bytes[bit / 8] ^= UInt8(0x80 >> (bit % 8))
                stored[victim].0 = PaddedStream(bytes)
            }
            let results = codec.decodeStoredFrames(stored)
            for (f, result) in results.enumerated() {
                let alone = Result { () throws(StoredFrameError) -> [UInt32] in try codec.decodeStoredFrame(stored[f].0, valueCount: stored[f].1) }
                switch (result, alone) {
                case (.success(let a), .success(let b)): #expect(a == b, "trial \(trial), frame \(f)")
                case (.failure(let a), .failure(let b)): #expect(a == b, "trial \(trial), frame \(f): \(a) against \(b)")
                default: Issue.record("trial \(trial), frame \(f): \(result) against the one-frame path's \(alone)")
                }
                if f != victim { #expect((try? result.get()) == frames[f].values, "trial \(trial): frame \(f) beside the damaged one") }
                compared += 1
            }
        }
        #expect(compared == 200)
    }
}
