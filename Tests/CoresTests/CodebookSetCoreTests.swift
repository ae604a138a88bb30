import Codec
import Cores
import Foundation
import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// Cores for codebook sets (FORMAT.md section 13): each frame coded exactly as its member's own
/// core would, the id on `tuser` with every beat, under Icarus (four-state) and Verilator beat by
/// beat, against the reference coder of each frame's member (`CodebookSet.encodeFrames`, which
/// codes each frame with that member's `StreamCodec`).
@Suite("Codebook set cores: frames of any member, bit-exact, id on tuser", .serialized)
struct CodebookSetCoreTests {
    /// One core of a set over frames of values with ids, as a four-state bench run (tuser folded
    /// into tdata by `UserInData`).
    struct Case: Sendable, CustomTestStringConvertible {
        let set: CodebookSet
        let decoder: Bool
        let values: [UInt32]
        let frameSizes: [Int]
        let ids: [Int]
        /// Frame engines (P = Q = 1, so the bench's beats are one element), nil for none.
        var engines: Int? = nil
        var testDescription: String { "\(decoder ? "decoder" : "encoder") of \(set.name) (\(set.members.count) members\(engines.map { ", \($0) engines" } ?? ""))" }
        var topName: String { "\(set.name)_\(decoder ? "dec" : "enc")\(engines.map { "_n\($0)" } ?? "")_user_in_data" }

        func core() throws -> Module {
            try CoreGenerator.module(for: set, CoreRequest(role: decoder ? .decoder : .encoder, valuesPerBeat: engines.map { _ in 1 },
                                                           wordsPerBeat: engines.map { _ in 1 }, engines: engines, maxFrame: engines == nil ? TANSEncoderCore.defaultMaxFrame : 128))
        }

        func top() throws -> Module { try UserInData.wrap(try core(), name: topName) }

        /// Input beats and expected output: decoders take every frame (empty ones too: an EOF
        /// word) and give values of the non-empty ones; encoders take the non-empty frames.
        func run(_ top: Module) throws -> AxisBenchRun {
            let valueBits = set.members[0].layout.valueBits
            let kept = frameSizes.indices.filter { decoder || frameSizes[$0] > 0 }
            var sizes: [Int] = [], frameIds: [Int] = [], coded: [UInt32] = []
            var start = 0
            var starts: [Int] = []
            for size in frameSizes { starts.append(start); start += size }
            for k in kept {
                sizes.append(frameSizes[k])
                frameIds.append(ids[k])
                coded += values[starts[k]..<(starts[k] + frameSizes[k])]
            }
            let stream = try set.encodeFrames(coded, frameSizes: sizes, ids: frameIds)
            // Each word's frame, for its id.
            var wordIds: [UInt64] = []
            var previous = 0
            for (end, id) in zip(stream.frameEnds, frameIds) {
                wordIds += [UInt64](repeating: UInt64(id), count: (end - previous) / 4)
                previous = end
            }
            let words = zip(stream.words, wordIds).map { AxisBeat([$1 << 32 | UInt64($0.word)], last: $0.endsFrame) }
            var valueBeats: [AxisBeat] = []
            var at = 0
            for (size, id) in zip(sizes, frameIds) {
                for i in 0..<size { valueBeats.append(AxisBeat([UInt64(id) << UInt64(valueBits) | UInt64(coded[at + i])], last: i == size - 1)) }
                at += size
            }
            return try AxisBenchRun(top, beats: decoder ? words : valueBeats, expected: .beats(decoder ? valueBeats : words))
        }
    }

    /// Runs every case under Icarus and Verilator (one Verilator build for all), full rate and
    /// random valid/ready; returns the failures.
    static func check(_ cases: [Case], patterns: [(valid: Int, ready: Int)]) throws -> [String] {
        let tops = try cases.map { try $0.top() }
        let library = try SimulationBuilder().build(try tops.map { try FourStateBench.verilatorTop($0, name: "\($0.name)_fourstate") })
        var failures: [String] = []
        for (c, top) in zip(cases, tops) {
            let run = try c.run(top)
            let bench = try FourStateBench.IcarusBench(run)
            let sim = try library.simulation(of: "\(top.name)_fourstate")
            for (n, pattern) in patterns.enumerated() {
                let stimulus = pattern.valid == 100 && pattern.ready == 100 ? Stimulus.fullRate
                    : Stimulus.random(validPercent: pattern.valid, readyPercent: pattern.ready, seed: UInt64(n + 1), count: 40 * (run.beats.count + run.expected.count))
                let verdict = try FourStateBench.check(run, icarus: bench, verilator: sim, stimulus: stimulus)
                if !verdict.passed { failures.append("\(c.testDescription), valid \(pattern.valid)% ready \(pattern.ready)%: \(verdict.description)") }
            }
        }
        return failures
    }

    static let patterns: [(valid: Int, ready: Int)] = [(100, 100), (60, 100), (100, 40), (50, 50)]

    /// `frames` frames of random members of `set` and their values: frame f is empty when
    /// f mod `period` is `period` - 2, one value when it is 1, else 1 to `longest` values.
    static func randomFrames(_ set: CodebookSet, _ random: inout RandomCodebooks, frames: Int, period: Int, longest: Int)
        -> (values: [UInt32], sizes: [Int], ids: [Int]) {
        var values: [UInt32] = [], sizes: [Int] = [], ids: [Int] = []
        for f in 0..<frames {
            let id = Int(random.random.next() % UInt64(set.members.count))
            let size = f % period == period - 2 ? 0 : f % period == 1 ? 1 : 1 + Int(random.random.next() % UInt64(longest))
            values += random.values(count: size, for: set.members[id])
            sizes.append(size)
            ids.append(id)
        }
        return (values, sizes, ids)
    }

    /// Vector 22: its set's encoder writes `stream.hex` (less the EOF word of its empty frame,
    /// which a hardware encoder cannot be asked for, section 8) and its decoder reads it back,
    /// the id on every beat.
    @Test func vector22BothWays() throws {
        let vector = try SetVector.load()
        let bytes = try #require(vector.files.first { $0.name == "good-huffman-32bit.json" }).bytes
        let set = try CodebookSet.parse(bytes)
        // The reference coder writes the vector's stream, so the benches' expectations are the vector's.
        #expect(try set.encodeFrames(vector.values, frameSizes: vector.frameSizes, ids: vector.ids).bytes == vector.stream)
        #expect(vector.frameSizes.contains(0), "the vector has an empty frame: the decoder must skip it")
        let cases = [true, false].map { Case(set: set, decoder: $0, values: vector.values, frameSizes: vector.frameSizes, ids: vector.ids) }
        let failures = try Self.check(cases, patterns: Self.patterns)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Random sets of 2-16 Huffman members, mixed transforms and code lengths (complete codes and
    /// not), frames of random ids and sizes (an id change on most frames, one-value and empty
    /// frames), both cores, four valid/ready patterns.
    @Test func randomSets() throws {
        var random = RandomCodebooks(seed: 28)
        let shapes: [(members: Int, valueBits: Int)] = TestScale.pick(
            quick: [(2, 16), (3, 12), (5, 32)],
            long: [(2, 16), (3, 12), (5, 32), (8, 16), (16, 16), (4, 8), (7, 24), (11, 16)])
        var cases: [Case] = []
        for (n, shape) in shapes.enumerated() {
            let set = random.set(coder: "huffman", members: shape.members, valueBits: shape.valueBits, name: "rset\(n)")
            let (values, sizes, ids) = Self.randomFrames(set, &random, frames: TestScale.pick(quick: 12, long: 40), period: 5, longest: 60)
            for decoder in [true, false] { cases.append(Case(set: set, decoder: decoder, values: values, frameSizes: sizes, ids: ids)) }
        }
        let failures = try Self.check(cases, patterns: Self.patterns)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Random sets of tANS members (mixed transforms and tableLogs 5-15, so tables of different
    /// sizes share one RAM): both cores, frames of random ids, four patterns.
    @Test func randomTANSSets() throws {
        var random = RandomCodebooks(seed: 2828)
        let shapes: [(members: Int, valueBits: Int)] = TestScale.pick(quick: [(2, 16), (3, 10)], long: [(2, 16), (3, 10), (6, 32), (9, 16), (16, 12)])
        var cases: [Case] = []
        for (n, shape) in shapes.enumerated() {
            let set = random.set(coder: "tans", members: shape.members, valueBits: shape.valueBits, name: "tset\(n)")
            let (values, sizes, ids) = Self.randomFrames(set, &random, frames: TestScale.pick(quick: 10, long: 40), period: 4, longest: 80)
            for decoder in [true, false] { cases.append(Case(set: set, decoder: decoder, values: values, frameSizes: sizes, ids: ids)) }
        }
        let failures = try Self.check(cases, patterns: Self.patterns)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Set cores with frame engines: every engine holds the set's tables, the id travels with
    /// each word or value through the engines' buffers; N = 2 and 3, both coders and roles,
    /// frames of random ids (one-value and empty ones), four patterns.
    @Test func setsWithEngines() throws {
        var random = RandomCodebooks(seed: 2812)
        var cases: [Case] = []
        for (n, (coder, engines)) in [("huffman", 2), ("tans", 3)].enumerated() {
            let set = random.set(coder: coder, members: 3, valueBits: 16, name: "eset\(n)")
            let (values, sizes, ids) = Self.randomFrames(set, &random, frames: TestScale.pick(quick: 12, long: 40), period: 5, longest: 120)
            for decoder in [true, false] { cases.append(Case(set: set, decoder: decoder, values: values, frameSizes: sizes, ids: ids, engines: engines)) }
        }
        let failures = try Self.check(cases, patterns: Self.patterns)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// The benches can fail: a set whose members are swapped (ids naming the other codebook)
    /// does not give the reference stream.
    @Test func swappedMembersAreCaught() throws {
        let vector = try SetVector.load()
        let bytes = try #require(vector.files.first { $0.name == "good-huffman-32bit.json" }).bytes
        let set = try CodebookSet.parse(bytes)
        let swapped = try CodebookSet(name: set.name, members: set.members.reversed())
        for decoder in [true, false] {
            let reference = Case(set: set, decoder: decoder, values: vector.values, frameSizes: vector.frameSizes, ids: vector.ids)
            let wrongCore = Case(set: swapped, decoder: decoder, values: vector.values, frameSizes: vector.frameSizes, ids: vector.ids)
            let run = try reference.run(try wrongCore.top())
            let verdict = try FourStateBench.check(run, icarus: try FourStateBench.IcarusBench(run), verilator: nil, stimulus: .fullRate)
            #expect(!verdict.passed, "\(decoder ? "decoder" : "encoder") with swapped members passed: \(verdict.icarus)")
        }
    }

    /// Drives `core` at full rate with `beats` (tdata, tlast, tuser) for `cycles` cycles; returns
    /// the output beats (tdata, tlast, tuser) and whether `error` rose.
    static func drive(_ core: Module, beats: [(data: UInt64, last: Bool, user: UInt64)], cycles: Int) throws -> (out: [(UInt64, Bool, UInt64)], error: Bool) {
        let sim = try SimulationBuilder().build([core]).simulation(of: core.name)
        let (sData, sLast, sUser, sValid, sReady) = (try sim.port("s_axis_tdata"), try sim.port("s_axis_tlast"), try sim.port("s_axis_tuser"),
                                                     try sim.port("s_axis_tvalid"), try sim.port("s_axis_tready"))
        let (mData, mLast, mUser, mValid, mReady, error) = (try sim.port("m_axis_tdata"), try sim.port("m_axis_tlast"), try sim.port("m_axis_tuser"),
                                                            try sim.port("m_axis_tvalid"), try sim.port("m_axis_tready"), try sim.port("error"))
        sim.reset()
        var out: [(UInt64, Bool, UInt64)] = []
        var at = 0, rose = false
        sim.poke(mReady, 1)
        for _ in 0..<cycles {
            let beat = at < beats.count ? beats[at] : nil
            sim.poke(sData, beat?.data ?? 0)
            sim.poke(sLast, beat?.last == true ? 1 : 0)
            sim.poke(sUser, beat?.user ?? 0)
            sim.poke(sValid, beat == nil ? 0 : 1)
            sim.eval()
            if sim.peek(mValid) == 1 { out.append((sim.peek(mData), sim.peek(mLast) == 1, sim.peek(mUser))) }
            if sim.peek(error) == 1 { rose = true }
            let taken = beat != nil && sim.peek(sReady) == 1
            sim.tick()
            if taken { at += 1 }
        }
        return (out, rose)
    }

    /// An id that names no codebook (a set of 3: ids 3 on 2 bits): the decoder raises `error`
    /// after giving the frames before it whole; the encoder drops that frame, raises `error`
    /// and codes the frames after it.
    @Test func idNamingNoCodebook() throws {
        var random = RandomCodebooks(seed: 2803)
        let set = random.set(coder: "huffman", members: 3, valueBits: 16, name: "three")
        #expect(set.idBits == 2)
        let sizes = [20, 7, 9], ids = [2, 3, 0]
        let frames = zip(sizes, ids).map { size, id in random.values(count: size, for: set.members[id == 3 ? 1 : id]) }
        // Decoder: frame 0 coded by member 2, then frame 0 again with id 3.
        let good = try set.encodeFrames(frames[0], frameSizes: [sizes[0]], ids: [2]).words
        let input = good.map { (UInt64($0.word), $0.endsFrame, UInt64(2)) } + good.map { (UInt64($0.word), $0.endsFrame, UInt64(3)) }
        let decoded = try Self.drive(try CoreGenerator.module(for: set, CoreRequest(role: .decoder)), beats: input, cycles: 400)
        #expect(decoded.error, "the decoder did not raise error for id 3")
        #expect(decoded.out.map(\.0) == frames[0].map(UInt64.init), "the frame before the bad id did not come out whole")
        #expect(decoded.out.allSatisfy { $0.2 == 2 }, "values of frame 0 carry an id other than 2")
        // Encoder: frames of ids 2, 3, 0: the middle one is dropped.
        var beats: [(data: UInt64, last: Bool, user: UInt64)] = []
        for (frame, id) in zip(frames, ids) {
            beats += frame.enumerated().map { (UInt64($0.element), $0.offset == frame.count - 1, UInt64(id)) }
        }
        let expected = try set.encodeFrames(frames[0] + frames[2], frameSizes: [sizes[0], sizes[2]], ids: [2, 0]).words
        let encoded = try Self.drive(try CoreGenerator.module(for: set, CoreRequest(role: .encoder)), beats: beats, cycles: 400)
        #expect(encoded.error, "the encoder did not raise error for id 3")
        #expect(encoded.out.map(\.0) == expected.map { UInt64($0.word) }, "the encoder did not code exactly frames 0 and 2")
        #expect(encoded.out.map(\.1) == expected.map(\.endsFrame))
        let firstWords = try set.encodeFrames(frames[0], frameSizes: [sizes[0]], ids: [2]).words.count
        #expect(encoded.out.map(\.2) == [UInt64](repeating: 2, count: firstWords) + [UInt64](repeating: 0, count: expected.count - firstWords))
    }

    /// The tANS set cores meet an id that names no codebook as the Huffman ones do: the decoder
    /// gives the frame before it whole, then `error`; the encoder drops that frame.
    @Test func tansIdNamingNoCodebook() throws {
        var random = RandomCodebooks(seed: 2804)
        let set = random.set(coder: "tans", members: 3, valueBits: 16, name: "tthree")
        let frame = random.values(count: 25, for: set.members[1])
        let good = try set.encodeFrames(frame, frameSizes: [frame.count], ids: [1]).words
        let input = good.map { (UInt64($0.word), $0.endsFrame, UInt64(1)) } + good.map { (UInt64($0.word), $0.endsFrame, UInt64(3)) }
        let decoded = try Self.drive(try CoreGenerator.module(for: set, CoreRequest(role: .decoder)), beats: input, cycles: 400)
        #expect(decoded.error, "the decoder did not raise error for id 3")
        #expect(decoded.out.map(\.0) == frame.map(UInt64.init) && decoded.out.allSatisfy { $0.2 == 1 }, "\(decoded.out.count) values out")
        // The encoder: frames of ids 1, 3, 0, the middle one dropped.
        let last = random.values(count: 9, for: set.members[0])
        var beats: [(data: UInt64, last: Bool, user: UInt64)] = []
        for (values, id) in [(frame, 1), (frame, 3), (last, 0)] {
            beats += values.enumerated().map { (UInt64($0.element), $0.offset == values.count - 1, UInt64(id)) }
        }
        let expected = try set.encodeFrames(frame + last, frameSizes: [frame.count, last.count], ids: [1, 0]).words
        let encoded = try Self.drive(try CoreGenerator.module(for: set, CoreRequest(role: .encoder)), beats: beats, cycles: 600)
        #expect(encoded.error, "the encoder did not raise error for id 3")
        #expect(encoded.out.map(\.0) == expected.map { UInt64($0.word) } && encoded.out.map(\.1) == expected.map(\.endsFrame), "\(encoded.out.count) words out")
    }

    /// A set of one codebook codes exactly as that codebook's own core (one-member sets have a
    /// 1-bit id, id 1 naming nothing), and cores for sets refuse what they do not take.
    @Test func setOfOneAndRefusals() throws {
        let vector = try SetVector.load()
        let pair = try CodebookSet.parse(try #require(vector.files.first { $0.name == "good-huffman-32bit.json" }).bytes)
        let one = try CodebookSet(name: "one_huffman", members: [pair.members[0]])
        #expect(one.idBits == 1)
        let book = one.members[0]
        var random = RandomCodebooks(seed: 11)
        let values = random.values(count: 300, for: book)
        let sizes = [100, 0, 1, 199], ids = [0, 0, 0, 0]
        // And vector 22's set of one tANS codebook.
        let oneTANS = try CodebookSet.parse(try #require(vector.files.first { $0.name == "good-one-member.json" }).bytes)
        let tansValues = random.values(count: 300, for: oneTANS.members[0])
        let cases = [true, false].flatMap { decoder in
            [Case(set: one, decoder: decoder, values: values, frameSizes: sizes, ids: ids),
             Case(set: oneTANS, decoder: decoder, values: tansValues, frameSizes: sizes, ids: ids)]
        }
        let failures = try Self.check(cases, patterns: [(100, 100), (50, 50)])
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        let lanes = try CodebookSet.parse(try #require(vector.files.first { $0.name == "good-lanes.json" }).bytes)
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: lanes, CoreRequest(role: .decoder)) }
        #expect(throws: CoreError.self) { try CoreGenerator.module(for: one, CoreRequest(role: .decoder, valuesPerBeat: 2)) }
    }
}
