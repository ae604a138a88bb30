import Foundation
import HDL
import VerilatorBridge

/// A bit vector of any width, for beats wider than 64 bits (bit 0 first).
public struct BitVector: Sendable, Equatable {
    public private(set) var bits: [Bool]
    public init(width: Int) { bits = Array(repeating: false, count: width) }
    public var width: Int { bits.count }

    /// Sets `width` bits from `low` to the low bits of `value`.
    public mutating func set(_ value: UInt64, at low: Int, width: Int) {
        for i in 0..<width { bits[low + i] = (value >> UInt64(i)) & 1 == 1 }
    }

    /// The `width` (at most 64) bits from `low`.
    public func get(at low: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width where low + i < bits.count && bits[low + i] { value |= 1 << UInt64(i) }
        return value
    }

    /// Lower-case hex, ceil(width / 4) digits, most significant first (as `$readmemh` and
    /// Icarus' `%h` write it).
    public var hex: String {
        let digits = (bits.count + 3) / 4
        return String((0..<digits).reversed().map { d -> Character in
            var v = 0
            for b in 0..<4 where 4 * d + b < bits.count && bits[4 * d + b] { v |= 1 << b }
            return Character(String(v, radix: 16))
        })
    }
}

/// One side of an AXI-Stream core (FORMAT.md sections 8 and 10): `tdata` of `parts` elements of
/// `partWidth` bits, `tkeep` with a bit per element (if the port exists), and `tlast`.
public struct AxisSide: Sendable {
    public let parts: Int
    public let partWidth: Int
    public let hasKeep: Bool
    public let hasLast: Bool
    public var dataWidth: Int { parts * partWidth }
    /// Bits of `tkeep` in a beat line: 0 without the port.
    public var keepWidth: Int { hasKeep ? parts : 0 }

    /// The side of `module` whose ports start with `prefix` (`s_axis`, `m_axis`).
    public init(_ module: Module, _ prefix: String) throws {
        guard let data = module.port(named: "\(prefix)_tdata") else {
            throw ToolFailure(command: "four-state bench", output: "\(module.name) has no \(prefix)_tdata")
        }
        let keep = module.port(named: "\(prefix)_tkeep")?.width
        parts = keep ?? 1
        partWidth = data.width / parts
        hasKeep = keep != nil
        hasLast = module.port(named: "\(prefix)_tlast") != nil
    }

    /// A beat line `{tkeep, tlast, tdata}` of the benches: the beat's elements, kept from 0.
    public func line(_ beat: AxisBeat) -> BitVector {
        var v = BitVector(width: dataWidth + 1 + keepWidth)
        for (i, part) in beat.parts.enumerated() { v.set(part, at: i * partWidth, width: partWidth) }
        v.set(beat.last ? 1 : 0, at: dataWidth, width: 1)
        if hasKeep { v.set(beat.parts.count >= 64 ? ~0 : (1 << UInt64(beat.parts.count)) - 1, at: dataWidth + 1, width: parts) }
        return v
    }
}

/// One beat: its kept elements (element 0 first) and `tlast`.
public struct AxisBeat: Sendable, Equatable {
    public var parts: [UInt64]
    public var last: Bool
    public init(_ parts: [UInt64], last: Bool) {
        self.parts = parts
        self.last = last
    }

    /// `values` in beats of at most `width` elements: each frame (of `frameSizes`, empty
    /// frames skipped) cut into full beats and a shorter last one with `tlast`.
    public static func framed(_ values: [UInt64], frameSizes: [Int], width: Int) -> [AxisBeat] {
        var beats: [AxisBeat] = []
        var start = 0
        for size in frameSizes where size > 0 {
            for s in stride(from: 0, to: size, by: width) {
                let end = min(size, s + width)
                beats.append(AxisBeat(Array(values[(start + s)..<(start + end)]), last: end == size))
            }
            start += size
        }
        return beats
    }
}

/// What the four-state bench checks a core against: output beats exactly as listed, or (for
/// cores whose beats depend on timing, an encoder's words per beat) the elements in order, each
/// with the `tlast` of its frame's end.
public enum AxisExpectation: Sendable {
    case beats([AxisBeat])
    case elements([(value: UInt64, last: Bool)])

    public var count: Int {
        switch self {
        case .beats(let b): b.count
        case .elements(let e): e.count
        }
    }
}

/// A run of one core in the four-state bench: its input beats, what must come out, and the
/// handshake stimulus.
public struct AxisBenchRun: Sendable {
    public let files: [VerilogFile]
    public let name: String
    public let input: AxisSide
    public let output: AxisSide
    public let hasError: Bool
    public let beats: [AxisBeat]
    public let expected: AxisExpectation

    /// `files`: the core's Verilog (`module.verilogFiles()`, or an altered copy of them).
    public init(_ module: Module, files: [VerilogFile]? = nil, beats: [AxisBeat], expected: AxisExpectation) throws {
        self.files = files ?? module.verilogFiles()
        name = module.name
        input = try AxisSide(module, "s_axis")
        output = try AxisSide(module, "m_axis")
        hasError = module.port(named: "error") != nil
        self.beats = beats
        self.expected = expected
    }
}

/// Per clock cycle after reset, whether the bench offers a waiting input beat (bit 0) and takes
/// an output beat (bit 1): the same file drives Icarus (`testbench/axis_file_bench.v`) and the
/// Verilator bench, so the two can be compared beat by beat.
public struct Stimulus: Sendable {
    public let cycles: [UInt8]

    /// Per cycle {take, offer}; `[]` is full rate on both sides.
    public init(cycles: [UInt8]) { self.cycles = cycles }

    /// Both sides at full rate.
    public static let fullRate = Stimulus(cycles: [])

    /// `validPercent` / `readyPercent` of cycles, from `seed`; past `count` cycles both sides run at full rate.
    public static func random(validPercent: Int, readyPercent: Int, seed: UInt64, count: Int) -> Stimulus {
        var random = SeededRandom(seed: seed)
        return Stimulus(cycles: (0..<count).map { _ in
            let offer = Int(random.next() % 100) < validPercent ? 1 : 0
            let take = Int(random.next() % 100) < readyPercent ? 2 : 0
            return UInt8(offer | take)
        })
    }

    func offer(_ cycle: Int) -> Bool { cycle >= cycles.count || cycles[cycle] & 1 != 0 }
    func take(_ cycle: Int) -> Bool { cycle >= cycles.count || cycles[cycle] & 2 != 0 }
}

/// The verdict of a four-state bench run.
public struct FourStateVerdict: Sendable {
    /// Icarus' summary (`beats in ... X or Z: n`, then PASS or FAIL) and any mismatch or X lines.
    public let icarus: String
    /// The first line where the two simulators' handshake logs differ, nil when they agree.
    public let divergence: String?
    public var passed: Bool { icarus.contains("PASS") && divergence == nil }
    public var description: String { icarus + (divergence.map { "\nIcarus and Verilator differ: \($0)" } ?? "") }
}

/// Runs a core under Icarus (four-state: fails on any X or Z on `tvalid`, `tready`, `error`, and
/// on kept `tdata`, `tkeep`, `tlast` of an offered beat; input data is X while not offered) and
/// under Verilator (two-state) with the same stimulus, and compares their handshake logs line
/// by line: the cycle of every beat taken in, and the cycle, `tkeep`, `tlast` and kept data of
/// every beat out.
public struct FourStateBench {
    public static var benchPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("testbench/axis_file_bench.v").path
    }

    /// Reset cycles before cycle 0 (as the Icarus bench holds `rst`).
    static let resetCycles = 3

    /// A compiled Icarus bench of one core, to run under several stimuli.
    public final class IcarusBench {
        let dir: String
        let run: AxisBenchRun
        let vvp: String

        public init(_ run: AxisBenchRun) throws {
            let iverilog = try ExternalTools.require("iverilog", install: "apt-get install -y iverilog")
            vvp = try ExternalTools.require("vvp", install: "apt-get install -y iverilog")
            self.run = run
            dir = try ExternalTools.writeTemporary(run.files)
            let (i, o) = (run.input, run.output)
            try (run.beats.map { i.line($0).hex }.joined(separator: "\n") + "\n").write(toFile: dir + "/in.hex", atomically: false, encoding: .utf8)
            let expectedLines: [String]
            switch run.expected {
            case .beats(let beats): expectedLines = beats.map { o.line($0).hex }
            case .elements(let elements):
                expectedLines = elements.map { e in
                    var v = BitVector(width: o.partWidth + 1)
                    v.set(e.value, at: 0, width: o.partWidth)
                    v.set(e.last ? 1 : 0, at: o.partWidth, width: 1)
                    return v.hex
                }
            }
            try (expectedLines.joined(separator: "\n") + "\n").write(toFile: dir + "/out.hex", atomically: false, encoding: .utf8)
            var defines = ["-DDUT=\(run.name)", "-DIN_WIDTH=\(i.dataWidth)", "-DOUT_WIDTH=\(o.dataWidth)"]
            if i.hasLast { defines.append("-DHAS_S_LAST") }
            if o.hasLast { defines.append("-DHAS_M_LAST") }
            if run.hasError { defines.append("-DHAS_ERROR") }
            if i.hasKeep { defines += ["-DS_KEEP_PORT", "-DS_KEEP=\(i.parts)", "-DS_PART=\(i.partWidth)"] }
            if o.hasKeep { defines += ["-DM_KEEP_PORT", "-DM_KEEP=\(o.parts)", "-DM_PART=\(o.partWidth)"] }
            if case .elements = run.expected { defines.append("-DM_STREAM") }
            let sources = run.files.filter { $0.name.hasSuffix(".v") }.map(\.name)
            let compile = try ExternalTools.run(iverilog, ["-g2005"] + defines + ["-o", "bench", FourStateBench.benchPath] + sources, in: dir)
            guard compile.status == 0 else {
                try? FileManager.default.removeItem(atPath: dir)
                throw ToolFailure(command: "iverilog (four-state bench of \(run.name))", output: compile.output)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// Runs the bench under `stimulus`; returns Icarus' output and its handshake log.
        public func simulate(_ stimulus: Stimulus) throws -> (output: String, log: [String]) {
            try (stimulus.cycles.map { String($0, radix: 16) }.joined(separator: "\n") + "\n")
                .write(toFile: dir + "/stimulus.hex", atomically: false, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: dir + "/beats.log")
            let inputs = run.beats.count, outputs = run.expected.count
            let result = try ExternalTools.run(vvp, ["bench", "+input=in.hex", "+expected=out.hex", "+inputs=\(inputs)", "+outputs=\(outputs)",
                                                     "+stimulus=stimulus.hex", "+cycles=\(stimulus.cycles.count)", "+log=beats.log"], in: dir)
            let log = (try? String(contentsOfFile: dir + "/beats.log", encoding: .utf8)) ?? ""
            let output = result.output.split(separator: "\n").filter { !$0.hasPrefix("VCD") }.joined(separator: "\n")
            return (output, log.split(separator: "\n").map(String.init))
        }
    }

    /// The Verilator model of a core with every port at most 64 bits wide (`NarrowTop`).
    public static func verilatorTop(_ module: Module, name: String? = nil) throws -> Module {
        try NarrowTop.wrap(module, name: name ?? "\(module.name)_fourstate")
    }

    /// Drives the narrow top of `run`'s core in `sim` exactly as the Icarus bench does under
    /// `stimulus`, and returns the same handshake log.
    public static func verilatorLog(_ run: AxisBenchRun, sim: Simulation, stimulus: Stimulus) throws -> [String] {
        let top = sim.module
        let (i, o) = (run.input, run.output)
        let sData = try NarrowTop.Port(top, "s_axis_tdata", width: i.dataWidth, sim: sim)
        let mData = try NarrowTop.Port(top, "m_axis_tdata", width: o.dataWidth, sim: sim)
        let sValid = try sim.port("s_axis_tvalid"), sReady = try sim.port("s_axis_tready")
        let mValid = try sim.port("m_axis_tvalid"), mReady = try sim.port("m_axis_tready")
        let sLast = i.hasLast ? try sim.port("s_axis_tlast") : nil
        let sKeep = i.hasKeep ? try sim.port("s_axis_tkeep") : nil
        let mLast = o.hasLast ? try sim.port("m_axis_tlast") : nil
        let mKeep = o.hasKeep ? try sim.port("m_axis_tkeep") : nil
        let error = run.hasError ? try sim.port("error") : nil
        for port in [sValid, mReady] { sim.poke(port, 0) }
        sim.reset(cycles: resetCycles)
        let outputs = run.expected.count
        let byElement: Bool = if case .elements = run.expected { true } else { false }
        let limit = 100 * (run.beats.count + outputs) + 1000 + stimulus.cycles.count
        let lines = run.beats.map { i.line($0) }
        var log: [String] = []
        var inPos = 0, outPos = 0, cycle = 0, offered = false, errorSeen = false
        var garbage = SeededRandom(seed: 0x5eed)
        let keepDigits = (max(1, o.keepWidth) + 3) / 4
        while outPos < outputs && cycle < limit {
            if !offered { offered = inPos < run.beats.count && stimulus.offer(cycle) }
            let take = stimulus.take(cycle)
            var line = offered ? lines[inPos] : BitVector(width: i.dataWidth + 1 + i.keepWidth)
            if !offered {
                // Nothing offered: every input but tvalid carries garbage (Icarus: X).
                for low in stride(from: 0, to: line.width, by: 64) { line.set(garbage.next(), at: low, width: min(64, line.width - low)) }
            } else if i.hasKeep {
                // Elements left out by tkeep carry garbage (Icarus: X), which the core must ignore.
                let keep = line.get(at: i.dataWidth + 1, width: i.parts)
                for part in 0..<i.parts where keep >> UInt64(part) & 1 == 0 {
                    line.set(garbage.next(), at: part * i.partWidth, width: i.partWidth)
                }
            }
            sData.poke(line)
            if let sLast { sim.poke(sLast, line.get(at: i.dataWidth, width: 1)) }
            if let sKeep { sim.poke(sKeep, line.get(at: i.dataWidth + 1, width: i.parts)) }
            sim.poke(sValid, offered ? 1 : 0)
            sim.poke(mReady, take ? 1 : 0)
            sim.eval()
            let sFire = offered && sim.peek(sReady) == 1
            let mFire = take && sim.peek(mValid) == 1
            if let error, !errorSeen, sim.peek(error) == 1 {
                errorSeen = true
                log.append("\(cycle) e")
            }
            if sFire { log.append("\(cycle) i") }
            if mFire {
                let keep = mKeep.map { sim.peek($0) } ?? 1
                let last = mLast.map { sim.peek($0) } ?? 0
                let data = mData.peek()
                var kept = BitVector(width: o.dataWidth)
                var count = 0
                for part in 0..<o.parts where keep >> UInt64(part) & 1 == 1 {
                    kept.set(data.get(at: part * o.partWidth, width: o.partWidth), at: part * o.partWidth, width: o.partWidth)
                    count = part + 1
                }
                var keepHex = String(keep, radix: 16)
                keepHex = String(repeating: "0", count: max(0, keepDigits - keepHex.count)) + keepHex
                log.append("\(cycle) o \(keepHex) \(last) \(kept.hex)")
                outPos += byElement ? count : 1
            }
            sim.tick()
            if sFire {
                inPos += 1
                offered = false
            }
            cycle += 1
        }
        return log
    }

    /// Runs `run` under Icarus (compiled once, `bench`) and Verilator (`sim`, the narrow top's
    /// model) with `stimulus` and compares them.
    public static func check(_ run: AxisBenchRun, icarus bench: IcarusBench, verilator sim: Simulation?, stimulus: Stimulus) throws -> FourStateVerdict {
        let (output, icarusLog) = try bench.simulate(stimulus)
        guard let sim else { return FourStateVerdict(icarus: output, divergence: nil) }
        let verilatorLog = try verilatorLog(run, sim: sim, stimulus: stimulus)
        var divergence: String? = nil
        if let i = (0..<min(icarusLog.count, verilatorLog.count)).first(where: { icarusLog[$0] != verilatorLog[$0] }) {
            divergence = "handshake \(i): Icarus '\(icarusLog[i])', Verilator '\(verilatorLog[i])'"
        } else if icarusLog.count != verilatorLog.count {
            let n = min(icarusLog.count, verilatorLog.count)
            divergence = "Icarus logged \(icarusLog.count) handshakes, Verilator \(verilatorLog.count); the first extra: '\(icarusLog.count > n ? icarusLog[n] : verilatorLog[n])'"
        }
        return FourStateVerdict(icarus: output, divergence: divergence)
    }
}

/// A wrapper whose ports are at most 64 bits wide, so the Verilator bridge can poke and peek
/// them: a wider port `p` of the core becomes `p_w0`, `p_w1`, ... (32 bits each, the last may be
/// narrower; word 0 holds bits 31-0); narrower ports keep their names.
public enum NarrowTop {
    static func pieces(_ width: Int) -> [(name: Int, low: Int, width: Int)] {
        stride(from: 0, to: width, by: 32).enumerated().map { ($0.offset, $0.element, min(32, width - $0.element)) }
    }

    public static func wrap(_ core: Module, name: String) throws -> Module {
        try Module(name) { m in
            let dut = m.instance(core, name: "dut")
            for port in core.ports where port.name != "clk" && port.name != "rst" {
                if port.width <= 64 {
                    if port.direction == .input { dut[port.name].assign(m.input(port.name, width: port.width)) }
                    else { m.output(port.name, width: port.width).assign(dut[port.name]) }
                    continue
                }
                let parts = pieces(port.width)
                if port.direction == .input {
                    let inputs = parts.map { m.input("\(port.name)_w\($0.name)", width: $0.width) }
                    dut[port.name].assign(cat(inputs.reversed()[0], Array(inputs.reversed().dropFirst())))
                } else {
                    let data = dut[port.name]
                    for p in parts { m.output("\(port.name)_w\(p.name)", width: p.width).assign(data.bits(p.low + p.width - 1, p.low)) }
                }
            }
        }
    }

    /// A port of the core, through the narrow top's pieces when it is wider than 64 bits.
    public struct Port {
        let sim: Simulation
        let handles: [PortHandle]
        let pieces: [(name: Int, low: Int, width: Int)]

        public init(_ top: Module, _ name: String, width: Int, sim: Simulation) throws {
            self.sim = sim
            if width <= 64 {
                handles = [try sim.port(name)]
                pieces = [(0, 0, width)]
            } else {
                pieces = NarrowTop.pieces(width)
                handles = try pieces.map { try sim.port("\(name)_w\($0.name)") }
            }
        }

        public func poke(_ bits: BitVector) {
            for (h, p) in zip(handles, pieces) { sim.poke(h, bits.get(at: p.low, width: p.width)) }
        }

        public func peek() -> BitVector {
            var v = BitVector(width: pieces.last.map { $0.low + $0.width } ?? 0)
            for (h, p) in zip(handles, pieces) { v.set(sim.peek(h), at: p.low, width: p.width) }
            return v
        }
    }
}

