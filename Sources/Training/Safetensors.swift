import Codec
import FileIO
import Foundation

/// Element types of safetensors tensors that hwgen can code.
public enum TensorDType: String, Sendable, CaseIterable {
    case bf16 = "BF16", f16 = "F16", f32 = "F32", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16"
    /// 8-bit floats (OCP FP8): 4 exponent and 3 mantissa bits, or 5 and 2.
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .u8, .i8, .f8e4m3, .f8e5m2: return 1
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
    case rawValueTooWide(path: String, value: UInt32, byteOffset: Int, valueBits: Int)
    case headerTooLarge(path: String, headerLength: UInt64)
    case sizeOverflow(path: String, tensor: String)
    case notFromStandardInput
    case io(FileIOError)

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
        case .rawValueTooWide(let path, let value, let offset, let bits):
            let width = RawValues.byteWidth(valueBits: bits)
            return "\(path): the \(width)-byte value 0x\(String(value, radix: 16)) at byte \(offset) does not fit in \(bits) bits (the first such value); check --value-bits, or pass --mask-values to keep only the low \(bits) bits of every value"
        case .headerTooLarge(let path, let length): return "\(path): header length \(length) is larger than safetensors allows (\(SafetensorsFile.maxHeaderBytes) bytes)"
        case .sizeOverflow(let path, let tensor): return "\(path): tensor '\(tensor)' has a shape whose byte size overflows"
        case .notFromStandardInput: return "a safetensors file cannot be read from standard input: give its path (raw values can come from -)"
        case .io(let error): return "\(error)"
        }
    }
}

/// A safetensors file: the header is parsed and checked up front, tensor data is read on demand
/// in chunks (never mapped whole, so memory stays small whatever the file's size).
public struct SafetensorsFile: @unchecked Sendable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: TensorDType
        public let shape: [Int]
        /// Byte range in the file.
        public let range: Range<Int>
        /// Elements (the shape's product; checked against the byte range when the file opens).
        public let count: Int
    }

    /// The largest header the safetensors format allows (its reference reader's limit).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    /// Tensors in the order of their data in the file.
    public let tensors: [Tensor]
    private let file: InputFile

    /// Opens and checks a file: header length, JSON, dtypes, offsets inside the data, sizes that
    /// match the shapes (with checked arithmetic), no overlaps.
    public init(path: String) throws(TensorFileError) {
        self.path = path
        guard path != "-" else { throw .notFromStandardInput }
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw .io(error)
        }
        self.file = file
        guard let fileLength = file.size else { throw .badHeader(path: path, reason: "not a regular file") }
        guard fileLength >= 8 else { throw .tooShort(path: path, bytes: fileLength) }
        let lengthBytes = try Self.read(file, at: 0, count: 8, path: path)
        let headerLength = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(fileLength - 8) else {
            throw .headerPastEnd(path: path, headerLength: headerLength, fileLength: fileLength)
        }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else { throw .headerTooLarge(path: path, headerLength: headerLength) }
        let dataStart = 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try StrictJSON.parse(try Self.read(file, at: 8, count: Int(headerLength), path: path))
        } catch let error as JSONSyntaxError {
            throw .badHeader(path: path, reason: error.description)
        } catch let error as TensorFileError {
            throw error
        } catch {
            throw .badHeader(path: path, reason: "\(error)")
        }
        guard case .object(let members) = header else { throw .badHeader(path: path, reason: "the header is not a JSON object") }
        let dataLength = fileLength - dataStart
        var tensors: [Tensor] = []
        for (name, value) in members where name != "__metadata__" {
            tensors.append(try Self.tensor(name, value, dataStart: dataStart, dataLength: dataLength, path: path))
        }
        tensors.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        for (a, b) in zip(tensors, tensors.dropFirst()) where a.range.overlaps(b.range) {
            throw .overlapping(path: path, first: a.name, second: b.name)
        }
        self.tensors = tensors
    }

    private static func tensor(_ name: String, _ value: JSONValue, dataStart: Int, dataLength: Int, path: String) throws(TensorFileError) -> Tensor {
        guard case .object(let fields) = value else { throw .badHeader(path: path, reason: "entry '\(name)' is not an object") }
        func field(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }
        guard case .string(let dtypeName)? = field("dtype") else { throw .badHeader(path: path, reason: "tensor '\(name)' has no dtype string") }
        guard let dtype = TensorDType(rawValue: dtypeName) else { throw .unknownDType(path: path, tensor: name, dtype: dtypeName) }
        guard case .array(let shapeValues)? = field("shape") else { throw .badHeader(path: path, reason: "tensor '\(name)' has no shape array") }
        var elements = 1
        var shape: [Int] = []
        for dim in shapeValues {
            guard case .number(_, let n?) = dim, n >= 0, n <= Int64(Int.max) else {
                throw .badHeader(path: path, reason: "tensor '\(name)' has a shape entry that is not a non-negative integer")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
            guard !overflow else { throw .sizeOverflow(path: path, tensor: name) }
            elements = product
            shape.append(Int(n))
        }
        let (byteSize, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw .sizeOverflow(path: path, tensor: name) }
        guard case .array(let offsets)? = field("data_offsets"), offsets.count == 2,
              case .number(_, let begin?) = offsets[0], case .number(_, let end?) = offsets[1] else {
            throw .badHeader(path: path, reason: "tensor '\(name)' needs data_offsets [begin, end]")
        }
        guard begin >= 0, end >= begin, end <= Int64(dataLength) else {
            throw .offsetsOutsideData(path: path, tensor: name, begin: Int(clamping: begin), end: Int(clamping: end), dataLength: dataLength)
        }
        guard byteSize == Int(end - begin) else {
            throw .sizeMismatch(path: path, tensor: name, expected: byteSize, found: Int(end - begin))
        }
        return Tensor(name: name, dtype: dtype, shape: shape, range: (dataStart + Int(begin))..<(dataStart + Int(end)), count: elements)
    }

    private static func read(_ file: InputFile, at offset: Int, count: Int, path: String) throws(TensorFileError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try file.bytes(at: offset, count: count)
        } catch {
            throw .io(error)
        }
        guard bytes.count == count else { throw .headerPastEnd(path: path, headerLength: UInt64(count), fileLength: offset + bytes.count) }
        return bytes
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

    /// All elements of `tensor` as value bit patterns (see `values(of:elements:roundF32ToBF16:)`).
    public func values(of tensor: Tensor, roundF32ToBF16: Bool = false) throws(TensorFileError) -> [UInt32] {
        try values(of: tensor, elements: 0..<tensor.count, roundF32ToBF16: roundF32ToBF16)
    }

    /// Elements `elements` of `tensor` as value bit patterns. F32 is rounded to bf16 (round to
    /// nearest even, NaN kept quiet) only when `roundF32ToBF16` is set.
    public func values(of tensor: Tensor, elements: Range<Int>, roundF32ToBF16: Bool = false) throws(TensorFileError) -> [UInt32] {
        let size = tensor.dtype.size
        let elements = elements.clamped(to: 0..<tensor.count)
        let bytes = try Self.read(file, at: tensor.range.lowerBound + elements.lowerBound * size, count: elements.count * size, path: path)
        return bytes.withUnsafeBytes { raw -> [UInt32] in
            switch tensor.dtype {
            case .u8, .i8, .f8e4m3, .f8e5m2:
                return raw.map { UInt32($0) }
            case .bf16, .f16, .u16, .i16:
                return (0..<elements.count).map { UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .f32:
                return (0..<elements.count).map {
                    let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))
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

/// How raw (non-safetensors) inputs are read: little-endian values of `valueBits` bits, each in
/// the smallest of 1, 2 or 4 bytes that holds them.
public struct RawInputOptions: Sendable, Equatable {
    public var valueBits: Int
    /// Keep only the low `valueBits` bits of each value instead of refusing values that do not fit.
    public var maskWideValues: Bool
    /// Read any file as raw values, even one whose name or first bytes say it is another
    /// format (a PyTorch checkpoint, an ONNX model, JSON, ...), which is otherwise refused.
    public var forceRaw: Bool

    public init(valueBits: Int = 16, maskWideValues: Bool = false, forceRaw: Bool = false) {
        self.valueBits = valueBits
        self.maskWideValues = maskWideValues
        self.forceRaw = forceRaw
    }
}

/// The values of one input, read in chunks so memory does not grow with the input: the
/// selected tensors of a safetensors file in file order, or a raw file (or standard input, `-`)
/// of little-endian values, checked against their declared width.
public struct TensorInput: Sendable {
    /// One named group of values: a tensor, or the whole raw input.
    public struct Part: Sendable, Equatable {
        public let name: String
        /// Values in the part (nil for a raw input from a pipe, not known until read).
        public let count: Int?
    }

    private enum Origin: Sendable {
        case safetensors(SafetensorsFile, [SafetensorsFile.Tensor], roundF32ToBF16: Bool)
        case raw(InputFile, RawInputOptions)
    }

    public let path: String
    public let parts: [Part]
    public let valueBits: Int
    /// The dtype of the selected tensors (nil for raw input).
    public let dtype: TensorDType?
    private let origin: Origin

    /// Opens `path`: by its `.safetensors` name a safetensors file (tensors selected by
    /// `pattern`, all of one dtype), otherwise raw values read as `raw` says.
    public static func open(path: String, tensors pattern: String? = nil, roundF32ToBF16: Bool = false,
                            raw: RawInputOptions = RawInputOptions()) throws -> TensorInput {
        if path.hasSuffix(".safetensors") {
            let file = try SafetensorsFile(path: path)
            let chosen = try file.select(pattern)
            let dtypes = Set(chosen.map(\.dtype))
            guard dtypes.count == 1, let dtype = dtypes.first else {
                throw TensorFileError.mixedDTypes(path: path, dtypes.map(\.rawValue).sorted())
            }
            return TensorInput(path: path, parts: chosen.map { Part(name: $0.name, count: $0.count) },
                               valueBits: SafetensorsFile.valueBits(of: dtype, roundF32ToBF16: roundF32ToBF16), dtype: dtype,
                               origin: .safetensors(file, chosen, roundF32ToBF16: roundF32ToBF16))
        }
        let file: InputFile
        do {
            file = try InputFile(path: path)
        } catch {
            throw TensorFileError.io(error)
        }
        if !raw.forceRaw && path.lowercased().hasSuffix(".npy") { return try openNpy(file, path: path) }
        if !raw.forceRaw && file.isSeekable {
            var first = [UInt8](repeating: 0, count: 8)
            let n = try ioErrors { try first.withUnsafeMutableBytes { try file.read(into: $0, at: 0) } }
            if let what = ModelInputs.foreignFormat(path: path, firstBytes: Array(first.prefix(n))) {
                throw ModelInputError.unsupportedFormat(path: path, what: what)
            }
        }
        guard (1...32).contains(raw.valueBits) else {
            throw TrainingError.invalidOption("--value-bits must be 1 to 32, is \(raw.valueBits)")
        }
        let width = RawValues.byteWidth(valueBits: raw.valueBits)
        if let size = file.size, size % width != 0 {
            throw TensorFileError.rawLengthNotMultiple(path: path, bytes: size, elementSize: width)
        }
        let name = path == "-" ? "(standard input)" : (path as NSString).lastPathComponent
        return TensorInput(path: path, parts: [Part(name: name, count: file.size.map { $0 / width })], valueBits: raw.valueBits,
                           dtype: nil, origin: .raw(file, raw))
    }

    /// Runs `body`, turning a file error into `TensorFileError.io`.
    private static func ioErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FileIOError { throw TensorFileError.io(error) }
    }

    /// A NumPy array: its header parsed and skipped, its data read as raw values of its dtype.
    private static func openNpy(_ file: InputFile, path: String) throws -> TensorInput {
        guard let size = file.size else { throw ModelInputError.badNpy(path: path, reason: "give the file's path, not a pipe") }
        var head = [UInt8](repeating: 0, count: min(size, 1 << 16))
        let n = try ioErrors { try head.withUnsafeMutableBytes { try file.read(into: $0, at: 0) } }
        let header = try NpyHeader.parse(Array(head.prefix(n)), path: path)
        let (bytes, overflow) = header.count.multipliedReportingOverflow(by: header.dtype.size)
        guard !overflow, header.dataOffset + bytes == size else {
            throw ModelInputError.badNpy(path: path, reason: "shape needs \(header.count) values of \(header.dtype.size) bytes after the \(header.dataOffset)-byte header, the file has \(size) bytes")
        }
        // Skip the header: the raw reader goes on from the file's position.
        var skip = [UInt8](repeating: 0, count: header.dataOffset)
        var done = 0
        while done < skip.count {
            let got = try ioErrors { try skip.withUnsafeMutableBytes { try file.readChecked(into: UnsafeMutableRawBufferPointer(rebasing: $0[done...])) } }
            guard got > 0 else { throw ModelInputError.badNpy(path: path, reason: "ends inside its header") }
            done += got
        }
        let bits = header.dtype.size * 8
        return TensorInput(path: path, parts: [Part(name: (path as NSString).lastPathComponent, count: header.count)], valueBits: bits,
                           dtype: header.dtype, origin: .raw(file, RawInputOptions(valueBits: bits)))
    }

    /// Values per chunk handed to `forEachChunk`'s body by default.
    public static let defaultChunk = 1 << 20

    /// Reads every value in order, `chunk` at a time (fewer at the end of a part), and hands each
    /// chunk to `body` with its part's index. A raw value that does not fit `valueBits` is an
    /// error naming it and its byte offset, unless masking was asked for.
    public func forEachChunk(_ chunk: Int = TensorInput.defaultChunk, _ body: (_ part: Int, _ values: [UInt32]) throws -> Void) throws {
        let chunk = max(1, chunk)
        switch origin {
        case .safetensors(let file, let tensors, let round):
            for (index, tensor) in tensors.enumerated() {
                var start = 0
                while start < tensor.count {
                    let end = min(tensor.count, start + chunk)
                    try body(index, try file.values(of: tensor, elements: start..<end, roundF32ToBF16: round))
                    start = end
                }
            }
        case .raw(let file, let options):
            try readRaw(file, options, chunk: chunk) { try body(0, $0) }
        }
    }

    private func readRaw(_ file: InputFile, _ options: RawInputOptions, chunk: Int, _ body: ([UInt32]) throws -> Void) throws {
        let width = RawValues.byteWidth(valueBits: options.valueBits)
        let bits = options.valueBits
        var buffer = [UInt8](repeating: 0, count: chunk * width)
        var filled = 0
        var offset = 0  // byte offset of buffer[0] in the input
        var atEnd = false
        while !atEnd {
            let n = try buffer.withUnsafeMutableBytes { try file.readChecked(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { atEnd = true }
            filled += n
            let whole = atEnd ? filled : filled - filled % width
            if whole % width != 0 {
                throw TensorFileError.rawLengthNotMultiple(path: path, bytes: offset + filled, elementSize: width)
            }
            guard whole > 0 else { continue }
            if !atEnd && filled < buffer.count { continue }  // fill the chunk first
            var values = RawValues.decode(buffer[0..<whole], valueBits: bits)
            if bits < 8 * width {
                if options.maskWideValues {
                    let mask = UInt32.max >> UInt32(32 - bits)
                    for i in values.indices { values[i] &= mask }
                } else if let bad = firstValueTooWide(values, valueBits: bits) {
                    throw TensorFileError.rawValueTooWide(path: path, value: values[bad], byteOffset: offset + bad * width, valueBits: bits)
                }
            }
            try body(values)
            // Keep the bytes of a value cut by the chunk's end.
            let rest = filled - whole
            if rest > 0 { buffer.replaceSubrange(0..<rest, with: buffer[whole..<filled]) }
            offset += whole
            filled = rest
        }
    }
}

/// Values from a file, all in memory: for small inputs and tests (`TensorInput` streams).
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

    /// Reads a safetensors file (by its `.safetensors` name) or a raw file of `rawValueBits`-bit
    /// values (refused where a value does not fit).
    public static func load(path: String, tensors pattern: String? = nil, roundF32ToBF16: Bool = false,
                            rawValueBits: Int? = nil) throws -> TensorValues {
        let input = try TensorInput.open(path: path, tensors: pattern, roundF32ToBF16: roundF32ToBF16,
                                         raw: RawInputOptions(valueBits: rawValueBits ?? 16))
        var values = [[UInt32]](repeating: [], count: input.parts.count)
        try input.forEachChunk { part, chunk in values[part] += chunk }
        return TensorValues(parts: zip(input.parts, values).map { Part(name: $0.name, values: $1) }, valueBits: input.valueBits)
    }
}

/// The raw value file format of the CLI: little-endian, each value in the smallest of 1, 2 or 4
/// bytes that holds valueBits.
public enum RawValues {
    public static func byteWidth(valueBits: Int) -> Int { valueBits <= 8 ? 1 : valueBits <= 16 ? 2 : 4 }

    /// The values in `bytes` (a whole number of values; a partial one at the end is dropped).
    public static func decode<C: Collection>(_ bytes: C, valueBits: Int) -> [UInt32] where C.Element == UInt8 {
        let size = byteWidth(valueBits: valueBits)
        let count = bytes.count / size
        let read = { (raw: UnsafeRawBufferPointer) -> [UInt32] in
            switch size {
            case 1: return raw.prefix(count).map { UInt32($0) }
            case 2: return (0..<count).map { UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            default: return (0..<count).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            }
        }
        if let values = bytes.withContiguousStorageIfAvailable({ read(UnsafeRawBufferPointer($0)) }) { return values }
        return Array(bytes).withUnsafeBytes(read)
    }

    /// The bytes of `values` (`byteWidth(valueBits:)` little-endian bytes each), packed in the
    /// values' own storage: no second buffer when the array is not shared.
    public static func packed(_ values: consuming [UInt32], valueBits: Int) -> PackedValues {
        var storage = values
        let size = byteWidth(valueBits: valueBits)
        let count = storage.count
        storage.withUnsafeMutableBytes { raw in
            switch size {
            case 1:
                for i in 0..<count { raw.storeBytes(of: UInt8(truncatingIfNeeded: raw.load(fromByteOffset: 4 * i, as: UInt32.self)), toByteOffset: i, as: UInt8.self) }
            case 2:
                // Element i moves from byte 4i to byte 2i: never over an element not yet moved.
                for i in 0..<count {
                    let v = UInt16(truncatingIfNeeded: raw.load(fromByteOffset: 4 * i, as: UInt32.self))
                    raw.storeBytes(of: v.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            default:
                for i in 0..<count { raw.storeBytes(of: raw.load(fromByteOffset: 4 * i, as: UInt32.self).littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
        }
        return PackedValues(storage: storage, byteCount: count * size)
    }

    /// The bytes of `values`, each in `byteWidth(valueBits:)` little-endian bytes.
    public static func encode(_ values: [UInt32], valueBits: Int) -> [UInt8] {
        let size = byteWidth(valueBits: valueBits)
        return [UInt8](unsafeUninitializedCapacity: values.count * size) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            switch size {
            case 1: for (i, v) in values.enumerated() { raw[i] = UInt8(truncatingIfNeeded: v) }
            case 2: for (i, v) in values.enumerated() { raw.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            default: for (i, v) in values.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
            initialized = values.count * size
        }
    }
}

/// Raw value bytes kept in the storage the values came in (`RawValues.packed`).
public struct PackedValues: Sendable {
    let storage: [UInt32]
    public let byteCount: Int

    /// Runs `body` with the bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<byteCount])) }
    }
}
