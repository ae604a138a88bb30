/// Named bit fields of a packed word (a ROM entry, a register holding several values), least
/// significant field first. The same layout packs the contents in Swift (`pack`) and slices the
/// fields in the DSL (`field(_:of:)`), so no offset is written twice; `description` states it for
/// a module header. After Amaranth's `data.StructLayout`.
public struct WordLayout: Sendable, Equatable, CustomStringConvertible {
    /// One field: `width` bits from bit `low` up.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let width: Int
        public let low: Int
        /// The field's top bit.
        public var high: Int { low + width - 1 }
    }

    /// A value that does not fit its field, or a field that is not in the layout.
    public struct PackingError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public let fields: [Field]

    /// The fields, least significant first: (name, width). Fields of width 0 are left out (a
    /// layout with no raw bits, say); widths must not be negative and names must differ.
    public init(_ fields: [(name: String, width: Int)]) {
        var placed: [Field] = []
        var low = 0
        for (name, width) in fields where width > 0 && !placed.contains(where: { $0.name == name }) {
            placed.append(Field(name: name, width: width, low: low))
            low += width
        }
        self.fields = placed
    }

    /// Total width in bits (at least 1, so an empty layout still makes a valid word).
    public var width: Int { Swift.max(1, fields.last.map { $0.low + $0.width } ?? 0) }

    /// The field named `name`, if there is one.
    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// The word with each named field set (fields not named are 0). Words are at most 64 bits.
    /// - Throws: `PackingError` for a value wider than its field or a name not in the layout.
    public func pack(_ values: KeyValuePairs<String, UInt64>) throws -> UInt64 {
        var word: UInt64 = 0
        for (name, value) in values {
            guard let f = field(named: name) else {
                // A field of width 0 was left out of the layout: only 0 fits it.
                if value == 0 { continue }
                throw PackingError(message: "the word layout \(self) has no field '\(name)' for the value \(value)")
            }
            guard f.width >= 64 || value >> UInt64(f.width) == 0 else {
                throw PackingError(message: "\(value) does not fit the \(f.width)-bit field '\(name)' of \(self)")
            }
            guard f.low < 64 else { throw PackingError(message: "field '\(name)' lies past bit 63") }
            word |= value << UInt64(f.low)
        }
        return word
    }

    /// The value of field `name` in a packed `word` (0 for a field not in the layout).
    public func unpack(_ name: String, of word: UInt64) -> UInt64 {
        guard let f = field(named: name), f.low < 64 else { return 0 }
        let shifted = word >> UInt64(f.low)
        return f.width >= 64 ? shifted : shifted & ((UInt64(1) << UInt64(f.width)) - 1)
    }

    /// The bits of field `name` of `word` (a signal `width` bits wide). A missing field or a word
    /// of the wrong width is reported at the caller's line.
    public func field(_ name: String, of word: Signal, file: String = #fileID, line: Int = #line) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        guard let f = field(named: name) else {
            word.builder.report(.invalidOperand, "the word layout \(self) has no field '\(name)'", at: location)
            return word.builder.constant(0, width: 1, file: file, line: line)
        }
        if word.width != width {
            word.builder.report(.widthMismatch, "a \(word.width)-bit word read with the \(width)-bit layout \(self)", at: location)
            return word.builder.constant(0, width: f.width, file: file, line: line)
        }
        return word.bits(f.high, f.low, file: file, line: line)
    }

    /// A word signal from one signal per field (fields not given are 0), for a register or RAM
    /// that holds the layout. A part of the wrong width or an unknown name is reported.
    public func word(_ parts: KeyValuePairs<String, Signal>, in m: ModuleBuilder, file: String = #fileID, line: Int = #line) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        for (name, part) in parts {
            if let f = field(named: name) {
                if part.width != f.width {
                    m.report(.widthMismatch, "field '\(name)' of \(self) is \(f.width) bits, the value given is \(part.width)", at: location)
                }
            } else {
                m.report(.invalidOperand, "the word layout \(self) has no field '\(name)'", at: location)
            }
        }
        let pieces = fields.reversed().map { f in
            parts.first { $0.key == f.name }.map { $0.value.resized(to: f.width, file: file, line: line) }
                ?? m.constant(0, width: f.width, file: file, line: line)
        }
        return m.cat(pieces, file: file, line: line)
    }

    /// The layout from the top field down, as a module header states it:
    /// `[14:11] kind, [10:4] base, [3:0] shift`.
    public var description: String {
        fields.reversed().map { f in (f.width == 1 ? "[\(f.low)]" : "[\(f.high):\(f.low)]") + " " + f.name }.joined(separator: ", ")
    }
}
