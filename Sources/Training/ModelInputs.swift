import Codec
import FileIO
import Foundation

/// Inputs a command cannot read, or a folder that does not hold a model, with the reason.
public enum ModelInputError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyFolder(path: String)
    case badIndex(path: String, reason: String)
    case missingShard(index: String, shard: String)
    case unsupportedFormat(path: String, what: String)
    case badNpy(path: String, reason: String)

    public var description: String {
        switch self {
        case .emptyFolder(let path): return "\(path): the folder holds no .safetensors file"
        case .badIndex(let path, let reason): return "\(path): malformed model index: \(reason)"
        case .missingShard(let index, let shard): return "\(index) names \(shard), which is not in the folder"
        case .unsupportedFormat(let path, let what):
            return "\(path) is \(what): hwgen reads .safetensors, .npy, folders of them (a Hugging Face model folder), or raw little-endian values with --raw"
        case .badNpy(let path, let reason): return "\(path): malformed .npy file: \(reason)"
        }
    }
}

/// Turns the paths a user gives into the files to read: a folder is one model, its
/// `*.safetensors` in the order of `model.safetensors.index.json` when there is one (each shard
/// once, where the index first names it; a shard it names must be there), else by name.
public enum ModelInputs {
    public static let indexName = "model.safetensors.index.json"

    public static func expand(_ paths: [String]) throws -> [String] {
        try paths.flatMap { path -> [String] in
            var isFolder: ObjCBool = false
            guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
            return try files(inFolder: path)
        }
    }

    /// The safetensors files of one model folder, in index order.
    public static func files(inFolder folder: String) throws -> [String] {
        let url = URL(fileURLWithPath: folder)
        let index = url.appendingPathComponent(indexName).path
        if FileManager.default.fileExists(atPath: index) {
            let bytes: [UInt8]
            do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: index))) } catch {
                throw ModelInputError.badIndex(path: index, reason: "cannot read it")
            }
            guard bytes.count <= 64 << 20 else { throw ModelInputError.badIndex(path: index, reason: "larger than 64 MiB") }
            let json: JSONValue
            do { json = try StrictJSON.parse(bytes) } catch {
                throw ModelInputError.badIndex(path: index, reason: "\(error)")
            }
            guard case .object(let top) = json, let map = top.first(where: { $0.key == "weight_map" })?.value,
                  case .object(let entries) = map else {
                throw ModelInputError.badIndex(path: index, reason: "no 'weight_map' object")
            }
            var shards: [String] = []
            for (tensor, value) in entries {
                guard case .string(let shard) = value else { throw ModelInputError.badIndex(path: index, reason: "tensor '\(tensor)' maps to a non-string") }
                guard !shard.contains("/"), shard.hasSuffix(".safetensors") else {
                    throw ModelInputError.badIndex(path: index, reason: "tensor '\(tensor)' maps to '\(shard)', not a .safetensors file of the folder")
                }
                if !shards.contains(shard) { shards.append(shard) }
            }
            guard !shards.isEmpty else { throw ModelInputError.badIndex(path: index, reason: "'weight_map' is empty") }
            return try shards.map { shard in
                let path = url.appendingPathComponent(shard).path
                guard FileManager.default.fileExists(atPath: path) else { throw ModelInputError.missingShard(index: index, shard: shard) }
                return path
            }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let shards = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !shards.isEmpty else { throw ModelInputError.emptyFolder(path: folder) }
        return shards.map { url.appendingPathComponent($0).path }
    }

    /// What a file is by its name or first bytes, when it is a format hwgen does not read as
    /// values (nil: read it as raw values).
    static func foreignFormat(path: String, firstBytes: [UInt8]) -> String? {
        let lower = path.lowercased()
        let byName: [(String, String)] = [
            (".pt", "a PyTorch checkpoint"), (".pth", "a PyTorch checkpoint"), (".ckpt", "a checkpoint"),
            (".pkl", "a Python pickle"), (".pickle", "a Python pickle"), (".npz", "a NumPy archive (unzip it to .npy files)"),
            (".gguf", "a GGUF model"), (".onnx", "an ONNX model"), (".h5", "an HDF5 file"), (".hdf5", "an HDF5 file"),
            (".msgpack", "a msgpack file"), (".json", "a JSON file"), (".safetensors.index.json", "a model index (give its folder)"),
        ]
        if let hit = byName.filter({ lower.hasSuffix($0.0) }).max(by: { $0.0.count < $1.0.count }) { return hit.1 }
        if firstBytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "a zip archive (a PyTorch checkpoint?)" }
        if firstBytes.count >= 2, firstBytes[0] == 0x80, (2...5).contains(firstBytes[1]) { return "a Python pickle (a PyTorch checkpoint?)" }
        return nil
    }
}

/// The header of a NumPy `.npy` file (format versions 1-3): a little-endian array of one of the
/// dtypes hwgen codes, in C or Fortran order (the values are coded in file order either way).
struct NpyHeader {
    let dtype: TensorDType
    let count: Int
    /// Bytes before the data.
    let dataOffset: Int

    static func parse(_ bytes: [UInt8], path: String) throws(ModelInputError) -> NpyHeader {
        guard bytes.count >= 10, bytes.starts(with: [0x93] + Array("NUMPY".utf8)) else { throw .badNpy(path: path, reason: "no \\x93NUMPY magic") }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), bytes.count >= 8 + lengthBytes else { throw .badNpy(path: path, reason: "version \(major) is not 1-3") }
        let length = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow, end <= bytes.count else { throw .badNpy(path: path, reason: "header length \(length) runs past the end of the file") }
        let header = String(decoding: bytes[start..<end], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return String(header[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), descrField.hasPrefix("'"),
              let descr = descrField.dropFirst().split(separator: "'", maxSplits: 1).first.map(String.init) else {
            throw .badNpy(path: path, reason: "no 'descr'")
        }
        let dtypes: [String: TensorDType] = ["<f2": .f16, "<f4": .f32, "|u1": .u8, "|i1": .i8, "<u2": .u16, "<i2": .i16, "u1": .u8, "i1": .i8]
        guard let dtype = dtypes[descr] else {
            throw .badNpy(path: path, reason: "dtype '\(descr)' is not one hwgen codes (little-endian float16, float32, uint8, int8, uint16, int16; save bfloat16 as .safetensors)")
        }
        guard let shapeField = field("shape"), shapeField.hasPrefix("("), let close = shapeField.firstIndex(of: ")") else {
            throw .badNpy(path: path, reason: "no 'shape'")
        }
        var count = 1
        for part in shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            guard let n = Int(text), n >= 0 else { throw .badNpy(path: path, reason: "shape entry '\(text)' is not a size") }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw .badNpy(path: path, reason: "shape overflows") }
            count = product
        }
        return NpyHeader(dtype: dtype, count: count, dataOffset: end)
    }
}
