import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport
import VerilatorBridge

/// Drives a core one cycle at a time: what each side offers and takes, sampled before the edge.
struct CycleDriver {
    let sim: Simulation
    let rst, inData, inValid, inReady, outValid, outReady: PortHandle
    let outData: PortHandle
    let inLast: PortHandle?
    let error: PortHandle?

    init(_ sim: Simulation) throws {
        self.sim = sim
        rst = try sim.port("rst")
        inData = try sim.port("s_axis_tdata")
        inValid = try sim.port("s_axis_tvalid")
        inReady = try sim.port("s_axis_tready")
        outData = try sim.port("m_axis_tdata")
        outValid = try sim.port("m_axis_tvalid")
        outReady = try sim.port("m_axis_tready")
        inLast = sim.module.port(named: "s_axis_tlast") == nil ? nil : try sim.port("s_axis_tlast")
        error = sim.module.port(named: "error") == nil ? nil : try sim.port("error")
    }

    /// One cycle: offers `input` (if any) and `ready`; returns whether the input beat was taken
    /// and the output beat taken, as the edge sees them.
    @discardableResult
    func cycle(input: UInt64?, last: Bool = false, ready: Bool, reset: Bool = false) -> (taken: Bool, output: UInt64?) {
        sim.poke(rst, reset ? 1 : 0)
        sim.poke(inValid, input == nil ? 0 : 1)
        sim.poke(inData, input ?? 0)
        if let inLast { sim.poke(inLast, last ? 1 : 0) }
        sim.poke(outReady, ready ? 1 : 0)
        sim.eval()
        let taken = input != nil && sim.peek(inReady) == 1
        let output: UInt64? = ready && sim.peek(outValid) == 1 ? sim.peek(outData) : nil
        sim.tick()
        return (taken, output)
    }

    var errorHigh: Bool { error.map { sim.peek($0) == 1 } ?? false }
    var outputValid: Bool { sim.peek(outValid) == 1 }
    var inputReady: Bool { sim.peek(inReady) == 1 }
}

@Suite("Cores: reset and error behaviour", .serialized)
struct ResetAndErrorTests {
    @Test("m_axis_tvalid is 0 through reset and after it; beats offered during reset are dropped, never decoded")
    func outputsQuietInReset() throws {
        let decoders = try DecoderLibrary.library.get(), encoders = try EncoderLibrary.library.get()
        var random = SeededRandom(seed: 3)
        var checked = 0
        for c in try DecoderLibrary.cases.get() where !c.stream.isEmpty {
            let driver = try CycleDriver(try decoders.simulation(of: c.module.name))
            driver.sim.reset()
            let words = CoreHarness.words(c.stream)
            Self.checkReset(driver, feed: { i in words[i % words.count] }, last: { _ in false }, random: &random, c.module.name)
            let again = try driver.sim.stream(StreamJob(input: words, expectedOutputs: c.values.count))
            #expect(again.outputs == c.values.map(UInt64.init), "\(c.module.name): a beat offered in reset leaked into the next stream")
            checked += 1
        }
        for e in try EncoderLibrary.cases.get() {
            let driver = try CycleDriver(try encoders.simulation(of: e.module.name))
            driver.sim.reset()
            let last = CoreHarness.lastFlags(frameSizes: e.frameSizes)
            Self.checkReset(driver, feed: { i in UInt64(e.values[i % e.values.count]) }, last: { i in last[i % last.count] }, random: &random, e.module.name)
            let expected = try CoreHarness.referenceWords(StreamCodec(codebook: e.codebook), e.values, frameSizes: e.codedFrames)
            let again = try driver.sim.stream(StreamJob(input: e.values.map(UInt64.init), inputLast: last, expectedOutputs: expected.words.count))
            #expect(again.outputs == expected.words, "\(e.module.name): a beat offered in reset leaked into the next stream")
            checked += 1
        }
        #expect(checked > 40)
    }

    /// Runs traffic for a random number of cycles (output throttled so beats are in flight),
    /// then holds reset for 3 cycles while the input keeps offering beats: m_axis_tvalid must be
    /// 0 after every reset edge and in the first cycle after reset, and error low. (The cores may
    /// hold s_axis_tready high while rst is high; a beat offered then is dropped: AXI-Stream
    /// sources keep tvalid low in reset. The caller checks that nothing of it leaks.)
    static func checkReset(_ driver: CycleDriver, feed: (Int) -> UInt64, last: (Int) -> Bool, random: inout SeededRandom, _ name: String) {
        var next = 0
        let busy = 20 + Int(random.next() % 200)
        for _ in 0..<busy {
            if driver.cycle(input: feed(next), last: last(next), ready: random.next() % 3 == 0).taken { next += 1 }
        }
        for k in 0..<3 {
            driver.cycle(input: feed(next) ^ 0x5A5A_5A5A, last: k == 2, ready: true, reset: true)
            #expect(!driver.outputValid, "\(name): m_axis_tvalid high after reset edge \(k)")
        }
        driver.sim.poke(driver.rst, 0)
        driver.sim.poke(driver.inValid, 0)
        driver.sim.eval()
        #expect(!driver.outputValid, "\(name): m_axis_tvalid high in the cycle after reset")
        #expect(!driver.errorHigh, "\(name): error still high after reset")
    }

    /// Corrupt streams and the decoder cases they came from: a bit flip the reference decoder
    /// reports as an invalid code (incomplete Huffman codes) or a bad final state (tANS).
    static func corruptCases() throws -> [(DecoderCase, [UInt8])] {
        var random = SeededRandom(seed: 8)
        var found: [(DecoderCase, [UInt8])] = []
        for c in try DecoderLibrary.cases.get() where !c.stream.isEmpty {
            let codec = StreamCodec(codebook: c.codebook)
            for _ in 0..<200 {
                var stream = c.stream
                let bit = Int(random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                do {
                    _ = try codec.decode(stream)
                } catch {
                    if case .corruptFrame(_, let e) = error, case .truncated = e { continue }
                    if case .corruptFrame(_, let e) = error, case .tooManyValues = e { continue }
                    found.append((c, stream))
                    break
                }
            }
        }
        return found
    }

    @Test("after error rises the decoder keeps taking words, error stays high until reset, and reset clears it")
    func errorIsStickyAndNeverHangs() throws {
        let library = try DecoderLibrary.library.get()
        let cases = try Self.corruptCases()
        #expect(Set(cases.map { $0.0.codebook.coder.name }) == ["huffman", "tans"], "corrupt streams of both coders")
        for (c, stream) in cases {
            let driver = try CycleDriver(try library.simulation(of: c.module.name))
            driver.sim.reset()
            let words = CoreHarness.words(stream)
            var next = 0
            var cycles = 0
            while !driver.errorHigh && cycles < 40 * words.count + 2000 {
                if driver.cycle(input: words[next % words.count], ready: true).taken { next += 1 }
                cycles += 1
            }
            #expect(driver.errorHigh, "\(c.module.name): error never rose on a stream the reference rejects")
            guard driver.errorHigh else { continue }
            // Words keep going in (the source never stalls for good), and error holds.
            var takenAfter = 0
            for i in 0..<600 {
                if driver.cycle(input: UInt64(truncatingIfNeeded: 0x9E37_79B9 &* UInt32(truncatingIfNeeded: i)), ready: i % 2 == 0).taken { takenAfter += 1 }
                #expect(driver.errorHigh, "\(c.module.name): error fell \(i) cycles later without reset")
            }
            #expect(takenAfter >= 100, "\(c.module.name): only \(takenAfter) words taken in 600 cycles after error")
            // Reset clears it; the decoder then decodes the good stream exactly.
            driver.cycle(input: nil, ready: true, reset: true)
            driver.cycle(input: nil, ready: true, reset: true)
            driver.sim.poke(driver.rst, 0)
            driver.sim.eval()
            #expect(!driver.errorHigh, "\(c.module.name): reset did not clear error")
            let again = try driver.sim.stream(StreamJob(input: CoreHarness.words(c.stream), expectedOutputs: c.values.count))
            #expect(again.outputs == c.values.map(UInt64.init), "\(c.module.name): wrong values after reset")
        }
    }

    @Test("bit flips on complete Huffman codes (as trained codebooks are): the hardware decodes what the reference decodes")
    func completeCodeBitFlips() throws {
        let library = try DecoderLibrary.library.get()
        let complete = try DecoderLibrary.cases.get().filter { c in
            if case .huffman(let lengths) = c.codebook.coder { return CanonicalCode(lengths: lengths).isComplete && !c.stream.isEmpty }
            return false
        }
        #expect(complete.count >= 3, "complete Huffman cases: \(complete.map(\.codebook.name))")
        var random = SeededRandom(seed: 19)
        var compared = 0
        for c in complete {
            let codec = StreamCodec(codebook: c.codebook)
            for _ in 0..<TestScale.pick(quick: 6, long: 40) {
                var stream = c.stream
                let bit = Int(random.next() % UInt64(stream.count * 8))
                stream[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                // A complete code has no invalid pattern: the flip decodes to other values, or the
                // stream ends inside a frame. The frames the reference finishes must come out.
                var source = MemorySource(stream)
                var reference: [UInt32] = []
                var truncated = false
                do {
                    _ = try StreamFileDecoder.decodeBare(&source, codec: codec) { reference += $0 }
                } catch {
                    truncated = true
                }
                let hardware = try TANSCorruptStreamTests.run(library, c.module, stream, readyPerMille: 800,
                                                                outputCapacity: reference.count + 64 * stream.count + 64)
                #expect(!hardware.error, "\(c.module.name) bit \(bit): error on a complete code")
                if truncated {
                    #expect(Array(hardware.outputs.prefix(reference.count)) == reference.map(UInt64.init), "\(c.module.name) bit \(bit)")
                } else {
                    #expect(hardware.outputs == reference.map(UInt64.init), "\(c.module.name) bit \(bit)")
                }
                compared += 1
            }
        }
        #expect(compared > 0)
    }
}
