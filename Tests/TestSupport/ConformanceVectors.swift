import Codec
import Foundation

/// One conformance vector of FORMAT.md (a copy of ../shared/spec/vectors lives in Resources).
public struct ConformanceVector: CustomTestStringConvertible, Sendable {
    public let name: String
    public let codebookBytes: [UInt8]
    public let values: [UInt32]
    public let frameSizes: [Int]
    public let stream: [UInt8]
    /// The stream file of section 11 (`file.hex`).
    public let file: [UInt8]

    public var testDescription: String { name }

    /// A version-2 case with more than one lane (cases 14-21).
    public var hasLanes: Bool { ((try? Codebook.parse(codebookBytes))?.lanes ?? 1) > 1 }

    static let directory: URL = {
        guard let url = Bundle.module.url(forResource: "vectors", withExtension: nil) else {
            fatalError("the vectors resource is missing from the test bundle")
        }
        return url
    }()

    /// The vectors of one codebook (01-21); the set vector (22) is `SetVector`.
    public static func all() throws -> [ConformanceVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).appendingPathComponent("codebook.json").path) }
            .sorted()
        return try names.map { try load($0) }
    }

    static func load(_ name: String) throws -> ConformanceVector {
        let dir = directory.appendingPathComponent(name)
        return ConformanceVector(
            name: name,
            codebookBytes: Array(try Data(contentsOf: dir.appendingPathComponent("codebook.json"))),
            values: try hexWords(dir, "values.hex"),
            frameSizes: try lines(dir, "frames.txt").compactMap { Int($0) },
            stream: bytes(try hexWords(dir, "stream.hex")),
            file: bytes(try hexWords(dir, "file.hex")))
    }

    /// The non-empty lines of a vector's text file, trimmed.
    static func lines(_ dir: URL, _ file: String) throws -> [String] {
        try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A `.hex` file's 32-bit words, one a line.
    static func hexWords(_ dir: URL, _ file: String) throws -> [UInt32] {
        try lines(dir, file).compactMap { UInt32($0, radix: 16) }
    }

    /// Stream words as bytes, the first stream bit first (section 4).
    static func bytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 & 0xFF)] }
    }
}

/// Vector 22 (FORMAT.md section 13): set files to accept or refuse, and one stream of frames
/// coded by the members of `good-huffman-32bit.json`, each frame's id in `ids.txt`.
public struct SetVector: Sendable {
    /// Each `good-*.json` and `bad-*.json`, by file name.
    public let files: [(name: String, bytes: [UInt8])]
    public let values: [UInt32]
    public let frameSizes: [Int]
    public let ids: [Int]
    public let stream: [UInt8]

    public static func load() throws -> SetVector {
        let dir = ConformanceVector.directory.appendingPathComponent("22-codebook-sets")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        return SetVector(
            files: try names.map { ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0)))) },
            values: try ConformanceVector.hexWords(dir, "values.hex"),
            frameSizes: try ConformanceVector.lines(dir, "frames.txt").compactMap { Int($0) },
            ids: try ConformanceVector.lines(dir, "ids.txt").compactMap { Int($0) },
            stream: ConformanceVector.bytes(try ConformanceVector.hexWords(dir, "stream.hex")))
    }
}

import Testing
