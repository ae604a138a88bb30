import Codec
import Foundation

/// Element types of safetensors tensors that hwgen can code.
public enum TensorDType: String, Sendable, CaseIterable {
    case bf16 = "BF16", f16 = "F16", f32 = "F32", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .u8, .i8: return 1
        case .bf16, .f16, .u16, .i16: return 2
        case .f32: return 4
        }
    }
}

/// A safetensors file that cannot be used, with the reason.
public enum TensorFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case tooShort(path: String, bytes: Int)
    case headerPastEnd(path: String, headerLength: UInt64, fileLength: Int)
    case badHeader(path: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case offsetsOutsideData(path: String, tensor: String, begin: Int, end: Int, dataLength: Int)
    case sizeMismatch(path: String, tensor: String, expected: Int, found: Int)
    case overlapping(path: String, first: String, second: String)
    case noTensorMatches(path: String, pattern: String, available: [String])
    case mixedDTypes(path: String, [String])
    case badPattern(String, reason: String)
    case rawLengthNotMultiple(path: String, bytes: Int, elementSize: Int)

    public var description: String {
        switch self {
        case .unreadable(let path): return "\(path): cannot read the file"
        case .tooShort(let path, let bytes): return "\(path): \(bytes) bytes is too short for a safetensors file (needs an 8-byte header length)"
        case .headerPastEnd(let path, let h, let n): return "\(path): truncated or not safetensors: header length \(h) runs past the end of the \(n)-byte file"
        case .badHeader(let path, let reason): return "\(path): malformed safetensors header: \(reason)"
        case .unknownDType(let path, let t, let d): return "\(path): tensor '\(t)' has dtype \(d); supported: \(TensorDType.allCases.map(\.rawValue).joined(separator: ", "))"
        case .offsetsOutsideData(let path, let t, let b, let e, let n): return "\(path): tensor '\(t)' has data_offsets [\(b), \(e)] outside the \(n) bytes of data (truncated file?)"
        case .sizeMismatch(let path, let t, let expected, let found): return "\(path): tensor '\(t)' shape needs \(expected) bytes but its data_offsets span \(found)"
        case .overlapping(let path, let a, let b): return "\(path): tensors '\(a)' and '\(b)' overlap"
        case .noTensorMatches(let path, let pattern, let names): return "\(path): no tensor matches '\(pattern)'; tensors: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : "")"
        case .mixedDTypes(let path, let types): return "\(path): the selected tensors mix dtypes \(types.joined(separator: ", ")); select tensors of one dtype"
        case .badPattern(let pattern, let reason): return "invalid tensor pattern '\(pattern)': \(reason)"
        case .rawLengthNotMultiple(let path, let bytes, let size): return "\(path): \(bytes) bytes is not a whole number of \(size)-byte values"
        }
    }
}

/// A safetensors file, memory-mapped: the header is parsed and checked up front, tensor data is
/// read on demand.
public struct SafetensorsFile: @unchecked Sendable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: TensorDType
        public let shape: [Int]
        /// Byte range in the file.
        public let range: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    /// Tensors in the order of their data in the file.
    public let tensors: [Tensor]
    private let data: Data

    /// Opens and checks a file: header length, JSON, dtypes, offsets inside the data, sizes that
    /// match the shapes, no overlaps.
    public init(path: String) throws(TensorFileError) {
        self.path = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw .unreadable(path: path)
        }
        self.data = data
        guard data.count >= 8 else { throw .tooShort(path: path, bytes: data.count) }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw .headerPastEnd(path: path, headerLength: headerLength, fileLength: data.count)
        }
        let dataStart = 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try StrictJSON.parse(Array(data[8..<dataStart]))
        } catch {
            throw .badHeader(path: path, reason: error.description)
        }
        guard case .object(let members) = header else { throw .badHeader(path: path, reason: "the header is not a JSON object") }
        let dataLength = data.count - dataStart
        var tensors: [Tensor] = []
        for (name, value) in members where name != "__metadata__" {
            guard case .object(let fields) = value else { throw .badHeader(path: path, reason: "entry '\(name)' is not an object") }
            func field(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }
            guard case .string(let dtypeName)? = field("dtype") else { throw .badHeader(path: path, reason: "tensor '\(name)' has no dtype string") }
            guard let dtype = TensorDType(rawValue: dtypeName) else { throw .unknownDType(path: path, tensor: name, dtype: dtypeName) }
            guard case .array(let shapeValues)? = field("shape") else { throw .badHeader(path: path, reason: "tensor '\(name)' has no shape array") }
            var shape: [Int] = []
            for dim in shapeValues {
                guard case .number(_, let n?) = dim, n >= 0, n < 1 << 40 else {
                    throw .badHeader(path: path, reason: "tensor '\(name)' has a shape entry that is not a non-negative integer")
                }
                shape.append(Int(n))
            }
            guard case .array(let offsets)? = field("data_offsets"), offsets.count == 2,
                  case .number(_, let begin?) = offsets[0], case .number(_, let end?) = offsets[1] else {
                throw .badHeader(path: path, reason: "tensor '\(name)' needs data_offsets [begin, end]")
            }
            guard begin >= 0, end >= begin, end <= Int64(dataLength) else {
                throw .offsetsOutsideData(path: path, tensor: name, begin: Int(begin), end: Int(end), dataLength: dataLength)
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements * dtype.size == Int(end - begin) else {
                throw .sizeMismatch(path: path, tensor: name, expected: overflow ? -1 : elements * dtype.size, found: Int(end - begin))
            }
            tensors.append(Tensor(name: name, dtype: dtype, shape: shape, range: (dataStart + Int(begin))..<(dataStart + Int(end))))
        }
        tensors.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        for (a, b) in zip(tensors, tensors.dropFirst()) where a.range.overlaps(b.range) {
            throw .overlapping(path: path, first: a.name, second: b.name)
        }
        self.tensors = tensors
    }

    /// The tensors whose name matches `pattern` (a regular expression, searched anywhere in the
    /// name; nil selects all), in file order.
    public func select(_ pattern: String?) throws(TensorFileError) -> [Tensor] {
        guard let pattern else { return tensors }
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw .badPattern(pattern, reason: "\(error)")
        }
        let chosen = tensors.filter { $0.name.contains(regex) }
        guard !chosen.isEmpty else { throw .noTensorMatches(path: path, pattern: pattern, available: tensors.map(\.name)) }
        return chosen
    }

    /// The elements of `tensor` as value bit patterns. F32 is rounded to bf16 (round to nearest
    /// even, NaN kept quiet) only when `roundF32ToBF16` is set.
    public func values(of tensor: Tensor, roundF32ToBF16: Bool = false) -> [UInt32] {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> [UInt32] in
            guard let start = buffer.baseAddress else { return [] }
            let base = start.advanced(by: tensor.range.lowerBound)
            let n = tensor.count
            switch tensor.dtype {
            case .u8, .i8:
                return (0..<n).map { UInt32(base.load(fromByteOffset: $0, as: UInt8.self)) }
            case .bf16, .f16, .u16, .i16:
                return (0..<n).map { UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .f32:
                return (0..<n).map {
                    let bits = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))
                    return roundF32ToBF16 ? Self.bf16(fromF32Bits: bits) : bits
                }
            }
        }
    }

    /// bf16 bits of an f32 by round-to-nearest-even; NaNs stay NaN (quiet).
    public static func bf16(fromF32Bits bits: UInt32) -> UInt32 {
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return (bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return (bits &+ rounding) >> 16
    }

    /// Bits per value of the selected tensors (F32 gives 16 when rounded to bf16).
    public static func valueBits(of dtype: TensorDType, roundF32ToBF16: Bool) -> Int {
        dtype == .f32 ? (roundF32ToBF16 ? 16 : 32) : dtype.size * 8
    }
}

/// Values from a file: the selected tensors of a safetensors file concatenated in file order, or
/// a raw little-endian file of 1-, 2- or 4-byte values.
public struct TensorValues: Sendable {
    /// One named group of values (a tensor, or the whole raw file).
    public struct Part: Sendable {
        public let name: String
        public let values: [UInt32]

        public init(name: String, values: [UInt32]) {
            self.name = name
            self.values = values
        }
    }

    public let parts: [Part]
    public let valueBits: Int

    public init(parts: [Part], valueBits: Int) {
        self.parts = parts
        self.valueBits = valueBits
    }

    public var all: [UInt32] { parts.count == 1 ? parts[0].values : parts.flatMap(\.values) }
    public var count: Int { parts.reduce(0) { $0 + $1.values.count } }

    /// Reads a safetensors file (by its `.safetensors` name) or a raw file of `rawValueBits`-bit values.
    public static func load(path: String, tensors pattern: String? = nil, roundF32ToBF16: Bool = false,
                            rawValueBits: Int? = nil) throws -> TensorValues {
        if path.hasSuffix(".safetensors") {
            let file = try SafetensorsFile(path: path)
            let chosen = try file.select(pattern)
            let dtypes = Set(chosen.map(\.dtype))
            guard dtypes.count == 1, let dtype = dtypes.first else {
                throw TensorFileError.mixedDTypes(path: path, dtypes.map(\.rawValue).sorted())
            }
            return TensorValues(
                parts: chosen.map { Part(name: $0.name, values: file.values(of: $0, roundF32ToBF16: roundF32ToBF16)) },
                valueBits: SafetensorsFile.valueBits(of: dtype, roundF32ToBF16: roundF32ToBF16))
        }
        let bits = rawValueBits ?? 16
        let size = RawValues.byteWidth(valueBits: bits)
        guard let data = FileManager.default.contents(atPath: path) else { throw TensorFileError.unreadable(path: path) }
        guard data.count % size == 0 else { throw TensorFileError.rawLengthNotMultiple(path: path, bytes: data.count, elementSize: size) }
        return TensorValues(parts: [Part(name: (path as NSString).lastPathComponent, values: RawValues.decode(Array(data), valueBits: bits))], valueBits: bits)
    }
}

/// The raw value file format of the CLI: little-endian, each value in the smallest of 1, 2 or 4
/// bytes that holds valueBits.
public enum RawValues {
    public static func byteWidth(valueBits: Int) -> Int { valueBits <= 8 ? 1 : valueBits <= 16 ? 2 : 4 }

    public static func decode(_ bytes: [UInt8], valueBits: Int) -> [UInt32] {
        let size = byteWidth(valueBits: valueBits)
        return stride(from: 0, to: bytes.count - size + 1, by: size).map { i in
            (0..<size).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) }
        }
    }

    public static func encode(_ values: [UInt32], valueBits: Int) -> [UInt8] {
        let size = byteWidth(valueBits: valueBits)
        var out = [UInt8]()
        out.reserveCapacity(values.count * size)
        for v in values {
            for k in 0..<size { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
        }
        return out
    }
}
