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
        let engines = try HWGen.run(["--set", set, "--engines", "2", "-o", HWGen.temporary("rtl")])
        #expect(engines.status == 1 && engines.error.contains("no frame engines yet"), "\(engines.error)")
        let both = try HWGen.run(["--set", set, "--codebook", set, "-o", HWGen.temporary("rtl")])
        #expect(both.status == 64 && both.error.contains("give one"), "\(both.error)")
    }
}
