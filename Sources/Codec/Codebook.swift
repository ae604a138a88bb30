import Foundation

/// A codebook (FORMAT.md section 3): which coder, how values split into symbols and raw bits,
/// and the code lengths (Huffman) or counts (tANS) of the n + 2 entries.
public struct Codebook: Sendable, Equatable {
    /// The coder and its table.
    public enum Coder: Sendable, Equatable {
        /// Code length per entry, 0 (escaped) to 16.
        case huffman(codeLengths: [Int])
        /// tableLog R and the count per entry, summing to 2^R.
        case tans(tableLog: Int, counts: [Int])

        public var name: String {
            switch self {
            case .huffman: return "huffman"
            case .tans: return "tans"
            }
        }
    }

    /// The format tag of version 1 (one lane, no `lanes` key).
    public static let formatTag = "hwgen-codebook/1"
    /// The format tag of version 2 (FORMAT.md section 9: `lanes` required).
    public static let formatTagV2 = "hwgen-codebook/2"
    /// Lanes a version-2 codebook may have.
    public static let laneRange = 1...32

    public var name: String
    public var coder: Coder
    public var layout: ValueLayout
    /// K: a frame's entry j belongs to lane j mod K (1: version 1's single stream).
    public var lanes: Int
    /// Informative only: changes no bit.
    public var provenance: JSONValue?

    /// Makes a codebook and checks it against every rule of the format.
    public init(name: String, coder: Coder, layout: ValueLayout, lanes: Int = 1, provenance: JSONValue? = nil) throws(CodebookError) {
        self.name = name
        self.coder = coder
        self.layout = layout
        self.lanes = lanes
        self.provenance = provenance
        try validate()
    }

    public var symbolCount: Int { layout.symbolCount }
    /// Entry index of ESC.
    public var escape: Int { layout.symbolCount }
    /// Entry index of EOF.
    public var endOfFrame: Int { layout.symbolCount + 1 }

    /// Checks every rule of FORMAT.md section 3 except those of the JSON text itself.
    public func validate() throws(CodebookError) {
        guard Self.laneRange.contains(lanes) else {
            throw .invalid(key: "lanes", rule: "must be \(Self.laneRange.lowerBound) to \(Self.laneRange.upperBound), is \(lanes)")
        }
        guard Self.isValidName(name) else {
            throw .invalid(key: "name", rule: "'\(name)' must match [A-Za-z_][A-Za-z0-9_]*")
        }
        guard (1...12).contains(layout.symbolBits) else {
            throw .invalid(key: "symbolBits", rule: "must be 1 to 12, is \(layout.symbolBits)")
        }
        guard (0...(32 - layout.symbolBits)).contains(layout.rawBits) else {
            throw .invalid(key: "rawBits", rule: "must be 0 to 32 - symbolBits = \(32 - layout.symbolBits), is \(layout.rawBits)")
        }
        switch layout.transform {
        case .bf16Exponent where layout.symbolBits != 8 || layout.rawBits != 8:
            throw .invalid(key: "transform", rule: "bf16-exponent requires symbolBits 8 and rawBits 8")
        case .identity where layout.rawBits != 0:
            throw .invalid(key: "rawBits", rule: "the identity transform requires rawBits 0, is \(layout.rawBits)")
        default: break
        }
        let entries = layout.symbolCount + 2
        switch coder {
        case .huffman(let lengths):
            guard lengths.count == entries else {
                throw .invalid(key: "codeLengths", rule: "must have n + 2 = \(entries) entries for symbolBits \(layout.symbolBits), has \(lengths.count)")
            }
            if let bad = lengths.firstIndex(where: { !(0...16).contains($0) }) {
                throw .invalid(key: "codeLengths", rule: "entry \(bad) is \(lengths[bad]); lengths are 0 to 16")
            }
            guard lengths[escape] > 0 else { throw .invalid(key: "codeLengths", rule: "ESC (entry \(escape)) must have a non-zero length") }
            guard lengths[endOfFrame] > 0 else { throw .invalid(key: "codeLengths", rule: "EOF (entry \(endOfFrame)) must have a non-zero length") }
            let kraft = CanonicalCode.kraftSum(lengths)
            guard kraft <= 1 << 16 else {
                throw .invalid(key: "codeLengths", rule: "Kraft sum \(Double(kraft) / 65536) exceeds 1: no prefix code has these lengths")
            }
        case .tans(let tableLog, let counts):
            guard (5...15).contains(tableLog) else { throw .invalid(key: "tableLog", rule: "must be 5 to 15, is \(tableLog)") }
            guard counts.count == entries else {
                throw .invalid(key: "counts", rule: "must have n + 2 = \(entries) entries for symbolBits \(layout.symbolBits), has \(counts.count)")
            }
            if let bad = counts.firstIndex(where: { $0 < 0 }) {
                throw .invalid(key: "counts", rule: "entry \(bad) is negative (\(counts[bad]))")
            }
            guard counts[escape] > 0 else { throw .invalid(key: "counts", rule: "ESC (entry \(escape)) must have a non-zero count") }
            guard counts[endOfFrame] > 0 else { throw .invalid(key: "counts", rule: "EOF (entry \(endOfFrame)) must have a non-zero count") }
            // Counts come from a file: a sum past Int.max is simply not 2^tableLog.
            var sum = 0
            for c in counts {
                let (next, overflow) = sum.addingReportingOverflow(c)
                guard !overflow else {
                    throw .invalid(key: "counts", rule: "must sum to 2^tableLog = \(1 << tableLog), sum to more than \(Int.max)")
                }
                sum = next
            }
            guard sum == 1 << tableLog else {
                throw .invalid(key: "counts", rule: "must sum to 2^tableLog = \(1 << tableLog), sum to \(sum)")
            }
        }
    }

    /// Whether `name` is an identifier as codebook and set names must be ([A-Za-z_][A-Za-z0-9_]*).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        let letter = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" }
        return letter(first) && name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }
}

/// A codebook that breaks a rule of the format; the message names the key and the rule.
public enum CodebookError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(JSONSyntaxError)
    case notAnObject
    case missingKey(String)
    case unknownKey(String, reason: String)
    case wrongType(key: String, expected: String, found: String)
    case invalid(key: String, rule: String)

    public var description: String {
        switch self {
        case .syntax(let e): return "codebook: \(e)"
        case .notAnObject: return "codebook: the top level must be a JSON object"
        case .missingKey(let key): return "codebook: missing required key '\(key)'"
        case .unknownKey(let key, let reason): return "codebook: unknown key '\(key)': \(reason)"
        case .wrongType(let key, let expected, let found): return "codebook: '\(key)' must be \(expected), found \(found)"
        case .invalid(let key, let rule): return "codebook: '\(key)': \(rule)"
        }
    }
}

// MARK: JSON

/// The JSON shape of a codebook, decoded with Codable after the strict pre-pass.
private struct CodebookFile: Codable {
    var format: String
    var name: String
    var coder: String
    var transform: String
    var symbolBits: Int
    var rawBits: Int
    var codeLengths: [Int]?
    var tableLog: Int?
    var counts: [Int]?
    var lanes: Int?
}

extension Codebook {
    /// Parses and validates a codebook file.
    ///
    /// Beyond what `JSONDecoder` checks, a strict pre-pass rejects duplicate keys, unknown keys
    /// (a key of the other coder included) and numbers that are not integers (`8.0`).
    public static func parse(_ bytes: [UInt8]) throws(CodebookError) -> Codebook {
        let document: JSONValue
        do {
            document = try StrictJSON.parse(bytes)
        } catch {
            throw .syntax(error)
        }
        guard case .object(let members) = document else { throw .notAnObject }
        // `lanes` is a key of version 2 only.
        let isVersion2 = members.contains { $0.key == "format" && $0.value == .string(formatTagV2) }
        let common = ["format", "name", "coder", "transform", "symbolBits", "rawBits", "provenance"] + (isVersion2 ? ["lanes"] : [])
        let byCoder = ["huffman": ["codeLengths"], "tans": ["tableLog", "counts"]]
        var coderName: String?
        for (key, value) in members where key == "coder" {
            guard case .string(let s) = value else { throw .wrongType(key: "coder", expected: "a string", found: value.kindName) }
            guard byCoder[s] != nil else { throw .invalid(key: "coder", rule: "must be \"huffman\" or \"tans\", is \"\(s)\"") }
            coderName = s
        }
        guard let coderName else { throw .missingKey("coder") }
        let allowed = Set(common + (byCoder[coderName] ?? []))
        var provenance: JSONValue?
        for (key, value) in members {
            if key == "lanes" && !isVersion2 {
                throw .unknownKey("lanes", reason: "version 1 (\(formatTag)) has one lane and no 'lanes' key; lanes need \(formatTagV2)")
            }
            guard allowed.contains(key) else {
                let other = byCoder.first { $0.value.contains(key) }?.key
                throw .unknownKey(key, reason: other.map { "it belongs to the \($0) coder, this codebook is \(coderName)" }
                    ?? "allowed keys are \(allowed.sorted().joined(separator: ", "))")
            }
            if key == "provenance" { provenance = value; continue }
            try requireIntegers(value, key: key)
        }
        for key in common where key != "provenance" && key != "lanes" && !members.contains(where: { $0.key == key }) {
            throw .missingKey(key)
        }
        for key in byCoder[coderName] ?? [] where !members.contains(where: { $0.key == key }) {
            throw .missingKey(key)
        }

        let file: CodebookFile
        do {
            file = try JSONDecoder().decode(CodebookFile.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(type, context) {
            throw .wrongType(key: keyPath(context), expected: describe(type), found: "a value of another type")
        } catch let DecodingError.valueNotFound(type, context) {
            throw .wrongType(key: keyPath(context), expected: describe(type), found: "null")
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(key.stringValue)
        } catch {
            throw .invalid(key: "(document)", rule: "\(error)")
        }
        let lanes: Int
        switch file.format {
        case formatTag:
            guard file.lanes == nil else {
                throw .unknownKey("lanes", reason: "version 1 (\(formatTag)) has one lane and no 'lanes' key; lanes need \(formatTagV2)")
            }
            lanes = 1
        case formatTagV2:
            guard let count = file.lanes else { throw .missingKey("lanes") }
            lanes = count
        default:
            throw .invalid(key: "format", rule: "must be \"\(formatTag)\" or \"\(formatTagV2)\", is \"\(file.format)\"")
        }
        guard let transform = Transform(rawValue: file.transform) else {
            throw .invalid(key: "transform", rule: "must be identity, split or bf16-exponent, is \"\(file.transform)\"")
        }
        let coder: Coder
        if coderName == "huffman" {
            coder = .huffman(codeLengths: file.codeLengths ?? [])
        } else {
            coder = .tans(tableLog: file.tableLog ?? 0, counts: file.counts ?? [])
        }
        let layout = ValueLayout(transform: transform, symbolBits: file.symbolBits, rawBits: file.rawBits)
        return try Codebook(name: file.name, coder: coder, layout: layout, lanes: lanes, provenance: provenance)
    }

    /// Reads and parses a codebook file.
    public static func load(path: String) throws -> Codebook {
        try parse(try loadText(path: path))
    }

    /// The bytes of a codebook file (at most `limit`: `StreamLimits.maxCodebookBytes`, or a set
    /// file's bound).
    public static func loadText(path: String, limit: Int = StreamLimits.maxCodebookBytes) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CodecIOError.unreadable(path: path) }
        defer { try? handle.close() }
        let data: Data?
        do {
            data = try handle.read(upToCount: limit + 1)
        } catch {
            throw CodecIOError.unreadable(path: path)
        }
        let bytes = Array(data ?? Data())
        guard bytes.count <= limit else {
            throw CodecIOError.tooLarge(path: path, limit: limit)
        }
        return bytes
    }

    /// The coding fields in one canonical line (FORMAT.md, "Codebook fingerprint"): the JSON
    /// object of `coder`, `transform`, `symbolBits`, `rawBits`, `lanes`, then `codeLengths` or
    /// `tableLog` and `counts`, in that order, without spaces. Two codebooks that code the same
    /// bits have the same line whatever their names, provenance, key order or spacing.
    public var canonicalCodingText: String {
        var text = "{\"coder\":\"\(coder.name)\",\"transform\":\"\(layout.transform.rawValue)\",\"symbolBits\":\(layout.symbolBits),\"rawBits\":\(layout.rawBits),\"lanes\":\(lanes),"
        switch coder {
        case .huffman(let lengths): text += "\"codeLengths\":[\(lengths.map(String.init).joined(separator: ","))]}"
        case .tans(let r, let counts): text += "\"tableLog\":\(r),\"counts\":[\(counts.map(String.init).joined(separator: ","))]}"
        }
        return text
    }

    /// The codebook's fingerprint: the CRC-32C (FORMAT.md section 11's CRC) of the UTF-8 bytes
    /// of `canonicalCodingText`. Generated cores state it in their header.
    public var fingerprint: UInt32 { CRC32C.checksum(of: Array(canonicalCodingText.utf8)) }

    /// The first field in which `other` codes differently (coder, transform, symbolBits,
    /// rawBits, codeLengths, tableLog, counts), or nil when both code the same bits; the name and
    /// the provenance do not count.
    public func codingDifference(from other: Codebook) -> String? {
        if lanes != other.lanes { return "lanes" }
        if layout.transform != other.layout.transform { return "transform" }
        if layout.symbolBits != other.layout.symbolBits { return "symbolBits" }
        if layout.rawBits != other.layout.rawBits { return "rawBits" }
        switch (coder, other.coder) {
        case (.huffman(let a), .huffman(let b)):
            return a == b ? nil : "codeLengths"
        case (.tans(let ra, let ca), .tans(let rb, let cb)):
            if ra != rb { return "tableLog" }
            return ca == cb ? nil : "counts"
        default:
            return "coder"
        }
    }

    private static func requireIntegers(_ value: JSONValue, key: String) throws(CodebookError) {
        switch value {
        case .number(let text, let integer):
            if integer == nil { throw .wrongType(key: key, expected: "an integer", found: "\(text)") }
        case .array(let items):
            for (i, item) in items.enumerated() {
                if case .number(let text, nil) = item { throw .wrongType(key: "\(key)[\(i)]", expected: "an integer", found: text) }
                if case .bool(let b) = item { throw .wrongType(key: "\(key)[\(i)]", expected: "an integer", found: "\(b)") }
            }
        case .bool(let b) where key != "provenance":
            throw .wrongType(key: key, expected: key == "name" || key == "format" || key == "transform" ? "a string" : "an integer", found: "\(b)")
        default: break
        }
    }

    private static func keyPath(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    private static func describe(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Int.self { return "an integer" }
        if type == [Int].self { return "an array of integers" }
        return "\(type)"
    }

    /// The codebook as JSON, keys in the order of FORMAT.md, one line per key: version 1 for
    /// one lane, version 2 with `lanes` for more.
    public func jsonText() -> String {
        var lines = [
            "  \"format\": \(JSONValue.quote(lanes == 1 ? Self.formatTag : Self.formatTagV2))",
            "  \"name\": \(JSONValue.quote(name))",
            "  \"coder\": \(JSONValue.quote(coder.name))",
            "  \"transform\": \(JSONValue.quote(layout.transform.rawValue))",
            "  \"symbolBits\": \(layout.symbolBits)",
            "  \"rawBits\": \(layout.rawBits)",
        ]
        if lanes > 1 { lines.append("  \"lanes\": \(lanes)") }
        switch coder {
        case .huffman(let lengths):
            lines.append("  \"codeLengths\": [\(lengths.map(String.init).joined(separator: ", "))]")
        case .tans(let tableLog, let counts):
            lines.append("  \"tableLog\": \(tableLog)")
            lines.append("  \"counts\": [\(counts.map(String.init).joined(separator: ", "))]")
        }
        if let provenance { lines.append("  \"provenance\": \(provenance.text)") }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }
}

/// A file that could not be read or written.
public enum CodecIOError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case tooLarge(path: String, limit: Int)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read \(path)"
        case .tooLarge(let path, let limit): return "\(path): larger than the \(limit) bytes a codebook may have"
        case .unwritable(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
