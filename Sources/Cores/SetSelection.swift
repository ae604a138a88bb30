import Codec
import HDL

/// How a core for a codebook set (FORMAT.md section 13) tells its members apart: the id of each
/// frame's codebook on `tuser`, `bits` wide, naming one of `count` members.
struct SetIds {
    let count: Int
    let bits: Int

    /// The ids of `set`'s members. Cores for a set take one-lane codebooks.
    /// - Throws: `CoreError.unsupported` for members of K > 1 lanes.
    init(_ set: CodebookSet) throws {
        let lanes = set.members[0].lanes
        guard lanes == 1 else {
            throw CoreError.unsupported("codebooks of \(lanes) lanes: cores for a set take one-lane codebooks (version 1, or version 2 of one lane)")
        }
        count = set.members.count
        bits = set.idBits
    }

    /// Each tANS member's tableLog and counts.
    /// - Throws: `CoreError.wrongCoder` for a Huffman codebook.
    static func tansCoders(_ books: [Codebook]) throws -> (logs: [Int], counts: [[Int]]) {
        var logs: [Int] = [], counts: [[Int]] = []
        for book in books {
            guard case .tans(let tableLog, let c) = book.coder else { throw CoreError.wrongCoder(expected: "tans", found: book.coder.name) }
            logs.append(tableLog)
            counts.append(c)
        }
        return (logs, counts)
    }

    /// Ids for `count` members (or slots): ceil(log2 count) bits, at least 1.
    init(count: Int) {
        self.count = count
        var bits = 1
        while (1 << bits) < count { bits += 1 }
        self.bits = bits
    }

    /// A table address `{id, index}` of members' tables one after another; a set of one
    /// leaves its id out (id 1 names nothing and never reaches a table).
    func address(_ id: Signal, _ index: Signal) -> Signal {
        count == 1 ? index : cat(id, index)
    }

    /// One header line per member: its id, name, layout, `details[j]` (its longest code or
    /// tableLog, if given) and fingerprint.
    static func describe(_ m: ModuleBuilder, _ books: [Codebook], details: [String]? = nil) {
        for (j, book) in books.enumerated() {
            let extra = details.map { ", " + $0[j] } ?? ""
            m.comment(String(format: "Codebook %d: '%@', %@, symbolBits %d, rawBits %d%@, fingerprint CRC-32C 0x%08x.", j, book.name,
                             book.layout.transform.rawValue, book.layout.symbolBits, book.layout.rawBits, extra, book.fingerprint))
        }
    }

    /// "tableLog r" of each tANS codebook (nil if one is Huffman).
    static func tableLogDetails(_ books: [Codebook]) -> [String]? {
        (try? tansCoders(books)).map { $0.logs.map { "tableLog \($0)" } }
    }

    /// Every value of an id names a member (M is a power of two, at least 2).
    var allNamed: Bool { count == 1 << bits }

    /// The id names no codebook (a constant 0 when every id does).
    func namesNone(_ m: ModuleBuilder, _ id: Signal) -> Signal {
        allNamed ? m.constant(0, width: 1) : id >= count
    }

    /// One wire per member, `<prefix><j>`: `id` is j.
    func selects(_ m: ModuleBuilder, _ id: Signal, prefix: String) -> [Signal] {
        count == 1 ? [m.constant(1, width: 1)] : (0..<count).map { m.wire("\(prefix)\($0)", id == $0) }
    }

    /// The member's `value` where its select is 1 (the selects are one-hot), as an OR of
    /// gated terms, each `width` bits.
    static func pick(_ m: ModuleBuilder, _ values: [Signal], by selects: [Signal], width: Int) -> Signal {
        if values.count == 1 { return values[0].resized(to: width) }
        return zip(values, selects).reduce(m.constant(0, width: width)) { acc, e in acc | mux(e.1, e.0.resized(to: width), 0) }
    }

    /// A constant per member, picked by the selects (`width` bits).
    static func pick(_ m: ModuleBuilder, constants: [UInt64], by selects: [Signal], width: Int) -> Signal {
        if Set(constants).count == 1 { return m.constant(constants[0], width: width) }
        return zip(constants, selects).reduce(m.constant(0, width: width)) { acc, e in
            e.0 == 0 ? acc : acc | mux(e.1, m.constant(e.0, width: width), 0)
        }
    }
}

/// Both values, or nil.
func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
