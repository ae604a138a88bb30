import Foundation
import Testing
import Training

/// Writes a safetensors file from a header object text and data bytes; returns its path.
func writeSafetensors(header: String, data: [UInt8], headerLength: UInt64? = nil) throws -> String {
    let h = Array(header.utf8)
    let length = headerLength ?? UInt64(h.count)
    var bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
    bytes += h + data
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-\(UUID().uuidString).safetensors").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite("safetensors reading: good files, and every malformation a clear error")
struct SafetensorsTests {
    @Test("values of each dtype, in file order, selected by pattern")
    func readsValues() throws {
        let header = """
            {"__metadata__": {"k": "v"},
             "b": {"dtype": "U8", "shape": [3], "data_offsets": [8, 11]},
             "a": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}}
            """
        let path = try writeSafetensors(header: header, data: [0x80, 0x3F, 0x00, 0x40, 0x80, 0xBF, 0x01, 0x00, 7, 8, 9])
        let file = try SafetensorsFile(path: path)
        #expect(file.tensors.map(\.name) == ["a", "b"])
        #expect(try file.values(of: file.tensors[0]) == [0x3F80, 0x4000, 0xBF80, 0x0001])
        #expect(try file.select("^b$").map(\.name) == ["b"])
        #expect(throws: TensorFileError.self) { try file.select("nothing") }
        #expect(throws: TensorFileError.mixedDTypes(path: path, ["BF16", "U8"])) { try TensorValues.load(path: path) }
        let a = try TensorValues.load(path: path, tensors: "a")
        #expect(a.valueBits == 16 && a.all.count == 4)
    }

    @Test("F32 rounds to bf16 by round-to-nearest-even only when asked")
    func f32Rounding() throws {
        let floats: [Float] = [1.0, 1.00390625, 1.01171875, -2.5, .nan, .infinity]
        let bits = floats.map(\.bitPattern)
        #expect(bits.map { SafetensorsFile.bf16(fromF32Bits: $0) } == [0x3F80, 0x3F80, 0x3F82, 0xC020, 0x7FC0, 0x7F80])
        // Ties: 1 + 2^-8 is halfway between 0x3F80 and 0x3F81: even wins (0x3F80); 1 + 3 * 2^-8 goes up to 0x3F82.
        let data = bits.flatMap { b in (0..<4).map { UInt8(truncatingIfNeeded: b >> (8 * UInt32($0))) } }
        let path = try writeSafetensors(header: #"{"x": {"dtype": "F32", "shape": [6], "data_offsets": [0, 24]}}"#, data: data)
        #expect(try TensorValues.load(path: path).valueBits == 32)
        let rounded = try TensorValues.load(path: path, roundF32ToBF16: true)
        #expect(rounded.valueBits == 16)
        #expect(rounded.all == [0x3F80, 0x3F80, 0x3F82, 0xC020, 0x7FC0, 0x7F80])
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        let label: String
        let header: String
        let data: [UInt8]
        let headerLength: UInt64?
        let message: String
        var testDescription: String { label }
    }

    static let bad: [Bad] = [
        Bad(label: "header length past the end", header: "{}", data: [], headerLength: 1000, message: "header length 1000 runs past the end"),
        Bad(label: "offsets outside the data", header: #"{"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}"#, data: [1, 2], headerLength: nil, message: "outside the 2 bytes of data"),
        Bad(label: "overlapping tensors", header: #"{"x": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "y": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}}"#, data: [1, 2, 3], headerLength: nil, message: "overlap"),
        Bad(label: "unknown dtype", header: #"{"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 8), headerLength: nil, message: "dtype C64"),
        Bad(label: "shape and size disagree", header: #"{"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0], headerLength: nil, message: "needs 6 bytes"),
        Bad(label: "header not JSON", header: "{nope", data: [], headerLength: nil, message: "malformed safetensors header"),
        Bad(label: "missing data_offsets", header: #"{"x": {"dtype": "U8", "shape": [1]}}"#, data: [0], headerLength: nil, message: "needs data_offsets"),
    ]

    @Test("malformed files are errors naming the problem", arguments: bad)
    func malformed(_ b: Bad) throws {
        let path = try writeSafetensors(header: b.header, data: b.data, headerLength: b.headerLength)
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("accepted a malformed file")
        } catch {
            #expect(error.description.contains(b.message), "\(error)")
            #expect(error.description.hasPrefix(path))
        }
    }

    @Test("a truncated real file is an error, not a crash")
    func truncatedRealFile() throws {
        let source = try RealData.weightsPath()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        for cut in [4, 100, bytes.count / 2, bytes.count - 1] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(cut).safetensors").path
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            #expect(throws: TensorFileError.self) { try SafetensorsFile(path: path) }
        }
    }
}
