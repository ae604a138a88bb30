import Codec
import Cores
import HDL
import Testing
import TestSupport
import VerilatorBridge

/// A decoder under test: its codebook, module, and a stream with the values it must give.
struct DecoderCase: Sendable {
    let codebook: Codebook
    let module: Module
    let stream: [UInt8]
    let values: [UInt32]
    /// tlast per value (an empty frame leaves no trace).
    let last: [Bool]
    /// A random codebook rather than a conformance vector.
    var isRandom: Bool { codebook.name.hasPrefix("dhuffman") || codebook.name.hasPrefix("dtans") }
}

/// Decoder cases of both coders: every conformance vector and random codebooks, all built into
/// one Verilator library (one link for all).
enum DecoderLibrary {
    static func decoder(_ book: Codebook) throws -> Module {
        guard let module = try CoreGenerator.modules(for: book, decoder: true, encoder: false).first else {
            throw CoreError.unsupported("no decoder for \(book.name)")
        }
        return module
    }

    static let cases: Result<[DecoderCase], Error> = Result {
        var cases: [DecoderCase] = []
        for vector in try ConformanceVector.all() where !vector.hasLanes {
            let book = try Codebook.parse(vector.codebookBytes)
            cases.append(DecoderCase(codebook: book, module: try decoder(book), stream: vector.stream,
                                     values: vector.values, last: CoreHarness.lastFlags(frameSizes: vector.frameSizes.filter { $0 > 0 })))
        }
        for coder in ["huffman", "tans"] {
            var gen = RandomCodebooks(seed: coder == "huffman" ? 777 : 778)
            for i in 0..<TestScale.pick(quick: 12, long: 220) {
                let book = gen.codebook(coder: coder, name: "d\(coder)\(i)")
                let values = gen.values(count: 50 + Int(gen.random.next() % 600), for: book)
                var frames = CoreHarness.randomFrames(values.count, maxFrame: 1 + Int(gen.random.next() % 200), random: &gen.random)
                if i % 3 == 0 { frames.insert(0, at: Int(gen.random.next() % UInt64(frames.count))) }  // an empty frame
                let stream = try StreamCodec(codebook: book).encode(values, frameSizes: frames)
                cases.append(DecoderCase(codebook: book, module: try decoder(book), stream: stream,
                                         values: values, last: CoreHarness.lastFlags(frameSizes: frames.filter { $0 > 0 })))
            }
        }
        // An incomplete code ("11" starts nothing) with 30 raw bits: at the edge of the buffered
        // bits, a code's first bit plus stale bits of an empty slot can match no class, and the
        // class matched a cycle later, once a word lands, may still lack bits.
        let incomplete = try Codebook(name: "dhuffman_incomplete_raw30", coder: .huffman(codeLengths: [1, 4, 4, 3]),
                                      layout: ValueLayout(transform: .split, symbolBits: 1, rawBits: 30))
        var incompleteGen = RandomCodebooks(seed: 781)
        let incompleteValues = incompleteGen.values(count: 4000, for: incomplete)
        let incompleteFrames = CoreHarness.randomFrames(incompleteValues.count, maxFrame: 60, random: &incompleteGen.random)
        cases.append(DecoderCase(codebook: incomplete, module: try decoder(incomplete),
                                 stream: try StreamCodec(codebook: incomplete).encode(incompleteValues, frameSizes: incompleteFrames),
                                 values: incompleteValues, last: CoreHarness.lastFlags(frameSizes: incompleteFrames)))
        // A frame whose bits end with a word then ends with a step that needs no buffered word.
        let eofHeavy = try CoreHarness.eofHeavyTANS(name: "dtans_eof_heavy")
        var gen = RandomCodebooks(seed: 779)
        let values = gen.values(count: 300, for: eofHeavy)
        let frames = CoreHarness.randomFrames(values.count, maxFrame: 12, random: &gen.random)
        cases.append(DecoderCase(codebook: eofHeavy, module: try decoder(eofHeavy), stream: try StreamCodec(codebook: eofHeavy).encode(values, frameSizes: frames),
                                 values: values, last: CoreHarness.lastFlags(frameSizes: frames)))
        return cases
    }

    static let library: Result<SimulationLibrary, Error> = Result {
        try SimulationBuilder().build(try cases.get().map(\.module))
    }
}

@Suite("Decoder cores (Huffman and tANS), bit-exact against the reference decoder")
struct DecoderTests {
    @Test("conformance vectors and random codebooks: every value and frame end, under random backpressure")
    func bitExact() throws {
        let library = try DecoderLibrary.library.get()
        let huffmanMaxLengths = try DecoderLibrary.cases.get().compactMap { c -> Int? in
            if case .huffman(let lengths) = c.codebook.coder { lengths.max() } else { nil }
        }
        let direct = HuffmanDecoderCore.directTableMaxLength
        #expect(huffmanMaxLengths.contains { $0 <= direct } && huffmanMaxLengths.contains { $0 > direct },
                "both Huffman symbol tables (indexed by code bits, by rank) are exercised: max lengths \(huffmanMaxLengths)")
        var random = SeededRandom(seed: 23)
        for c in try DecoderLibrary.cases.get() {
            // Full rate, both sides throttled, output throttled, and input starved (the decoder
            // then waits at the edge of the buffered bits: the slow path).
            for (valid, ready) in [(1000, 1000), (600, 700), (900, 250), (150, 1000)] {
                let sim = try library.simulation(of: c.module.name)
                sim.reset()
                var job = StreamJob(input: CoreHarness.words(c.stream), expectedOutputs: c.values.count)
                job.validPerMille = valid
                job.readyPerMille = ready
                job.seed = random.next()
                job.maxCycles = UInt64(100 * (c.values.count + c.stream.count) + 1000)
                job.stopPort = "error"
                let result = try sim.stream(job)
                #expect(result.stop == .done, "\(c.module.name): stopped \(result.stop) after \(result.outputs.count) of \(c.values.count)")
                #expect(result.protocolErrors == 0)
                #expect(result.outputs == c.values.map(UInt64.init), "\(c.module.name) valid \(valid) ready \(ready)")
                #expect(result.outputLast == c.last, "\(c.module.name) tlast")
                if result.outputs != c.values.map(UInt64.init) { return }
            }
        }
    }

    @Test("short one-frame streams decode to their end (entries that read no bits after a word's last bit)")
    func streamEnds() throws {
        // A stream ends where its last word ends; when a frame's bits end exactly there and the
        // entries left (a tANS EOF state with nb = 0, say) read no bits, the decoder must still
        // take those steps with no word buffered. Short frames cut from each case's values make
        // that common.
        let library = try DecoderLibrary.library.get()
        var random = SeededRandom(seed: 41)
        for c in try DecoderLibrary.cases.get() where !c.values.isEmpty {
            let codec = StreamCodec(codebook: c.codebook)
            let sim = try library.simulation(of: c.module.name)
            let heavy = c.codebook.name == "dtans_eof_heavy"
            for _ in 0..<(heavy ? TestScale.pick(quick: 800, long: 5000) : TestScale.pick(quick: 60, long: 400)) {
                let count = 1 + Int(random.next() % (heavy ? 16 : 6))
                let start = Int(random.next() % UInt64(c.values.count))
                let values = (0..<count).map { c.values[(start + $0) % c.values.count] }
                let stream = try codec.encode(values, frameSizes: [values.count])
                guard try codec.decode(stream).values == values else { Issue.record("reference round trip failed"); return }
                sim.reset()
                var job = StreamJob(input: CoreHarness.words(stream), expectedOutputs: values.count)
                job.maxCycles = UInt64(1000 + 100 * stream.count)
                let result = try sim.stream(job)
                #expect(result.outputs == values.map(UInt64.init), "\(c.module.name): \(values.count) values, \(stream.count) bytes")
                #expect(result.outputLast == CoreHarness.lastFlags(frameSizes: [values.count]), "\(c.module.name) tlast")
                if result.outputs != values.map(UInt64.init) { return }
            }
        }
    }

    @Test("one value per cycle at full rate on the bf16 vectors (Huffman and tANS)")
    func throughput() throws {
        let library = try DecoderLibrary.library.get()
        let bf16 = try DecoderLibrary.cases.get().filter { !$0.isRandom && $0.codebook.layout.transform == .bf16Exponent }
        #expect(Set(bf16.map(\.codebook.coder.name)) == ["huffman", "tans"])
        for c in bf16 {
            let values = Array(repeating: c.values, count: 20).flatMap { $0 }
            let stream = try StreamCodec(codebook: c.codebook).encode(values, frameSizes: [values.count])
            let sim = try library.simulation(of: c.module.name)
            sim.reset()
            let result = try sim.stream(StreamJob(input: CoreHarness.words(stream), expectedOutputs: values.count))
            #expect(result.outputs == values.map(UInt64.init))
            #expect(Double(result.cycles) <= Double(values.count) * 1.01 + 20, "\(c.module.name): \(result.cycles) cycles for \(values.count) values")
        }
    }

    @Test("a bit pattern that starts no code raises error where the reference decoder reports one")
    func invalidCodeRaisesError() throws {
        let library = try DecoderLibrary.library.get()
        // Vector 04 has an incomplete code (Kraft sum 0.859375).
        guard let c = try DecoderLibrary.cases.get().first(where: { $0.module.name.hasPrefix("huffman_split_incomplete") || $0.codebook.name.contains("incomplete") }) else {
            Issue.record("no incomplete-code case")
            return
        }
        let codec = StreamCodec(codebook: c.codebook)
        var random = SeededRandom(seed: 5)
        var raised = 0
        for _ in 0..<60 {
            var stream = c.stream
            let bit = Int(random.next() % UInt64(stream.count * 8))
            stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            var referenceInvalid = false
            do { _ = try codec.decode(stream) } catch {
                if case .corruptFrame(_, .invalidCode) = error { referenceInvalid = true }
            }
            let sim = try library.simulation(of: c.module.name)
            sim.reset()
            var job = StreamJob(input: CoreHarness.words(stream))
            job.stopPort = "error"
            job.maxCycles = 100_000
            let result = try sim.stream(job)
            let hardwareError = try sim.peek(sim.port("error")) == 1
            if referenceInvalid {
                #expect(hardwareError, "reference saw an invalid code (bit \(bit)) but error stayed low")
                raised += 1
            }
            if !referenceInvalid && !hardwareError {
                // Without an invalid code the hardware decodes exactly what the reference does.
                let reference = try? codec.decode(stream)
                if let reference { #expect(result.outputs == reference.values.map(UInt64.init)) }
            }
        }
        #expect(raised > 0)
    }
}

@Suite("tANS decoder core: corrupt frames")
struct TANSCorruptStreamTests {
    /// What the reference decoder makes of a stream, as the hardware must show it.
    enum Outcome { case decoded([UInt32]), corrupt, truncated }

    static func reference(_ codec: StreamCodec, _ stream: [UInt8]) -> Outcome {
        do { return .decoded(try codec.decode(stream).values) } catch {
            // A stream that ends inside a frame (in any lane) is not an error to hardware.
            if case .corruptFrame(_, let frameError) = error, case .truncated = frameError.root { return .truncated }
            return .corrupt
        }
    }

    /// Runs `stream` through `module` until its words are in and the output drained, or error.
    /// A flipped bit can turn a stream into many entries that read no bits, so the bench takes
    /// up to `outputCapacity` values (default: 64 per byte).
    static func run(_ library: SimulationLibrary, _ module: Module, _ stream: [UInt8], readyPerMille: Int = 1000,
                    outputCapacity: Int? = nil) throws -> (outputs: [UInt64], error: Bool) {
        let sim = try library.simulation(of: module.name)
        sim.reset()
        var job = StreamJob(input: CoreHarness.words(stream))
        let capacity = outputCapacity ?? (64 * stream.count + 1024)
        job.outputCapacity = capacity
        job.readyPerMille = readyPerMille
        job.stopPort = "error"
        job.maxCycles = UInt64(200_000 + 40 * stream.count + 4 * capacity)
        let result = try sim.stream(job)
        return (result.outputs, try sim.peek(sim.port("error")) == 1)
    }

    @Test("bit flips: error exactly where the reference reports a corrupt frame, else the reference's values")
    func bitFlips() throws {
        let library = try DecoderLibrary.library.get()
        var random = SeededRandom(seed: 31)
        var corrupt = 0, decoded = 0
        for c in try DecoderLibrary.cases.get() where c.codebook.coder.name == "tans" && !c.stream.isEmpty {
            let codec = StreamCodec(codebook: c.codebook)
            for _ in 0..<TestScale.pick(quick: 8, long: 40) {
                var stream = c.stream
                let bit = Int(random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                let outcome = Self.reference(codec, stream)
                var capacity: Int? = nil
                if case .decoded(let values) = outcome { capacity = values.count + 64 }
                let hardware = try Self.run(library, c.module, stream, readyPerMille: 700, outputCapacity: capacity)
                switch outcome {
                case .decoded(let values):
                    decoded += 1
                    #expect(!hardware.error, "\(c.module.name) bit \(bit): error, but the reference decodes the stream")
                    #expect(hardware.outputs == values.map(UInt64.init), "\(c.module.name) bit \(bit)")
                case .corrupt:
                    corrupt += 1
                    #expect(hardware.error, "\(c.module.name) bit \(bit): the reference reports a corrupt frame, error stayed low")
                case .truncated:
                    #expect(!hardware.error, "\(c.module.name) bit \(bit): a truncated stream is not an error in hardware")
                }
            }
        }
        #expect(corrupt > 0 && decoded > 0, "corrupt \(corrupt), decoded \(decoded)")
    }
}
