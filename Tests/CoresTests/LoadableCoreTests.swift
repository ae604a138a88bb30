import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import VerilatorBridge

/// Loadable cores (issue 28): a tANS decoder or Huffman encoder whose tables are RAM slots loaded at run time
/// through `s_table` from table images (`TableImage`), checked against the reference coder of
/// each frame's codebook after loads, reloads between frames, and refused images.
@Suite("Loadable cores (tANS decoders, Huffman encoders): tables loaded at run time through s_table", .serialized)
struct LoadableCoreTests {
    /// A per-cycle driver of a loadable decoder: table images and stream words in order, the
    /// output always taken (or at random), every value and id collected, `error` watched.
    final class Bench {
        let sim: Simulation
        let ports: [String: PortHandle]
        var values: [(value: UInt64, last: Bool, id: UInt64)] = []
        var error = false
        var random = SeededRandom(seed: 5)
        let readyPercent: Int

        init(_ core: Module, readyPercent: Int = 100) throws {
            sim = try SimulationBuilder().build([core]).simulation(of: core.name)
            var ports: [String: PortHandle] = [:]
            for port in core.ports where port.name != "clk" && port.name != "rst" { ports[port.name] = try sim.port(port.name) }
            self.ports = ports
            self.readyPercent = readyPercent
            sim.reset()
        }

        func port(_ name: String) -> PortHandle { ports[name]! }

        /// One clock cycle: offers `table` and `word` beats (either may be nil); returns which were taken.
        func cycle(table: (UInt32, Bool)?, word: (UInt32, Bool, Int)?) -> (table: Bool, word: Bool) {
            sim.poke(port("s_table_tdata"), UInt64(table?.0 ?? 0))
            sim.poke(port("s_table_tlast"), table?.1 == true ? 1 : 0)
            sim.poke(port("s_table_tvalid"), table == nil ? 0 : 1)
            sim.poke(port("s_axis_tdata"), UInt64(word?.0 ?? 0))
            sim.poke(port("s_axis_tlast"), word?.1 == true ? 1 : 0)
            sim.poke(port("s_axis_tuser"), UInt64(word?.2 ?? 0))
            sim.poke(port("s_axis_tvalid"), word == nil ? 0 : 1)
            let take = Int(random.next() % 100) < readyPercent
            sim.poke(port("m_axis_tready"), take ? 1 : 0)
            sim.eval()
            if take && sim.peek(port("m_axis_tvalid")) == 1 {
                values.append((sim.peek(port("m_axis_tdata")), sim.peek(port("m_axis_tlast")) == 1, sim.peek(port("m_axis_tuser"))))
            }
            if sim.peek(port("error")) == 1 { error = true }
            let taken = (table != nil && sim.peek(port("s_table_tready")) == 1, word != nil && sim.peek(port("s_axis_tready")) == 1)
            sim.tick()
            return taken
        }

        /// Sends a table image and the stream words of frames at once (the core orders them).
        func run(image: [UInt32] = [], words: [(UInt32, Bool, Int)] = [], cycles: Int = 20_000) {
            var t = 0, w = 0
            for _ in 0..<cycles {
                let taken = cycle(table: t < image.count ? (image[t], t == image.count - 1) : nil, word: w < words.count ? words[w] : nil)
                if taken.table { t += 1 }
                if taken.word { w += 1 }
                if t == image.count && w == words.count && values.count > 0 { break }
            }
            for _ in 0..<200 { _ = cycle(table: nil, word: nil) }
        }
    }

    /// A random tANS set of one layout, its members' tableLogs 5-11.
    static func set(seed: UInt64, members: Int) throws -> CodebookSet {
        var random = RandomCodebooks(seed: seed)
        let layout = ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)
        let books = try (0..<members).map { j -> Codebook in
            let tableLog = 5 + Int(random.random.next() % 7)
            return try Codebook(name: "l\(seed)_m\(j)", coder: .tans(tableLog: tableLog, counts: random.tansCounts(entries: 258, tableLog: tableLog)), layout: layout)
        }
        return try CodebookSet(name: "loadable\(seed)", members: books)
    }

    /// Frames of values of members `ids`, coded by the reference: (words with tlast and id, values with tlast and id).
    static func frames(_ set: CodebookSet, ids: [Int], seed: UInt64) throws -> (words: [(UInt32, Bool, Int)], values: [(UInt64, Bool, UInt64)]) {
        var random = RandomCodebooks(seed: seed)
        var words: [(UInt32, Bool, Int)] = [], values: [(UInt64, Bool, UInt64)] = []
        for (f, id) in ids.enumerated() {
            let frame = random.values(count: f % 3 == 1 ? 1 : 20 + f * 7, for: set.members[id])
            words += try set.encodeFrames(frame, frameSizes: [frame.count], ids: [id]).words.map { ($0.word, $0.endsFrame, id) }
            values += frame.enumerated().map { (UInt64($0.element), $0.offset == frame.count - 1, UInt64(id)) }
        }
        return (words, values)
    }

    @Test("tables loaded into every slot decode frames of random ids bit-exact; a slot reloaded between frames with another table decodes with it; the image is what hwgen tables writes")
    func loadAndReload() throws {
        let set = try Self.set(seed: 1, members: 3)
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .decoder, loadable: true))
        #expect(core.port(named: "s_table_tdata") != nil && core.port(named: "s_axis_tuser")?.width == 2)
        for ready in [100, 55] {
            let bench = try Bench(core, readyPercent: ready)
            for (slot, book) in set.members.enumerated() { bench.run(image: try TableImage.words(book, slot: slot)) }
            #expect(!bench.error, "error after loading")
            let first = try Self.frames(set, ids: [0, 2, 1, 1, 0, 2, 2, 1], seed: 7)
            bench.run(words: first.words)
            #expect(!bench.error && bench.values.count == first.values.count, "\(bench.values.count) of \(first.values.count) values, error \(bench.error)")
            #expect(zip(bench.values, first.values).allSatisfy { $0.value == $1.0 && $0.last == $1.1 && $0.id == $1.2 }, "values differ (ready \(ready))")
            // Slot 0 reloaded with another codebook of the layout (tableLog at most the core's).
            var random = RandomCodebooks(seed: 21)
            let other = try Codebook(name: "reloaded", coder: .tans(tableLog: 5, counts: random.tansCounts(entries: 258, tableLog: 5)), layout: set.members[0].layout)
            let swapped = try CodebookSet(name: "swapped", members: [other, set.members[1], set.members[2]])
            bench.values = []
            bench.run(image: try TableImage.words(other, slot: 0))
            let second = try Self.frames(swapped, ids: [0, 1, 0], seed: 8)
            bench.run(words: second.words)
            #expect(!bench.error && zip(bench.values, second.values).allSatisfy { $0.value == $1.0 && $0.id == $1.2 } && bench.values.count == second.values.count,
                    "after the reload: \(bench.values.count) of \(second.values.count) values, error \(bench.error)")
        }
    }

    @Test("images that do not fit (a tableLog past the core's, another layout, a slot past the last, a wrong magic) or are cut short raise error; a frame of an empty slot raises error")
    func refusals() throws {
        let set = try Self.set(seed: 3, members: 2)
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .decoder, loadable: true))
        let capacity: Int = set.members.compactMap { if case .tans(let r, _) = $0.coder { r } else { nil } }.max() ?? 5
        var random = RandomCodebooks(seed: 9)
        let big = try Codebook(name: "big", coder: .tans(tableLog: capacity + 1, counts: random.tansCounts(entries: 258, tableLog: capacity + 1)),
                               layout: set.members[0].layout)
        let split = try Codebook(name: "split", coder: .tans(tableLog: 5, counts: random.tansCounts(entries: 258, tableLog: 5)),
                                 layout: ValueLayout(transform: .split, symbolBits: 8, rawBits: 8))
        var magic = try TableImage.words(set.members[0], slot: 0)
        magic[0] ^= 1
        let good = try TableImage.words(set.members[0], slot: 0)
        let cases: [(String, [UInt32])] = [
            ("tableLog past the core's", try TableImage.words(big, slot: 0)), ("another layout", try TableImage.words(split, slot: 1)),
            ("slot past the last", try TableImage.words(set.members[0], slot: 2)), ("wrong magic", magic), ("cut short", Array(good.dropLast(3))),
        ]
        for (label, image) in cases {
            let bench = try Bench(core)
            bench.run(image: image, cycles: 5000)
            #expect(bench.error, "\(label): no error")
        }
        // Nothing loaded: a frame of slot 1 raises error, no value comes out.
        let bench = try Bench(core)
        bench.run(words: try Self.frames(set, ids: [1], seed: 4).words, cycles: 2000)
        #expect(bench.error && bench.values.isEmpty, "empty slot: error \(bench.error), \(bench.values.count) values")
        // The tool refuses what does not fit, naming why.
        let fit = LoadableCapacity(slots: 2, tableLog: capacity, layout: set.members[0].layout)
        #expect(fit.refusal(big, slot: 0)?.contains("tableLog") == true && fit.refusal(split, slot: 0)?.contains("bf16") == true
                && fit.refusal(set.members[0], slot: 2)?.contains("slot 2") == true && fit.refusal(set.members[0], slot: 1) == nil)
    }

    @Test("a loadable Huffman encoder: tables loaded into every slot code frames of random ids into the reference stream; a slot reloaded between frames codes with its new table; an image that does not fit raises error")
    func huffmanEncoder() throws {
        var random = RandomCodebooks(seed: 31)
        let layout = ValueLayout(transform: .split, symbolBits: 6, rawBits: 10)
        func book(_ name: String, _ maxLength: Int) throws -> Codebook {
            try Codebook(name: name, coder: .huffman(codeLengths: random.huffmanLengths(entries: 66, maxLength: maxLength)), layout: layout)
        }
        let set = try CodebookSet(name: "henc", members: [try book("h0", 12), try book("h1", 9), try book("h2", 14)])
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .encoder, loadable: true))
        #expect(core.port(named: "s_table_tdata") != nil && core.port(named: "error") != nil)
        for ready in [100, 60] {
            let bench = try Bench(core, readyPercent: ready)
            for (slot, member) in set.members.enumerated() { bench.run(image: try TableImage.words(member, slot: slot)) }
            #expect(!bench.error, "error after loading")
            let ids = [2, 0, 0, 1, 2, 1, 0]
            var values: [(UInt32, Bool, Int)] = [], sizes: [Int] = [], flat: [UInt32] = []
            for (f, id) in ids.enumerated() {
                let frame = random.values(count: f % 3 == 1 ? 1 : 15 + 9 * f, for: set.members[id])
                values += frame.enumerated().map { ($0.element, $0.offset == frame.count - 1, id) }
                sizes.append(frame.count)
                flat += frame
            }
            let expected = try set.encodeFrames(flat, frameSizes: sizes, ids: ids).words
            bench.run(words: values)
            #expect(!bench.error && bench.values.count == expected.count, "\(bench.values.count) of \(expected.count) words, error \(bench.error)")
            #expect(zip(bench.values, expected).allSatisfy { $0.value == UInt64($1.word) && $0.last == $1.endsFrame }, "words differ (ready \(ready))")
            // Slot 1 reloaded with another table.
            let other = try book("h3", 10)
            bench.values = []
            bench.run(image: try TableImage.words(other, slot: 1))
            let frame = random.values(count: 40, for: other)
            let again = try CodebookSet(name: "again", members: [other]).encodeFrames(frame, frameSizes: [40], ids: [0]).words
            bench.run(words: frame.enumerated().map { ($0.element, $0.offset == 39, 1) })
            #expect(!bench.error && bench.values.map(\.value) == again.map { UInt64($0.word) }, "after the reload: \(bench.values.count) of \(again.count) words")
        }
        // Codes longer than the core's longest do not fit.
        let fits = try CoreGenerator.loadableCapacity(set)
        let longest = set.members.map { if case .huffman(let lengths) = $0.coder { lengths.max() ?? 0 } else { 0 } }.max() ?? 0
        #expect(fits.huffman && fits.tableLog == longest && fits.refusal(set.members[0], slot: 3)?.contains("slot 3") == true)
        var lengths = [Int](repeating: 0, count: 66)
        for i in 0..<(longest + 1) { lengths[i] = i + 1 }
        lengths[longest] = longest + 1
        lengths[64] = longest + 1
        lengths[65] = 2
        let long = try Codebook(name: "long", coder: .huffman(codeLengths: Self.kraft(lengths)), layout: layout)
        #expect(fits.refusal(long, slot: 0)?.contains("codes of up to") == true)
        let bench = try Bench(core)
        bench.run(image: try TableImage.words(long, slot: 0), cycles: 3000)
        #expect(bench.error, "an image with codes past the core's longest raised no error")
    }

    /// `lengths` made a valid prefix code: lengthened until the Kraft sum is at most 1.
    static func kraft(_ lengths: [Int]) -> [Int] {
        var l = lengths
        while l.reduce(0.0, { $0 + ($1 == 0 ? 0 : pow(2.0, -Double($1))) }) > 1 {
            if let i = l.indices.filter({ l[$0] > 0 && l[$0] < 16 }).min(by: { l[$0] < l[$1] }) { l[i] += 1 } else { break }
        }
        return l
    }
}
