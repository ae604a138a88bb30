import ArgumentParser
import Codec
import Cores
import Foundation
import FileIO
import Training

/// How `train --set` and `analyze` group tensors into the members of a codebook set.
struct SetGroupingOptions: ParsableArguments {
    @Option(name: .customLong("group"), help: ArgumentHelp(
        "A member of the set: name=regex, the tensors whose name contains a match (repeat; a tensor joins the first group it matches).",
        discussion: "For example --group attn=attention --group ffn='intermediate|output.dense' --group rest=."))
    var groups: [String] = []
    @Flag(help: "One member per tensor (per-matrix models, as Liguori's).") var perTensor = false
    @Flag(name: .customLong("by-dtype"), help: "Members apart per dtype (BF16 and F16 tensors of one group get a codebook each).") var byDType = false

    /// Whether any grouping was asked for.
    var given: Bool { !groups.isEmpty || perTensor || byDType }

    func grouping() throws -> TensorGrouping {
        try TensorGrouping(rules: groups, perTensor: perTensor, byDType: byDType)
    }
}

/// Prints what each group of a set gains: bits per value and ratio with its own codebook and
/// with the pooled one, and the entropy bound.
func printSetReport(_ set: CodebookSet, _ report: [SetGroupReport]) {
    print("set \(set.name): \(set.members.count) \(set.members[0].coder.name) codebook(s); bits per value with the group's own codebook, with one codebook pooled over all groups, and the entropy bound")
    print("id  member".padding(toLength: 40, withPad: " ", startingAt: 0) + "  dtype  tensors       values     own  pooled  entropy  own-ratio  pooled-ratio  gain%")
    var ownBits = 0.0, pooledBits = 0.0, values = 0
    for (id, row) in report.enumerated() {
        let member = row.member.count > 36 ? "..." + row.member.suffix(33) : row.member
        print(("\(id)".padding(toLength: 4, withPad: " ", startingAt: 0) + member).padding(toLength: 40, withPad: " ", startingAt: 0)
              + String(format: "  %5@  %7d  %11d  %6.4f  %6.4f   %6.4f     %6.3f        %6.3f  %5.2f",
                       row.dtype ?? "-", row.tensors, row.values, row.ownBitsPerValue, row.pooledBitsPerValue, row.entropyBitsPerValue,
                       row.ownRatio, row.pooledRatio, 100 * (row.pooledBitsPerValue / row.ownBitsPerValue - 1)))
        ownBits += row.ownBitsPerValue * Double(row.values)
        pooledBits += row.pooledBitsPerValue * Double(row.values)
        values += row.values
    }
    if let width = report.first?.valueBits, values > 0 {
        print(String(format: "all groups: %d values, own %.4f bits/value (ratio %.3f), pooled %.4f (ratio %.3f): the set saves %.2f%%",
                     values, ownBits / Double(values), Double(width * values) / ownBits, pooledBits / Double(values),
                     Double(width * values) / pooledBits, 100 * (1 - ownBits / pooledBits)))
    }
}

/// A model's tensors, each with the member of `set` that codes it (`SetMembership`), all
/// checked before any is read: safetensors inputs only, every selected tensor named by a member
/// and of the set's value width.
func assignTensors(_ paths: [String], tensors pattern: String?, to set: CodebookSet, roundF32ToBF16: Bool = false) throws
    -> [(file: SafetensorsFile, tensor: SafetensorsFile.Tensor, id: Int)] {
    let membership = try SetMembership(set)
    let valueBits = set.members[0].layout.valueBits
    var plan: [(file: SafetensorsFile, tensor: SafetensorsFile.Tensor, id: Int)] = []
    for path in paths {
        guard path.hasSuffix(".safetensors") else { throw CommandError(description: "--set takes named tensors: \(path) is not a .safetensors file") }
        let file = try SafetensorsFile(path: path)
        for tensor in try file.select(pattern) {
            guard let id = membership.id(ofTensor: tensor.name, dtype: tensor.dtype) else {
                throw CommandError(description: "tensor '\(tensor.name)' of \(path): no codebook of set '\(set.name)' names it")
            }
            let bits = SafetensorsFile.valueBits(of: tensor.dtype, roundF32ToBF16: roundF32ToBF16)
            guard bits == valueBits else {
                throw CommandError(description: "tensor '\(tensor.name)' has \(bits)-bit values (\(tensor.dtype.rawValue)); set '\(set.name)' codes \(valueBits)-bit values")
            }
            plan.append((file, tensor, id))
        }
    }
    return plan
}

extension Encode {
    /// `--set`: each selected tensor of the safetensors inputs into a stream file of its own,
    /// coded by its group's member (`SetMembership`), and `index.json` last.
    func encodeSet() throws {
        guard let setPath = set else { return }
        let codebookSet = try CodebookSet.load(path: setPath)
        let inputs = try ModelInputs.expand([inputPath])
        // Every tensor is assigned and checked before anything is written.
        let plan = try assignTensors(inputs, tensors: input.tensors, to: codebookSet)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw CommandError(description: "cannot write into \(output): it is a file, --set writes a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            } catch {
                throw CommandError(description: "cannot create the folder \(output): \(error.localizedDescription)")
            }
        }
        var entries: [SetIndex.Entry] = []
        var names = Set<String>()
        var totalBytes = 0, totalValues = 0
        for (k, item) in plan.enumerated() {
            guard names.insert(item.tensor.name).inserted else { throw CommandError(description: "tensor '\(item.tensor.name)' appears twice in the inputs") }
            let member = codebookSet.members[item.id]
            let name = String(format: "%05d_", k) + String(item.tensor.name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") ? $0 : "_" }).prefix(120) + ".hwgs"
            let out = try OutputFile.open(output + "/" + name, inputs: inputs + [setPath])
            let encoder = try StreamEncoder(codec: StreamCodec(codebook: member), frameSize: frameSize, threads: runOptions.threads,
                                            container: .file(codebookText: Array(member.jsonText().utf8)), sink: out)
            var start = 0
            while start < item.tensor.count {
                let end = min(item.tensor.count, start + TensorInput.defaultChunk)
                try encoder.add(try item.file.values(of: item.tensor, elements: start..<end))
                start = end
            }
            let summary = try encoder.finish()
            try out.commit()
            totalBytes += Int(summary.bytes)
            totalValues += item.tensor.count
            entries.append(SetIndex.Entry(name: item.tensor.name, dtype: item.tensor.dtype, shape: item.tensor.shape, file: name, id: item.id,
                                          codebook: member.name, values: item.tensor.count))
        }
        let index = SetIndex(set: codebookSet.name, entries: entries)
        try writeOutput(Array(index.jsonText().utf8), to: output + "/index.json", inputs: inputs + [setPath])
        let inBytes = plan.reduce(0) { $0 + $1.tensor.count * $1.tensor.dtype.size }
        print(String(format: "%d tensors, %d values -> %d stream files of %d bytes in all (ratio %.3f) and %@/index.json",
                     entries.count, totalValues, entries.count, totalBytes, Double(inBytes) / Double(max(1, totalBytes)), output))
    }
}

extension Decode {
    /// An index of `encode --set`: every stream file decoded, checked against its entry (its
    /// codebook, its value count), the model rebuilt as one safetensors file in the index's order.
    func decodeIndex() throws {
        let bytes = try Codebook.loadText(path: inputPath, limit: 1 << 28)
        let index: SetIndex
        do {
            index = try SetIndex.parse(bytes)
        } catch {
            throw CommandError(description: "\(inputPath): \(error)")
        }
        let folder = (inputPath as NSString).deletingLastPathComponent
        let header: [UInt8]
        do {
            header = try index.safetensorsHeader()
        } catch {
            throw CommandError(description: "\(inputPath): \(error)")
        }
        let paths = index.entries.map { (folder.isEmpty ? "." : folder) + "/" + $0.file }
        let file = try OutputFile.open(output, inputs: [inputPath] + paths)
        try file.write(header)
        for (entry, path) in zip(index.entries, paths) {
            var reader = try StreamFileReader(try InputFile(path: path))
            guard reader.codebook.name == entry.codebook else {
                throw CommandError(description: "\(path): coded by '\(reader.codebook.name)', the index says '\(entry.codebook)'")
            }
            let bits = reader.codebook.layout.valueBits
            guard RawValues.byteWidth(valueBits: bits) == entry.dtype.size else {
                throw CommandError(description: "\(path): \(bits)-bit values cannot be \(entry.dtype.rawValue) (\(entry.dtype.size) bytes each)")
            }
            let summary: DecodeSummary
            do {
                summary = try StreamFileDecoder.decode(&reader, codec: StreamCodec(codebook: reader.codebook), threads: runOptions.threads,
                                                       convert: { RawValues.packed($0, valueBits: bits) },
                                                       output: { packed in try packed.withUnsafeBytes { try file.writeChecked($0) } })
            } catch let error as StreamFileError {
                throw CommandError(description: "\(path): \(error)")
            } catch let error as StreamError {
                throw CommandError(description: "\(path): \(error)")
            }
            guard summary.values == UInt64(entry.values) else {
                throw CommandError(description: "\(path): \(summary.values) values, the index says \(entry.values) for '\(entry.name)'")
            }
        }
        try file.commit()
        print("\(index.entries.count) tensors of set '\(index.set)' -> \(output)")
    }
}

/// `hwgen tables`: table images for a loadable core's `s_table` port.
struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write table images (docs/FORMAT.md, Table images) for a loadable core's s_table port: one codebook's table for a slot, or every member of a set, each into the slot of its id.",
        discussion: "With --for, the set a loadable core was generated from: an image that does not fit that core (slot, tableLog, value layout) is refused, naming why.")

    @Option(help: "A codebook JSON.") var codebook: String?
    @Option(help: "A codebook set: one image per member, in the output folder, named <member>.hwtb.") var set: String?
    @Option(help: "The core the images load into: decoder (a decode table) or encoder (an encode table).") var role: CoreRequest.Role?
    @Option(help: "With --codebook: the slot the image loads (default 0).") var slot: Int = 0
    @Option(name: .customLong("for"), help: "The set (or codebook) the loadable core was generated from: refuse images that do not fit it.") var capacity: String?
    @Option(name: .shortAndLong, help: "Output: the image file (--codebook), or a folder (--set).") var output: String

    func validate() throws {
        guard (codebook == nil) != (set == nil) else { throw ValidationError("give --codebook x.json or --set s.json") }
        guard (0...255).contains(slot) else { throw ValidationError("--slot must be 0 to 255, is \(slot)") }
    }

    func run() throws {
        let images: [(name: String, book: Codebook, slot: Int)]
        if let set {
            images = try CodebookSet.load(path: set).members.enumerated().map { ("\($0.element.name).hwtb", $0.element, $0.offset) }
        } else {
            let book = try Codebook.load(path: codebook ?? "")
            images = [((output as NSString).lastPathComponent, book, slot)]
        }
        guard let role else {
            throw CommandError(description: "a table image is a decoder's or an encoder's: give --role decoder or --role encoder")
        }
        if let capacity {
            let core = try CoreGenerator.loadableCapacity(try Self.loadSet(capacity))
            for image in images {
                if let why = core.refusal(image.book, slot: image.slot) { throw CommandError(description: "does not fit the core of \(capacity): \(why)") }
            }
        }
        let files = try images.map { ($0.name, TableImage.bytes(try TableImage.words($0.book, slot: $0.slot, role: role))) }
        let inputs = [codebook, set, capacity].compactMap { $0 }
        if set != nil {
            for path in try OutputFolder.write(files, into: output, inputs: inputs) { print("wrote \(path)") }
        } else if let file = files.first {
            try writeOutput(file.1, to: output, inputs: inputs)
            print("wrote \(output): slot \(slot), \(file.1.count / 4) words")
        }
    }

    /// A set file, or a codebook file as a set of one.
    static func loadSet(_ path: String) throws -> CodebookSet {
        if let set = try? CodebookSet.load(path: path) { return set }
        let book = try Codebook.load(path: path)
        return try CodebookSet(name: book.name, members: [book])
    }
}
