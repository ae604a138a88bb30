import Codec
import Testing
import TestSupport

@Suite("FORMAT.md conformance vectors")
struct ConformanceTests {
    static let vectors: [ConformanceVector] = (try? ConformanceVector.all()) ?? []

    @Test("all 21 vectors are present, 14-21 with lanes")
    func present() {
        #expect(Self.vectors.count == 21)
        let withLanes: [String] = Self.vectors.filter { $0.hasLanes }.map { String($0.name.prefix(2)) }
        let expected: [String] = (14...21).map { String($0) }
        #expect(withLanes == expected)
    }

    @Test("encode gives stream.hex byte for byte", arguments: vectors)
    func encode(_ vector: ConformanceVector) throws {
        let codebook = try Codebook.parse(vector.codebookBytes)
        let stream = try StreamCodec(codebook: codebook).encode(vector.values, frameSizes: vector.frameSizes)
        #expect(stream == vector.stream)
    }

    @Test("decode gives values.hex and the frame ends", arguments: vectors)
    func decode(_ vector: ConformanceVector) throws {
        let codebook = try Codebook.parse(vector.codebookBytes)
        let decoded = try StreamCodec(codebook: codebook).decode(vector.stream)
        #expect(decoded.values == vector.values)
        #expect(decoded.frameSizes == vector.frameSizes)
    }
}
