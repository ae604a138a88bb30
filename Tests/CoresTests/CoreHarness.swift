import Codec
import Foundation
import HDL
import TestSupport
import VerilatorBridge

/// Shared plumbing for proving cores against the reference coder through Verilator.
enum CoreHarness {
    /// Stream words (big-endian bytes to 32-bit words).
    static func words(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            UInt64(bytes[i]) << 24 | UInt64(bytes[i + 1]) << 16 | UInt64(bytes[i + 2]) << 8 | UInt64(bytes[i + 3])
        }
    }

    /// The reference stream of `values` cut into `frameSizes` (all non-empty), as words, with
    /// tlast on the last word of each frame.
    static func referenceWords(_ codec: StreamCodec, _ values: [UInt32], frameSizes: [Int]) throws -> (words: [UInt64], last: [Bool]) {
        var words: [UInt64] = [], last: [Bool] = []
        var start = 0
        for size in frameSizes {
            let frame = Array(values[start..<(start + size)])
            let w = CoreHarness.words(try codec.encode(frame, frameSizes: [size]))
            words += w
            last += w.indices.map { $0 == w.count - 1 }
            start += size
        }
        return (words, last)
    }

    /// A tANS codebook whose EOF holds 22 of 32 states: EOF's entry often reads no bits (nb =
    /// 0), so a frame's bits can end on a word boundary before its last step.
    static func eofHeavyTANS(name: String) throws -> Codebook {
        try Codebook(name: name, coder: .tans(tableLog: 5, counts: [3, 3, 2, 0, 2, 22]),
                     layout: ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
    }

    /// tlast per value for frames of `frameSizes`.
    static func lastFlags(frameSizes: [Int]) -> [Bool] {
        frameSizes.flatMap { size in (0..<size).map { $0 == size - 1 } }
    }

    /// Random non-empty frame sizes adding up to `count`.
    static func randomFrames(_ count: Int, maxFrame: Int, random: inout SeededRandom) -> [Int] {
        var sizes: [Int] = []
        var left = count
        while left > 0 {
            let s = min(left, 1 + Int(random.next() % UInt64(maxFrame)))
            sizes.append(s)
            left -= s
        }
        return sizes
    }
}
