import Codec
@testable import Cores
import Foundation
import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// Loadable cores (issue 28): a tANS decoder or Huffman decoder or encoder whose tables are RAM slots loaded at run time
/// through `s_table` from table images (`TableImage`), checked against the reference coder of
/// each frame's codebook after loads, reloads between frames, and refused images.
@Suite("Loadable cores (tANS decoders, Huffman decoders and encoders): tables loaded at run time through s_table", .serialized)
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
            // (A tANS encoder's output comes a frame after its input: room to drain.)
            for _ in 0..<3000 { _ = cycle(table: nil, word: nil) }
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
            for (slot, book) in set.members.enumerated() { bench.run(image: try TableImage.words(book, slot: slot, role: .decoder)) }
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
            bench.run(image: try TableImage.words(other, slot: 0, role: .decoder))
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
        var magic = try TableImage.words(set.members[0], slot: 0, role: .decoder)
        magic[0] ^= 1
        let good = try TableImage.words(set.members[0], slot: 0, role: .decoder)
        let cases: [(String, [UInt32])] = [
            ("tableLog past the core's", try TableImage.words(big, slot: 0, role: .decoder)), ("another layout", try TableImage.words(split, slot: 1, role: .decoder)),
            ("slot past the last", try TableImage.words(set.members[0], slot: 2, role: .decoder)), ("wrong magic", magic), ("cut short", Array(good.dropLast(3))),
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

    /// A loadable encoder with every member of `set` loaded into the slot of its id: frames of
    /// ids 2, 0, 0, 1, 2, 1, 0 (frame f: one value when f mod 3 is 1, else 15 + `growth` x f)
    /// code into the reference stream; then slot 1, reloaded with `other`, codes a frame of 40
    /// values with it.
    static func checkEncoder(_ core: Module, _ set: CodebookSet, growth: Int, ready: Int, random: inout RandomCodebooks,
                             other: (inout RandomCodebooks) throws -> Codebook) throws {
        let bench = try Bench(core, readyPercent: ready)
        for (slot, member) in set.members.enumerated() { bench.run(image: try TableImage.words(member, slot: slot, role: .encoder)) }
        #expect(!bench.error, "error after loading")
        let ids = [2, 0, 0, 1, 2, 1, 0]
        var values: [(UInt32, Bool, Int)] = [], sizes: [Int] = [], flat: [UInt32] = []
        for (f, id) in ids.enumerated() {
            let frame = random.values(count: f % 3 == 1 ? 1 : 15 + growth * f, for: set.members[id])
            values += frame.enumerated().map { ($0.element, $0.offset == frame.count - 1, id) }
            sizes.append(frame.count)
            flat += frame
        }
        let expected = try set.encodeFrames(flat, frameSizes: sizes, ids: ids).words
        bench.run(words: values)
        #expect(!bench.error && bench.values.count == expected.count, "\(bench.values.count) of \(expected.count) words, error \(bench.error)")
        #expect(zip(bench.values, expected).allSatisfy { $0.value == UInt64($1.word) && $0.last == $1.endsFrame }, "words differ (ready \(ready))")
        // Slot 1 reloaded with another table.
        let reloaded = try other(&random)
        bench.values = []
        bench.run(image: try TableImage.words(reloaded, slot: 1, role: .encoder))
        let frame = random.values(count: 40, for: reloaded)
        let again = try CodebookSet(name: "again", members: [reloaded]).encodeFrames(frame, frameSizes: [40], ids: [0]).words
        bench.run(words: frame.enumerated().map { ($0.element, $0.offset == 39, 1) })
        #expect(!bench.error && bench.values.map(\.value) == again.map { UInt64($0.word) }, "after the reload: \(bench.values.count) of \(again.count) words")
    }

    @Test("a loadable Huffman encoder: tables loaded into every slot code frames of random ids into the reference stream; a slot reloaded between frames codes with its new table; an image that does not fit raises error")
    func huffmanEncoder() throws {
        var random = RandomCodebooks(seed: 31)
        let layout = ValueLayout(transform: .split, symbolBits: 6, rawBits: 10)
        func book(_ name: String, _ maxLength: Int, _ random: inout RandomCodebooks) throws -> Codebook {
            try Codebook(name: name, coder: .huffman(codeLengths: random.huffmanLengths(entries: 66, maxLength: maxLength)), layout: layout)
        }
        let set = try CodebookSet(name: "henc", members: [try book("h0", 12, &random), try book("h1", 9, &random), try book("h2", 14, &random)])
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .encoder, loadable: true))
        #expect(core.port(named: "s_table_tdata") != nil && core.port(named: "error") != nil)
        for ready in [100, 60] {
            try Self.checkEncoder(core, set, growth: 9, ready: ready, random: &random) { try book("h3", 10, &$0) }
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
        bench.run(image: try TableImage.words(long, slot: 0, role: .encoder), cycles: 3000)
        #expect(bench.error, "an image with codes past the core's longest raised no error")
    }

    @Test("a loadable tANS encoder: tables loaded into every slot code frames of random ids into the reference stream (tableLogs below the core's, escapes); a slot reloaded between frames codes with its new table; what does not fit raises error, a frame of an empty slot is dropped with error")
    func tansEncoder() throws {
        let set = try Self.set(seed: 91, members: 3)
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .encoder, maxFrame: 512, loadable: true))
        #expect(core.port(named: "s_table_tdata") != nil && core.port(named: "error") != nil)
        var random = RandomCodebooks(seed: 92)
        let capacity = try CoreGenerator.loadableCapacity(set).tableLog
        for ready in [100, 60] {
            try Self.checkEncoder(core, set, growth: 23, ready: ready, random: &random) {
                try Codebook(name: "t3", coder: .tans(tableLog: capacity - 1, counts: $0.tansCounts(entries: 258, tableLog: capacity - 1)), layout: set.members[0].layout)
            }
        }
        // Refusals: a tableLog past the core's, a decoder's image, a state past the table, cut short; an empty slot.
        let big = try Codebook(name: "big", coder: .tans(tableLog: capacity + 1, counts: random.tansCounts(entries: 258, tableLog: capacity + 1)),
                               layout: set.members[0].layout)
        let good = try TableImage.words(set.members[0], slot: 0, role: .encoder)
        var badState = good
        badState[badState.count - 1] = 1 << 15
        let cases: [(String, [UInt32])] = [
            ("tableLog past the core's", try TableImage.words(big, slot: 0, role: .encoder)),
            ("a decoder's image", try TableImage.words(set.members[0], slot: 0, role: .decoder)),
            ("a state past the table", badState), ("cut short", Array(good.dropLast(2))),
        ]
        for (label, image) in cases {
            let bench = try Bench(core)
            bench.run(image: image, cycles: 5000)
            #expect(bench.error, "\(label): no error")
        }
        let empty = try Bench(core)
        empty.run(words: random.values(count: 10, for: set.members[0]).enumerated().map { ($0.element, $0.offset == 9, 1) }, cycles: 2000)
        #expect(empty.error && empty.values.isEmpty, "empty slot: error \(empty.error), \(empty.values.count) words")
    }

    /// A random Huffman set of one layout: codes up to `longest` bits (complete or not; some
    /// symbols escaped), each member's longest code drawn from 2 to `longest`.
    static func huffmanSet(seed: UInt64, members: Int, layout: ValueLayout, longest: Int) throws -> CodebookSet {
        var random = RandomCodebooks(seed: seed)
        let books = try (0..<members).map { j -> Codebook in
            let maxLength = j == 0 ? longest : 2 + Int(random.random.next() % UInt64(longest - 1))
            return try Codebook(name: "h\(seed)_m\(j)", coder: .huffman(codeLengths: random.huffmanLengths(entries: layout.symbolCount + 2, maxLength: maxLength)),
                                layout: layout)
        }
        return try CodebookSet(name: "hdec\(seed)", members: books)
    }

    @Test("a decode image's limits and offsets give every code's length (the first limit its bits are below) and canonical rank (a limit planted off by one fails here)")
    func huffmanDecodeImage() throws {
        var random = RandomCodebooks(seed: 41)
        for trial in 0..<40 {
            let lengths = random.huffmanLengths(entries: 2 + [2, 4, 64, 256][trial % 4], maxLength: 1 + trial % 16)
            let code = CanonicalCode(lengths: lengths)
            let rows = HuffmanDecodeLimits(lengths: lengths).rows
            let order = HuffmanDecoderCore.rankOrder(lengths)
            for (rank, entry) in order.enumerated() {
                let l = lengths[entry], c = Int(code.codes[entry])
                // Every pattern that starts with the code finds length l first.
                for tail in [0, (1 << (16 - l)) - 1] {
                    let pattern = c << (16 - l) | tail
                    let found = rows.indices.first { pattern >> (16 - ($0 + 1)) < rows[$0].limit }.map { $0 + 1 }
                    #expect(found == l, "trial \(trial): entry \(entry) (code \(c), length \(l)) found length \(String(describing: found))")
                }
                #expect((c + rows[l - 1].offset) & 0x7FFF == rank, "trial \(trial): entry \(entry) rank")
            }
            let image = try TableImage.words(try Codebook(name: "t", coder: .huffman(codeLengths: lengths),
                                                          layout: ValueLayout(transform: .identity, symbolBits: Self.bits(lengths.count - 2), rawBits: 0)),
                                             slot: 0, role: .decoder)
            let maxLength = code.maxLength
            #expect(image.count == 3 + maxLength + 2 + order.count && image[1] & 0xFF == UInt32(maxLength) && (image[1] >> 16) & 0xFF == TableImage.huffmanDecodeCoder)
            #expect(Array(image[(5 + maxLength)...]) == order.map(UInt32.init), "entries in canonical order")
        }
    }

    /// Bits of a symbol index for `n` symbols (a power of two).
    static func bits(_ n: Int) -> Int { n.trailingZeroBitCount }

    @Test("a loadable Huffman decoder: tables loaded into every slot decode frames of random ids bit-exact (codes shorter than the core's, incomplete codes, escapes); a slot reloaded between frames decodes with its new table; what does not fit raises error")
    func huffmanDecoder() throws {
        for (seed, layout, longest) in [(UInt64(51), ValueLayout(transform: .split, symbolBits: 6, rawBits: 10), 13),
                                        (52, ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8), 16),
                                        (53, ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0), 4)] {
            let set = try Self.huffmanSet(seed: seed, members: 3, layout: layout, longest: longest)
            let core = try CoreGenerator.module(for: set, CoreRequest(role: .decoder, loadable: true))
            #expect(core.port(named: "s_table_tdata") != nil && core.port(named: "s_axis_tuser")?.width == 2)
            let capacity = try CoreGenerator.loadableCapacity(set).tableLog
            for ready in [100, 55] {
                let bench = try Bench(core, readyPercent: ready)
                for (slot, book) in set.members.enumerated() { bench.run(image: try TableImage.words(book, slot: slot, role: .decoder)) }
                #expect(!bench.error, "seed \(seed): error after loading")
                let first = try Self.frames(set, ids: [0, 2, 1, 1, 0, 2, 2, 1, 0], seed: seed + 7)
                bench.run(words: first.words)
                #expect(!bench.error && bench.values.count == first.values.count, "seed \(seed): \(bench.values.count) of \(first.values.count) values, error \(bench.error)")
                #expect(zip(bench.values, first.values).allSatisfy { $0.value == $1.0 && $0.last == $1.1 && $0.id == $1.2 }, "seed \(seed): values differ (ready \(ready))")
                // Slot 2 reloaded with another codebook of the layout.
                var random = RandomCodebooks(seed: seed + 100)
                let other = try Codebook(name: "reloaded", coder: .huffman(codeLengths: random.huffmanLengths(entries: layout.symbolCount + 2, maxLength: capacity)), layout: layout)
                let swapped = try CodebookSet(name: "swapped", members: [set.members[0], set.members[1], other])
                bench.values = []
                bench.run(image: try TableImage.words(other, slot: 2, role: .decoder))
                let second = try Self.frames(swapped, ids: [2, 0, 2, 1], seed: seed + 8)
                bench.run(words: second.words)
                #expect(!bench.error && bench.values.count == second.values.count && zip(bench.values, second.values).allSatisfy { $0.value == $1.0 && $0.id == $1.2 },
                        "seed \(seed), after the reload: \(bench.values.count) of \(second.values.count) values, error \(bench.error)")
            }
        }
        // Refusals: codes past the core's longest, an encoder's image, another layout, a slot
        // past the last, cut short, too long, a limit past 2^l; an empty slot.
        let layout = ValueLayout(transform: .split, symbolBits: 6, rawBits: 10)
        let set = try Self.huffmanSet(seed: 54, members: 2, layout: layout, longest: 10)
        let core = try CoreGenerator.module(for: set, CoreRequest(role: .decoder, loadable: true))
        var lengths = [Int](repeating: 0, count: 66)
        for i in 0..<11 { lengths[i] = i + 1 }
        lengths[64] = 11
        lengths[65] = 2
        let long = try Codebook(name: "long", coder: .huffman(codeLengths: Self.kraft(lengths)), layout: layout)
        let other = try Codebook(name: "other", coder: set.members[0].coder, layout: ValueLayout(transform: .split, symbolBits: 6, rawBits: 9))
        let good = try TableImage.words(set.members[0], slot: 0, role: .decoder)
        var broken = good
        broken[4] = 5 << 15 | broken[4] & 0x7FFF  // length 2's limit past 2^2
        let cases: [(String, [UInt32])] = [
            ("codes past the core's longest", try TableImage.words(long, slot: 0, role: .decoder)),
            ("an encoder's image", try TableImage.words(set.members[0], slot: 0, role: .encoder)),
            ("another layout", try TableImage.words(other, slot: 1, role: .decoder)),
            ("slot past the last", try TableImage.words(set.members[0], slot: 2, role: .decoder)),
            ("cut short", Array(good.dropLast(2))), ("too long", good + [0]), ("a limit past 2^l", broken),
        ]
        for (label, image) in cases {
            let bench = try Bench(core)
            bench.run(image: image, cycles: 3000)
            #expect(bench.error, "\(label): no error")
        }
        let empty = try Bench(core)
        empty.run(words: try Self.frames(set, ids: [1], seed: 4).words, cycles: 2000)
        #expect(empty.error && empty.values.isEmpty, "empty slot: error \(empty.error), \(empty.values.count) values")
    }

    @Test("an image sent while a frame is half in waits for that frame's end, then the frames after it use the new table (decoders and encoders of both coders)")
    func loadDuringFrame() throws {
        var random = RandomCodebooks(seed: 81)
        let layout = ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8)
        let huffman = try Self.huffmanSet(seed: 82, members: 2, layout: layout, longest: 11)
        let tans = try Self.set(seed: 83, members: 2)
        for (set, role) in [(huffman, CoreRequest.Role.encoder), (huffman, .decoder), (tans, .decoder), (tans, .encoder)] {
            let core = try CoreGenerator.module(for: set, CoreRequest(role: role, loadable: true))
            let bench = try Bench(core)
            for (slot, book) in set.members.enumerated() { bench.run(image: try TableImage.words(book, slot: slot, role: role)) }
            // Frame 1 of member 0, then (sent with the image that puts member 1's table into
            // slot 0) the rest of it, then frame 2 of slot 0, now member 1.
            let again = try Codebook(name: "again", coder: set.members[1].coder, layout: set.members[1].layout)
            let first = random.values(count: 300, for: set.members[0]), second = random.values(count: 200, for: set.members[1])
            let before = try CodebookSet(name: "before", members: [set.members[0]]).encodeFrames(first, frameSizes: [first.count], ids: [0])
            let after = try CodebookSet(name: "after", members: [again]).encodeFrames(second, frameSizes: [second.count], ids: [0])
            let image = try TableImage.words(set.members[1], slot: 0, role: role)
            if role == .encoder {
                bench.run(words: first.prefix(100).map { ($0, false, 0) }, cycles: 400)
                bench.run(image: image, words: first.dropFirst(100).enumerated().map { ($0.element, $0.offset == 199, 0) }
                          + second.enumerated().map { ($0.element, $0.offset == second.count - 1, 0) }, cycles: 20_000)
                let expected = (before.words + after.words).map { UInt64($0.word) }
                #expect(!bench.error && bench.values.map(\.value) == expected, "\(core.name): \(bench.values.count) of \(expected.count) words, error \(bench.error)")
            } else {
                let words = before.words.map { ($0.word, $0.endsFrame, 0) }
                bench.run(words: Array(words.prefix(words.count / 2)), cycles: 400)
                bench.run(image: image, words: Array(words.dropFirst(words.count / 2)) + after.words.map { ($0.word, $0.endsFrame, 0) }, cycles: 20_000)
                let expected = (first + second).map(UInt64.init)
                #expect(!bench.error && bench.values.map(\.value) == expected, "\(core.name): \(bench.values.count) of \(expected.count) values, error \(bench.error)")
            }
        }
    }

    /// A loadable core with `s_table` folded into `s_axis` for the four-state bench: input beats
    /// `{to_table, tuser, tdata}` (data as wide as the wider of the table's 32 bits and the core's
    /// input), a beat with `to_table` set going to `s_table`, `m_axis_tuser` folded into
    /// `m_axis_tdata` (`UserInData`).
    static func tableInData(_ core: Module) throws -> Module {
        let inner = try UserInData.wrap(core, name: "\(core.name)_user")
        let dataWidth = try #require(inner.port(named: "s_axis_tdata")).width
        let userWidth = try #require(core.port(named: "s_axis_tuser")).width
        let wordWidth = dataWidth - userWidth
        let packed = max(32, wordWidth)
        return try Module("\(core.name)_fourstate_in") { m in
            let dut = m.instance(inner, name: "dut")
            let data = m.input("s_axis_tdata", width: 1 + userWidth + packed)
            let valid = m.input("s_axis_tvalid"), last = m.input("s_axis_tlast")
            let toTable = data[userWidth + packed, userWidth + packed]
            dut["s_table_tdata"].assign(data.bits(31, 0))
            dut["s_table_tlast"].assign(last)
            dut["s_table_tvalid"].assign(valid && toTable)
            dut["s_axis_tdata"].assign(cat(data.bits(userWidth + packed - 1, packed), data.bits(wordWidth - 1, 0)))
            dut["s_axis_tlast"].assign(last)
            dut["s_axis_tvalid"].assign(valid && !toTable)
            // (tready follows the offered beat's target; no beat offered, its data is X: 0.)
            m.output("s_axis_tready").assign((valid && toTable && dut["s_table_tready"]) || (valid && !toTable && dut["s_axis_tready"]))
            for port in inner.ports where port.direction != .input && !["s_axis_tready", "s_table_tready"].contains(port.name) {
                m.output(port.name, width: port.width).assign(dut[port.name])
            }
            for port in inner.ports where port.direction == .input && port.name.hasPrefix("m_") {
                dut[port.name].assign(m.input(port.name, width: port.width))
            }
        }
    }

    @Test("four-state: the loadable decoders and encoders of both coders load two slots, code frames of both and take a reload the same beat for beat in Icarus and Verilator, bit-exact, no X on outputs")
    func fourState() throws {
        let tans = try Self.set(seed: 61, members: 2)
        let huffman = try Self.huffmanSet(seed: 62, members: 2, layout: ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8), longest: 12)
        var random = RandomCodebooks(seed: 63)
        var runs: [(String, Module, [AxisBeat], [AxisBeat])] = []
        for (set, role) in [(tans, CoreRequest.Role.decoder), (tans, .encoder), (huffman, .decoder), (huffman, .encoder)] {
            let core = try CoreGenerator.module(for: set, CoreRequest(role: role, loadable: true))
            let top = try Self.tableInData(core)
            let packed = max(32, set.members[0].layout.valueBits), userShift = UInt64(packed), tableBit = UInt64(packed + 1)
            func table(_ book: Codebook, _ slot: Int) throws -> [AxisBeat] {
                let image = try TableImage.words(book, slot: slot, role: role)
                return image.enumerated().map { AxisBeat([1 << tableBit | UInt64($0.element)], last: $0.offset == image.count - 1) }
            }
            var beats = try table(set.members[0], 0) + table(set.members[1], 1)
            var expected: [AxisBeat] = []
            let valueBits = UInt64(set.members[0].layout.valueBits)
            for (round, ids) in [[1, 0, 0, 1], [1, 1, 0]].enumerated() {
                if round == 1 { beats += try table(set.members[0], 1) }  // slot 1 reloaded with member 0's table
                let again = try Codebook(name: "again", coder: set.members[0].coder, layout: set.members[0].layout)
                let books = round == 0 ? set.members : [set.members[0], again]
                var values: [UInt32] = [], sizes: [Int] = []
                for (f, id) in ids.enumerated() {
                    let frame = random.values(count: f == 2 ? 1 : 30 + 11 * f, for: books[id])
                    values += frame
                    sizes.append(frame.count)
                }
                let stream = try CodebookSet(name: "round", members: books).encodeFrames(values, frameSizes: sizes, ids: ids)
                var wordIds: [UInt64] = [], previous = 0
                for (end, id) in zip(stream.frameEnds, ids) {
                    wordIds += [UInt64](repeating: UInt64(id), count: (end - previous) / 4)
                    previous = end
                }
                let words = zip(stream.words, wordIds).map { ($0.word, $0.endsFrame, $1) }
                var valueBeats: [(UInt64, Bool, UInt64)] = [], at = 0
                for (size, id) in zip(sizes, ids) {
                    for i in 0..<size { valueBeats.append((UInt64(values[at + i]), i == size - 1, UInt64(id))) }
                    at += size
                }
                if role == .decoder {
                    beats += words.map { AxisBeat([$0.2 << userShift | UInt64($0.0)], last: $0.1) }
                    expected += valueBeats.map { AxisBeat([$0.2 << valueBits | $0.0], last: $0.1) }
                } else {
                    beats += valueBeats.map { AxisBeat([$0.2 << userShift | $0.0], last: $0.1) }
                    expected += words.map { AxisBeat([$0.2 << 32 | UInt64($0.0)], last: $0.1) }
                }
            }
            runs.append(("\(role) of \(set.name)", top, beats, expected))
        }
        let library = try SimulationBuilder().build(try runs.map { try FourStateBench.verilatorTop($0.1, name: "\($0.1.name)_v") })
        for (label, top, beats, expected) in runs {
            let run = try AxisBenchRun(top, beats: beats, expected: .beats(expected))
            let bench = try FourStateBench.IcarusBench(run)
            let sim = try library.simulation(of: "\(top.name)_v")
            for (n, pattern) in [(100, 100), (60, 100), (100, 40), (50, 50)].enumerated() {
                let stimulus = pattern == (100, 100) ? Stimulus.fullRate
                    : Stimulus.random(validPercent: pattern.0, readyPercent: pattern.1, seed: UInt64(n + 1), count: 40 * (beats.count + expected.count))
                let verdict = try FourStateBench.check(run, icarus: bench, verilator: sim, stimulus: stimulus)
                #expect(verdict.passed, "\(label), valid \(pattern.0)% ready \(pattern.1)%: \(verdict.description)")
            }
        }
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
