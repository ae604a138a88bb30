import Codec
import Testing
import TestSupport

@Suite("Reference coders: round trips, the worked example, corrupt streams")
struct RoundTripTests {
    @Test("random codebooks, transforms and frame sizes round-trip exactly")
    func randomRoundTrips() throws {
        var gen = RandomCodebooks(seed: 2024)
        for _ in 0..<TestScale.pick(quick: 200, long: 5000) {
            let book = gen.codebook()
            let codec = StreamCodec(codebook: book)
            let values = gen.values(count: Int(gen.random.next() % 700), for: book)
            var sizes: [Int] = []
            var left = values.count
            while left > 0 || sizes.isEmpty {
                let s = min(left, Int(gen.random.next() % 90))
                sizes.append(s)
                left -= s
            }
            let stream = try codec.encode(values, frameSizes: sizes)
            #expect(stream.count % 4 == 0)
            let decoded = try codec.decode(stream)
            #expect(decoded.values == values, "\(book.jsonText())")
            #expect(decoded.frameSizes == sizes)
            if decoded.values != values { return }
        }
    }

    @Test("tANS tables match the worked example of vector 02 (spread, nb, base)")
    func tansWorkedExample() {
        let tables = TANSTables(tableLog: 5, counts: [12, 9, 0, 0, 6, 5])
        let names = ["s0", "s1", "s2", "s3", "ESC", "EOF"]
        #expect(tables.symbol.map { names[Int($0)] }.joined(separator: " ")
                == "s0 s0 s1 ESC EOF s0 s0 s1 ESC EOF s0 s1 s1 EOF s0 s0 s1 ESC EOF s0 s1 s1 ESC s0 s0 s1 ESC EOF s0 s0 s1 ESC")
        #expect(tables.bitCount.map(Int.init) == [2, 2, 2, 3, 3, 2, 2, 2, 3, 3, 1, 2, 2, 3, 1, 1, 2, 2, 2, 1, 2, 2, 2, 1, 1, 1, 2, 2, 1, 1, 1, 2])
        #expect(tables.base.map(Int.init) == [16, 20, 4, 16, 8, 24, 28, 8, 24, 16, 0, 12, 16, 24, 2, 4, 20, 0, 0, 6, 24, 28, 4, 8, 10, 0, 8, 4, 12, 14, 2, 12])
    }

    @Test("the hand-checked streams of vectors 01 and 02")
    func handChecked() throws {
        let huffman = try Codebook(name: "h", coder: .huffman(codeLengths: [1, 2, 0, 0, 3, 3]),
                                   layout: ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
        #expect(try StreamCodec(codebook: huffman).encode([0, 1, 3, 0], frameSizes: [4, 0])
                == [0x5b, 0x70, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00])
        let tans = try Codebook(name: "t", coder: .tans(tableLog: 5, counts: [12, 9, 0, 0, 6, 5]),
                                layout: ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
        #expect(try StreamCodec(codebook: tans).encode([0, 1, 0, 3, 0], frameSizes: [5]) == [0x2a, 0x4e, 0x00, 0x00])
    }

    @Test("canonical codes follow DEFLATE's rule")
    func canonical() {
        let code = CanonicalCode(lengths: [3, 3, 3, 3, 3, 2, 4, 4])
        // RFC 1951 section 3.2.2 example: F=00, A=010, B=011, C=100, D=101, E=110, G=1110, H=1111.
        #expect(code.codes == [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111])
    }

    @Test("bit flips and random bytes give an error or valid values: no crash, no hang")
    func corruptStreams() throws {
        var gen = RandomCodebooks(seed: 77)
        var errors = 0, decoded = 0
        for round in 0..<TestScale.pick(quick: 200, long: 5000) {
            let book = gen.codebook()
            let codec = StreamCodec(codebook: book)
            var stream: [UInt8]
            if round % 3 == 0 {
                stream = (0..<Int(gen.random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: gen.random.next()) }
            } else {
                let values = gen.values(count: 1 + Int(gen.random.next() % 200), for: book)
                stream = try codec.encode(values, frameSize: 1 + Int(gen.random.next() % 100))
                for _ in 0..<(1 + Int(gen.random.next() % 3)) {
                    let bit = Int(gen.random.next() % UInt64(stream.count * 8))
                    stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                }
                if round % 5 == 0 { stream.removeLast(Int(gen.random.next() % UInt64(stream.count))) }
            }
            do {
                let result = try codec.decode(stream)
                let valueBits = book.layout.valueBits
                #expect(result.values.allSatisfy { valueBits == 32 || $0 >> UInt32(valueBits) == 0 })
                decoded += 1
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
    }

    @Test("a corrupt stream names the frame")
    func corruptMessage() throws {
        let tans = try Codebook(name: "t", coder: .tans(tableLog: 5, counts: [12, 9, 0, 0, 6, 5]),
                                layout: ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
        let codec = StreamCodec(codebook: tans)
        var stream = try codec.encode([0, 1, 0, 3, 0, 1, 1, 0], frameSizes: [5, 3])
        stream[4] ^= 0x40  // second frame's initial state
        #expect(throws: StreamError.self) { try codec.decode(stream) }
        do {
            _ = try codec.decode(stream)
        } catch {
            #expect(error.description.contains("frame 2"))
        }
        let truncated = Array(try codec.encode([0, 1, 0, 3, 0], frameSizes: [5]).prefix(1))
        #expect(throws: StreamError.corruptFrame(frame: 1, .truncated(bit: 8))) { try codec.decode(truncated) }
    }

    @Test("values wider than valueBits are refused by the encoder")
    func tooWide() throws {
        let book = try Codebook(name: "h", coder: .huffman(codeLengths: [1, 2, 0, 0, 3, 3]),
                                layout: ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
        #expect(throws: StreamError.valueTooWide(index: 1, value: 4, valueBits: 2)) {
            try StreamCodec(codebook: book).encode([1, 4], frameSize: 8)
        }
    }
}
