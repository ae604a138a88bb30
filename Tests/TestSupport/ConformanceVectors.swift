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
        func lines(_ file: String) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let words = try lines("stream.hex").compactMap { UInt32($0, radix: 16) }
        let fileWords = try lines("file.hex").compactMap { UInt32($0, radix: 16) }
        func bytes(_ words: [UInt32]) -> [UInt8] {
            words.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 & 0xFF)] }
        }
        return ConformanceVector(
            name: name,
            codebookBytes: Array(try Data(contentsOf: dir.appendingPathComponent("codebook.json"))),
            values: try lines("values.hex").compactMap { UInt32($0, radix: 16) },
            frameSizes: try lines("frames.txt").compactMap { Int($0) },
            stream: bytes(words),
            file: bytes(fileWords))
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
        func lines(_ file: String) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        let words = try lines("stream.hex").compactMap { UInt32($0, radix: 16) }
        return SetVector(
            files: try names.map { ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0)))) },
            values: try lines("values.hex").compactMap { UInt32($0, radix: 16) },
            frameSizes: try lines("frames.txt").compactMap { Int($0) },
            ids: try lines("ids.txt").compactMap { Int($0) },
            stream: words.flatMap { [UInt8($0 >> 24), UInt8($0 >> 16 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 & 0xFF)] })
    }
}

import Testing
