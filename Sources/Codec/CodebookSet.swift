/// A codebook set (FORMAT.md section 13): up to 256 codebooks of one coder, one value width and
/// one lane count, a codebook's id being its index. A stream coded with a set is section 5's
/// frames, each coded by the member its id names, concatenated.
public struct CodebookSet: Sendable, Equatable {
    public static let formatTag = "hwgen-codebook-set/1"
    /// The most codebooks a set holds (ids fit in 8 bits).
    public static let maxMembers = 256

    public let name: String
    /// The codebooks in id order.
    public let members: [Codebook]

    /// Checks section 13's rules: 1 to 256 members, distinct names, one coder, one value width,
    /// one lane count.
    public init(name: String, members: [Codebook]) throws(CodebookSetError) {
        guard Codebook.isValidName(name) else { throw .invalid(rule: "the set's name '\(name)' must match [A-Za-z_][A-Za-z0-9_]*") }
        guard !members.isEmpty else { throw .invalid(rule: "a set holds 1 to \(Self.maxMembers) codebooks, this one none") }
        guard members.count <= Self.maxMembers else {
            throw .invalid(rule: "a set holds 1 to \(Self.maxMembers) codebooks, this one \(members.count)")
        }
        let first = members[0]
        var names: [String: Int] = [:]
        for (id, book) in members.enumerated() {
            if let earlier = names[book.name] {
                throw .invalid(rule: "codebooks \(earlier) and \(id) are both named '\(book.name)': names must be distinct")
            }
            names[book.name] = id
            guard book.coder.name == first.coder.name else {
                throw .invalid(rule: "codebook \(id) ('\(book.name)') is \(book.coder.name), codebook 0 is \(first.coder.name): one coder per set")
            }
            guard book.layout.valueBits == first.layout.valueBits else {
                throw .invalid(rule: "codebook \(id) ('\(book.name)') codes \(book.layout.valueBits)-bit values, codebook 0 \(first.layout.valueBits)-bit: one value width per set")
            }
            guard book.lanes == first.lanes else {
                throw .invalid(rule: "codebook \(id) ('\(book.name)') has \(book.lanes) lane(s), codebook 0 \(first.lanes): one lane count per set")
            }
        }
        self.name = name
        self.members = members
    }

    /// Bits of an id on `s_axis_tuser`: ceil(log2 M), at least 1.
    public var idBits: Int {
        var bits = 1
        while (1 << bits) < members.count { bits += 1 }
        return bits
    }

    /// Parses and checks a set file. Members are parsed as codebook files of their own (section 3).
    public static func parse(_ bytes: [UInt8]) throws(CodebookSetError) -> CodebookSet {
        let document: JSONValue
        do {
            document = try StrictJSON.parse(bytes)
        } catch {
            throw .syntax(error)
        }
        guard case .object(let keys) = document else { throw .invalid(rule: "the top level must be a JSON object") }
        var format: String?, name: String?, books: [JSONValue]?
        for (key, value) in keys {
            switch (key, value) {
            case ("format", .string(let s)): format = s
            case ("name", .string(let s)): name = s
            case ("codebooks", .array(let items)): books = items
            case ("format", _), ("name", _):
                throw .invalid(rule: "'\(key)' must be a string, found \(value.kindName)")
            case ("codebooks", _):
                throw .invalid(rule: "'codebooks' must be an array, found \(value.kindName)")
            default:
                throw .invalid(rule: "unknown key '\(key)': a set has format, name and codebooks")
            }
        }
        guard let format else { throw .invalid(rule: "missing required key 'format'") }
        guard format == formatTag else { throw .invalid(rule: "'format' must be \"\(formatTag)\", is \"\(format)\"") }
        guard let name else { throw .invalid(rule: "missing required key 'name'") }
        guard let books else { throw .invalid(rule: "missing required key 'codebooks'") }
        guard books.count <= maxMembers else { throw .invalid(rule: "a set holds 1 to \(maxMembers) codebooks, this one \(books.count)") }
        var members: [Codebook] = []
        for (id, item) in books.enumerated() {
            do {
                members.append(try Codebook.parse(Array(item.text.utf8)))
            } catch {
                throw .member(id: id, error)
            }
        }
        return try CodebookSet(name: name, members: members)
    }

    /// Bytes of a set file (16 times a codebook's bound: sets of many small codebooks).
    public static let maxBytes = 16 * StreamLimits.maxCodebookBytes

    /// Reads and parses a set file (at most `maxBytes`).
    public static func load(path: String) throws -> CodebookSet {
        try parse(try Codebook.loadText(path: path, limit: maxBytes))
    }

    /// The set file's text: its members as `Codebook.jsonText` writes them, in id order.
    public func jsonText() -> String {
        let books = members.map { book in
            book.jsonText().split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        }
        return "{\n  \"format\": \(JSONValue.quote(Self.formatTag)),\n  \"name\": \(JSONValue.quote(name)),\n  \"codebooks\": [\n"
            + books.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// The member an id names, or an error naming the id.
    public func member(_ id: Int) throws(CodebookSetError) -> Codebook {
        guard members.indices.contains(id) else { throw .unknownId(id, count: members.count) }
        return members[id]
    }

    /// Codes frame k of `values` (`frameSizes[k]` values) with member `ids[k]`, frames
    /// concatenated: the stream a set's encoder writes.
    public func encodeFrames(_ values: [UInt32], frameSizes: [Int], ids: [Int]) throws -> EncodedFrames {
        guard frameSizes.count == ids.count else { throw CodebookSetError.invalid(rule: "\(frameSizes.count) frames but \(ids.count) ids") }
        guard frameSizes.allSatisfy({ $0 >= 0 }), frameSizes.reduce(0, +) == values.count else {
            throw CodebookSetError.invalid(rule: "the frame sizes do not add up to the \(values.count) values")
        }
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var start = 0
        for (size, id) in zip(frameSizes, ids) {
            bytes += try StreamCodec(codebook: try member(id)).encodeFrames(values[start..<start + size], frameSizes: [size]).bytes
            ends.append(bytes.count)
            start += size
        }
        return EncodedFrames(bytes: bytes, frameEnds: ends)
    }

    /// Decodes the frames of `bytes`, frame k with member `ids[k]`: the values a set's decoder
    /// gives, and each frame's size. The stream must end where the last frame does.
    public func decodeFrames(_ bytes: [UInt8], ids: [Int]) throws -> DecodedStream {
        let stream = PaddedStream(bytes)
        var values: [UInt32] = [], sizes: [Int] = []
        var offset = 0
        for id in ids {
            let (frame, end) = try StreamCodec(codebook: try member(id)).decodeFrame(at: stream, byteOffset: offset)
            values += frame
            sizes.append(frame.count)
            offset = end
        }
        guard offset == bytes.count else {
            throw CodebookSetError.invalid(rule: "\(bytes.count - offset) bytes after the last of the \(ids.count) frames")
        }
        return DecodedStream(values: values, frameSizes: sizes)
    }
}

/// Why a set file or a set's stream was refused, naming the rule.
public enum CodebookSetError: Error, Sendable, Equatable, CustomStringConvertible {
    case syntax(JSONSyntaxError)
    case invalid(rule: String)
    case member(id: Int, CodebookError)
    case unknownId(Int, count: Int)

    public var description: String {
        switch self {
        case .syntax(let e): return "codebook set: \(e)"
        case .invalid(let rule): return "codebook set: \(rule)"
        case .member(let id, let e): return "codebook set: codebook \(id): \(e)"
        case .unknownId(let id, let count): return "codebook set: id \(id) names no codebook (the set has ids 0 to \(count - 1))"
        }
    }
}
