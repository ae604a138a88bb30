import Codec
import Foundation
import Testing

/// Codebook sets on the command line (issue 28): `train --set` groups tensors and writes a set,
/// `analyze` reports a grouping, `generate --set` writes the set's cores, `sim --set` runs a model
/// through them.
@Suite("hwgen and codebook sets: train --set, analyze groups, generate --set, sim --set")
struct SetCLITests {
    static let attention = ["--group", "attn=attention", "--group", "ffn=intermediate|output\\.dense", "--group", "norm=LayerNorm"]

    @Test("train --set writes a set of one codebook per group, named and traced to its tensors, and reports own against pooled")
    func trainSet() throws {
        let weights = try CLITests.weightsPath()
        let out = HWGen.temporary("set.json")
        let result = try HWGen.run(["train", "--set", "--coder", "huffman", "--name", "w", "-o", out] + Self.attention + [weights])
        #expect(result.status == 0, "\(result.error)")
        let set = try CodebookSet.load(path: out)
        #expect(set.name == "w" && set.members.map(\.name) == ["w_attn", "w_ffn", "w_norm"], "\(set.members.map(\.name))")
        for book in set.members {
            guard case .object(let fields)? = book.provenance else { Issue.record("no provenance"); continue }
            #expect(fields.contains { $0.key == "tensors" } && fields.contains { $0.key == "tensorCount" } && fields.contains { $0.key == "dtype" })
        }
        // One row per member, and the total: the set never codes its training data worse than one pooled codebook.
        let rows = result.output.split(separator: "\n").filter { $0.hasPrefix("0 ") || $0.hasPrefix("1 ") || $0.hasPrefix("2 ") }
        #expect(rows.count == 3, "\(result.output)")
        let total = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("all groups") })
        let saves = try #require(total.split(separator: " ").last.flatMap { Double($0.dropLast()) })
        #expect(saves >= 0, "\(total)")
    }

    @Test("analyze with a grouping reports the set without writing one; per tensor, one row each")
    func analyzeGroups() throws {
        let weights = try CLITests.weightsPath()
        let result = try HWGen.run(["analyze", "--per-tensor", "--tensors", "layer\\.4\\.attention\\.self", weights])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("set analysis: 6 huffman codebook(s)") && result.output.contains("all groups: "), "\(result.output)")
        let json = try HWGen.run(["analyze", "--json", "--group", "q=query", "--group", "rest=.", "--tensors", "layer\\.1\\.", weights])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        #expect(rows.count == 2 && rows.allSatisfy { ($0["ownBitsPerValue"] as? Double ?? 99) <= ($0["pooledBitsPerValue"] as? Double ?? 0) + 1e-9 }, "\(json.output)")
    }

    @Test("set groupings that cannot work are one-line errors, and no set is written")
    func refusals() throws {
        let weights = try CLITests.weightsPath()
        let out = HWGen.temporary("set.json")
        let unmatched = try HWGen.run(["train", "--set", "--coder", "huffman", "--name", "w", "-o", out, "--group", "q=query", weights])
        #expect(unmatched.status == 1 && unmatched.error.contains("matches no --group") && unmatched.error.split(separator: "\n").count == 1, "\(unmatched.error)")
        let badRegex = try HWGen.run(["train", "--set", "--coder", "huffman", "--name", "w", "-o", out, "--group", "q=(", weights])
        #expect(badRegex.status == 1 && badRegex.error.contains("not a regular expression"), "\(badRegex.error)")
        let badName = try HWGen.run(["train", "--set", "--coder", "huffman", "--name", "w", "-o", out, "--group", "1q=.", weights])
        #expect(badName.status == 1 && badName.error.contains("must match"), "\(badName.error)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let noSet = try HWGen.run(["train", "--coder", "huffman", "--name", "w", "-o", out, "--group", "q=.", weights])
        #expect(noSet.status == 64 && noSet.error.contains("add --set"), "\(noSet.error)")
    }

    /// Each tensor of a safetensors file: dtype, shape and data bytes.
    static func tensors(_ path: String) throws -> [String: (String, [Int], Data)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        var result: [String: (String, [Int], Data)] = [:]
        for (name, value) in header where name != "__metadata__" {
            let fields = try #require(value as? [String: Any])
            let offsets = try #require(fields["data_offsets"] as? [Int])
            result[name] = (fields["dtype"] as? String ?? "", fields["shape"] as? [Int] ?? [], data.subdata(in: (8 + length + offsets[0])..<(8 + length + offsets[1])))
        }
        return result
    }

    @Test("encode --set writes a stream file per tensor with its group's codebook and an index; decode of the index restores every tensor byte for byte; a damaged index or stream is a one-line error")
    func encodeAndDecodeAModel() throws {
        let weights = try CLITests.weightsPath()
        let set = HWGen.temporary("set.json")
        #expect(try HWGen.run(["train", "--set", "--coder", "tans", "--name", "w", "-o", set] + Self.attention + [weights]).status == 0)
        let folder = HWGen.temporary("model")
        let encoded = try HWGen.run(["encode", "--set", set, weights, "-o", folder])
        #expect(encoded.status == 0 && encoded.output.contains("32 tensors"), "\(encoded.output) \(encoded.error)")
        let index = try String(contentsOfFile: folder + "/index.json", encoding: .utf8)
        #expect(index.contains("\"codebook\": \"w_attn\"") && index.contains("\"codebook\": \"w_norm\""), "\(index.prefix(800))")
        let restored = HWGen.temporary("back.safetensors")
        let decoded = try HWGen.run(["decode", folder + "/index.json", "-o", restored])
        #expect(decoded.status == 0, "\(decoded.error)")
        let original = try Self.tensors(weights), back = try Self.tensors(restored)
        #expect(original.count == 32 && Set(original.keys) == Set(back.keys))
        for (name, tensor) in original {
            #expect(back[name].map { $0.0 == tensor.0 && $0.1 == tensor.1 && $0.2 == tensor.2 } == true, "\(name) differs")
        }
        // A stream file decodes on its own too (it carries its member's codebook).
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first { $0.hasSuffix(".hwgs") })
        #expect(try HWGen.run(["decode", folder + "/" + first, "-o", HWGen.temporary("raw.bin")]).status == 0)
        // Damage: a path out of the folder, a wrong value count, a flipped byte in a stream.
        for (label, edit) in [("../", { (t: String) in t.replacingOccurrences(of: "\"file\": \"00000_", with: "\"file\": \"../00000_") }),
                              ("values", { (t: String) in t.replacingOccurrences(of: "\"shape\": [384], ", with: "\"shape\": [385], ") })] {
            let bad = folder + "/bad-\(label == "../" ? "path" : label).json"
            try edit(index).write(toFile: bad, atomically: true, encoding: .utf8)
            let out = HWGen.temporary("x.safetensors")
            let result = try HWGen.run(["decode", bad, "-o", out])
            #expect(result.status == 1 && result.error.split(separator: "\n").count == 1 && !FileManager.default.fileExists(atPath: out), "\(label): \(result.error)")
        }
        var stream = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + first))
        stream[stream.count - 12] ^= 0x10
        try stream.write(to: URL(fileURLWithPath: folder + "/" + first))
        let out = HWGen.temporary("x.safetensors")
        let damaged = try HWGen.run(["decode", folder + "/index.json", "-o", out])
        #expect(damaged.status == 1 && damaged.error.contains(first) && !FileManager.default.fileExists(atPath: out), "\(damaged.error)")
    }

    @Test("generate --loadable writes decoders and encoders with s_table; tables writes images of both coders and roles (--role required), refusing with --for what does not fit, and writes nothing then")
    func loadable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let book = root.appendingPathComponent("examples/minilm_ffn1_tans.json").path
        let rtl = HWGen.temporary("rtl")
        let generated = try HWGen.run(["--codebook", book, "--loadable", "-o", rtl])
        #expect(generated.status == 0, "\(generated.error)")
        let decoder = try String(contentsOfFile: rtl + "/minilm_ffn1_tans_decoder.v", encoding: .utf8)
        #expect(decoder.contains("input  wire [31:0] s_table_tdata") && decoder.contains("Loadable tANS decoder"), "\(decoder.prefix(1500))")
        let image = HWGen.temporary("x.hwtb")
        #expect(try HWGen.run(["tables", "--codebook", book, "--role", "decoder", "--for", book, "-o", image]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        #expect(bytes.count == 4 * (3 + 2048) && Array(bytes.prefix(4)) == [0x48, 0x57, 0x54, 0x42])
        let refused = HWGen.temporary("y.hwtb")
        let slot = try HWGen.run(["tables", "--codebook", book, "--role", "decoder", "--slot", "1", "--for", book, "-o", refused])
        #expect(slot.status == 1 && slot.error.contains("slot 1") && !FileManager.default.fileExists(atPath: refused), "\(slot.error)")
        // A Huffman codebook's images: for a loadable encoder, 3 header words, a pair per symbol
        // and EOF's; for a loadable decoder, a limit per code length, ESC's and EOF's codes and
        // the coded entries. Without --role, a one-line error and no file.
        let huffmanBook = root.appendingPathComponent("examples/minilm_ffn1_huffman.json").path
        let huffmanImage = HWGen.temporary("h.hwtb")
        #expect(try HWGen.run(["tables", "--codebook", huffmanBook, "--role", "encoder", "-o", huffmanImage]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: huffmanImage)).count == 4 * (3 + 2 * 257))
        let decodeImage = HWGen.temporary("hd.hwtb")
        #expect(try HWGen.run(["tables", "--codebook", huffmanBook, "--role", "decoder", "-o", decodeImage]).status == 0)
        let huffman = try Codebook.load(path: huffmanBook)
        guard case .huffman(let lengths) = huffman.coder else { Issue.record("not Huffman"); return }
        let coded = lengths.filter { $0 > 0 }.count, longest = lengths.max() ?? 0
        let decodeBytes = try Data(contentsOf: URL(fileURLWithPath: decodeImage))
        #expect(decodeBytes.count == 4 * (3 + longest + 2 + coded) && decodeBytes[5] == 3, "\(decodeBytes.count) bytes")
        let noRole = try HWGen.run(["tables", "--codebook", huffmanBook, "-o", refused])
        #expect(noRole.status == 1 && noRole.error.contains("--role") && !FileManager.default.fileExists(atPath: refused), "\(noRole.error)")
        let huffmanRTL = HWGen.temporary("hrtl")
        #expect(try HWGen.run(["--codebook", huffmanBook, "--loadable", "-o", huffmanRTL]).status == 0)
        let loadableDecoder = try String(contentsOfFile: huffmanRTL + "/minilm_ffn1_decoder.v", encoding: .utf8)
        #expect(loadableDecoder.contains("Loadable Huffman decoder") && loadableDecoder.contains("s_table_tdata")
                && FileManager.default.fileExists(atPath: huffmanRTL + "/minilm_ffn1_encoder.v"))
        let mixed = try HWGen.run(["tables", "--codebook", huffmanBook, "--role", "encoder", "--for", book, "-o", refused])
        #expect(mixed.status == 1 && mixed.error.contains("the core takes tANS tables") && !FileManager.default.fileExists(atPath: refused), "\(mixed.error)")
        let encoderRTL = HWGen.temporary("rtl")
        let encoder = try HWGen.run(["--codebook", book, "--loadable", "--encoder", "-o", encoderRTL])
        #expect(encoder.status == 0 && FileManager.default.fileExists(atPath: encoderRTL + "/minilm_ffn1_tans_encoder.v"), "\(encoder.error)")
        let engines = try HWGen.run(["--codebook", book, "--loadable", "--engines", "2", "-o", HWGen.temporary("rtl")])
        #expect(engines.status == 1 && engines.error.contains("loadable cores are decoders and encoders of one value per beat without engines"), "\(engines.error)")
    }

    @Test("generate --set writes the set's decoder and encoder with tuser; sim --set runs a model through them bit-exact, per member")
    func generateAndSim() throws {
        let weights = try CLITests.weightsPath()
        let set = HWGen.temporary("set.json")
        let trained = try HWGen.run(["train", "--set", "--coder", "huffman", "--name", "l1", "--tensors", "layer\\.1\\.", "-o", set] + Self.attention + [weights])
        #expect(trained.status == 0, "\(trained.error)")
        let rtl = HWGen.temporary("rtl")
        let generated = try HWGen.run(["--set", set, "-o", rtl])
        #expect(generated.status == 0, "\(generated.error)")
        let decoder = try String(contentsOfFile: rtl + "/l1_decoder.v", encoding: .utf8)
        let encoder = try String(contentsOfFile: rtl + "/l1_encoder.v", encoding: .utf8)
        #expect(decoder.contains("input  wire [1:0] s_axis_tuser") && decoder.contains("output wire [1:0] m_axis_tuser") && decoder.contains("input  wire s_axis_tlast"),
                "\(decoder.prefix(2500))")
        #expect(encoder.contains("input  wire [1:0] s_axis_tuser") && encoder.contains("output wire error") && encoder.contains("Codebook 2: 'l1_norm'"))
        let sim = try HWGen.run(["sim", "--set", set, "--limit", "2000", "--frame-size", "700", "--valid", "70", "--ready", "80", "--tensors", "layer\\.1\\.", weights])
        #expect(sim.status == 0 && sim.output.split(separator: "\n").filter { $0.contains("BIT-EXACT") }.count == 2, "\(sim.output) \(sim.error)")
        #expect(sim.output.contains("id 0 l1_attn") && sim.output.contains("id 1 l1_ffn") && sim.output.contains("id 2 l1_norm"), "\(sim.output)")
        let engines = HWGen.temporary("rtl")
        #expect(try HWGen.run(["--set", set, "--engines", "4", "-o", engines]).status == 0)
        let engineDecoder = try String(contentsOfFile: engines + "/l1_decoder.v", encoding: .utf8)
        #expect(engineDecoder.contains("N = 4 frame engines") && engineDecoder.contains("input  wire [1:0] s_axis_tuser")
                && engineDecoder.contains("Every engine (l1_decoder_engine) holds every codebook's tables"), "\(engineDecoder.prefix(3000))")
        let wide = try HWGen.run(["--set", set, "--values-per-beat", "2", "-o", HWGen.temporary("rtl")])
        #expect(wide.status == 1 && wide.error.contains("add --engines N"), "\(wide.error)")
        let both = try HWGen.run(["--set", set, "--codebook", set, "-o", HWGen.temporary("rtl")])
        #expect(both.status == 64 && both.error.contains("give one"), "\(both.error)")
    }
}
