import Codec
import Foundation

/// The index `hwgen encode --set` writes beside a model's stream files: per tensor, in the
/// model's order, its name, dtype and shape, its stream file (section 11, carrying its member's
/// codebook), the member's id and name, and its value count. `hwgen decode` rebuilds the
/// safetensors file from it. Read strictly: an index is input, so every size is checked.
public struct SetIndex: Sendable, Equatable {
    public static let formatTag = "hwgen-set-index/1"

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: TensorDType
        public let shape: [Int]
        /// A plain file name in the index's folder.
        public let file: String
        public let id: Int
        public let codebook: String
        /// Elements: the shape's product.
        public let values: Int

        public init(name: String, dtype: TensorDType, shape: [Int], file: String, id: Int, codebook: String, values: Int) {
            (self.name, self.dtype, self.shape, self.file, self.id, self.codebook, self.values) = (name, dtype, shape, file, id, codebook, values)
        }

        /// The tensor's bytes in a safetensors file.
        public var byteCount: Int { values * dtype.size }
    }

    public let set: String
    public let entries: [Entry]

    public init(set: String, entries: [Entry]) {
        self.set = set
        self.entries = entries
    }

    /// The index as JSON text, one tensor a line.
    public func jsonText() -> String {
        let lines = entries.map { e in
            JSONValue.object([
                ("name", .string(e.name)), ("dtype", .string(e.dtype.rawValue)),
                ("shape", .array(e.shape.map { .number(text: "\($0)", integer: Int64($0)) })), ("file", .string(e.file)),
                ("id", .number(text: "\(e.id)", integer: Int64(e.id))), ("codebook", .string(e.codebook)),
                ("values", .number(text: "\(e.values)", integer: Int64(e.values))),
            ]).text
        }
        return "{\n  \"format\": \(JSONValue.string(Self.formatTag).text),\n  \"set\": \(JSONValue.string(set).text),\n  \"tensors\": [\n    "
            + lines.joined(separator: ",\n    ") + "\n  ]\n}\n"
    }

    /// Parses and checks an index: its format, each entry's fields and types, plain file names,
    /// known dtypes, shapes whose product (checked for overflow) is the value count, distinct names.
    public static func parse(_ bytes: [UInt8]) throws(SetIndexError) -> SetIndex {
        let document: JSONValue
        do {
            document = try StrictJSON.parse(bytes)
        } catch {
            throw .invalid("not JSON: \(error)")
        }
        guard case .object(let keys) = document else { throw .invalid("the top level must be an object") }
        var format: String?, set: String?, tensors: [JSONValue]?
        for (key, value) in keys {
            switch (key, value) {
            case ("format", .string(let s)): format = s
            case ("set", .string(let s)): set = s
            case ("tensors", .array(let a)): tensors = a
            default: throw .invalid("key '\(key)' (\(value.kindName)) is not one of format, set, tensors")
            }
        }
        guard format == formatTag else { throw .invalid("format must be \"\(formatTag)\"") }
        guard let set, let tensors else { throw .invalid("set and tensors are required") }
        var entries: [Entry] = []
        var names = Set<String>()
        for (i, item) in tensors.enumerated() {
            guard case .object(let fields) = item else { throw .invalid("tensor \(i) is not an object") }
            func string(_ key: String) throws(SetIndexError) -> String {
                guard case .string(let s)? = fields.first(where: { $0.key == key })?.value else { throw .invalid("tensor \(i): '\(key)' must be a string") }
                return s
            }
            func integer(_ key: String, _ value: JSONValue?) throws(SetIndexError) -> Int {
                guard case .number(_, let n?)? = value, n >= 0, n <= Int64(Int32.max) * 65536 else {
                    throw .invalid("tensor \(i): '\(key)' must be a non-negative integer")
                }
                return Int(n)
            }
            for field in fields where !["name", "dtype", "shape", "file", "id", "codebook", "values"].contains(field.key) {
                throw .invalid("tensor \(i): key '\(field.key)' is not one of name, dtype, shape, file, id, codebook, values")
            }
            let name = try string("name"), file = try string("file"), codebook = try string("codebook")
            guard let dtype = TensorDType(rawValue: try string("dtype")) else { throw .invalid("tensor \(i) ('\(name)'): unknown dtype") }
            guard !file.isEmpty, file != ".", file != "..", !file.contains("/"), !file.contains("\0") else {
                throw .invalid("tensor \(i) ('\(name)'): file '\(file)' must be a plain file name in the index's folder")
            }
            guard case .array(let dims)? = fields.first(where: { $0.key == "shape" })?.value else { throw .invalid("tensor \(i) ('\(name)'): 'shape' must be an array") }
            var shape: [Int] = [], product = 1
            for dim in dims {
                let d = try integer("shape", dim)
                let (p, overflow) = product.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .invalid("tensor \(i) ('\(name)'): the shape's product overflows") }
                product = p
                shape.append(d)
            }
            let values = try integer("values", fields.first(where: { $0.key == "values" })?.value)
            guard values == product else { throw .invalid("tensor \(i) ('\(name)'): values \(values) is not the shape's product \(product)") }
            guard !values.multipliedReportingOverflow(by: dtype.size).overflow else { throw .invalid("tensor \(i) ('\(name)'): too large") }
            guard names.insert(name).inserted else { throw .invalid("tensor '\(name)' is listed twice") }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, file: file, id: try integer("id", fields.first(where: { $0.key == "id" })?.value),
                                 codebook: codebook, values: values))
        }
        return SetIndex(set: set, entries: entries)
    }

    /// The safetensors header for the entries in order, their data back to back: the 8-byte
    /// little-endian length, then the JSON padded with spaces to a multiple of 8.
    /// - Throws: `SetIndexError` if the data's size overflows.
    public func safetensorsHeader() throws(SetIndexError) -> [UInt8] {
        var offset = 0
        var members: [(key: String, value: JSONValue)] = []
        for e in entries {
            let (end, overflow) = offset.addingReportingOverflow(e.byteCount)
            guard !overflow else { throw .invalid("the tensors' data overflows") }
            members.append((e.name, .object([
                ("dtype", .string(e.dtype.rawValue)), ("shape", .array(e.shape.map { .number(text: "\($0)", integer: Int64($0)) })),
                ("data_offsets", .array([.number(text: "\(offset)", integer: Int64(offset)), .number(text: "\(end)", integer: Int64(end))])),
            ])))
            offset = end
        }
        var json = Array(JSONValue.object(members).text.utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        let length = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + json
    }
}

/// Why an index was refused.
public enum SetIndexError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let reason): return "set index: \(reason)"
        }
    }
}
