import HDL
import HDLBlocks
import Testing

/// Elaborates `body` expecting failure; returns the diagnostics.
private func diagnostics(_ body: (ModuleBuilder) -> Void) -> [Diagnostic] {
    do {
        _ = try Module("dut", body)
        Issue.record("elaboration succeeded but an error was expected")
        return []
    } catch let error as ElaborationError {
        #expect(error.module == "dut")
        return error.diagnostics
    } catch {
        Issue.record("unexpected error \(error)")
        return []
    }
}

/// Expects exactly one diagnostic of `kind` at `line` of this file.
private func expectSingle(_ found: [Diagnostic], _ kind: Diagnostic.Kind, line: Int, mentioning text: String,
                          sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(found.count == 1, "diagnostics: \(found)", sourceLocation: sourceLocation)
    guard let d = found.first else { return }
    #expect(d.kind == kind, sourceLocation: sourceLocation)
    #expect(d.location.fileID == "HDLTests/ElaborationErrorTests.swift", sourceLocation: sourceLocation)
    #expect(d.location.line == line, "reported \(d.location), expected line \(line)", sourceLocation: sourceLocation)
    #expect(d.message.contains(text), "message: \(d.message)", sourceLocation: sourceLocation)
    #expect(d.description.hasPrefix("HDLTests/ElaborationErrorTests.swift:\(line): error:"), sourceLocation: sourceLocation)
}

@Suite("Elaboration checks report the Swift file and line")
struct ElaborationErrorTests {
    @Test func widthMismatchInAssignment() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 8)
            let y = m.output("y", width: 4)
            line = #line + 1
            y.assign(a)
        }
        expectSingle(found, .widthMismatch, line: line, mentioning: "'y' is 4 bits wide but the value assigned is 8 bits")
    }

    @Test func undrivenOutput() {
        var line = 0
        let found = diagnostics { m in
            line = #line + 1
            _ = m.output("y", width: 2)
        }
        expectSingle(found, .undriven, line: line, mentioning: "'y' is never driven")
    }

    @Test func undrivenWire() {
        var line = 0
        let found = diagnostics { m in
            let y = m.output("y")
            line = #line + 1
            let w = m.wire("w", width: 1)
            y.assign(w)
        }
        expectSingle(found, .undriven, line: line, mentioning: "wire 'w' is never driven")
    }

    @Test func partialAssignmentIsALatch() {
        var line = 0
        let found = diagnostics { m in
            let c = m.input("c")
            line = #line + 1
            let y = m.output("y")
            m.when(c) { y.assign(1) }
        }
        expectSingle(found, .latch, line: line, mentioning: "not assigned on every path")
    }

    @Test func whenWithOtherwiseIsNotALatch() throws {
        _ = try Module("dut") { m in
            let c = m.input("c")
            let y = m.output("y")
            m.when(c) { y.assign(1) }.otherwise { y.assign(0) }
        }
    }

    @Test func twoUnconditionalDrivers() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            let y = m.output("y")
            y.assign(a)
            line = #line + 1
            y.assign(~a)
        }
        expectSingle(found, .multipleDrivers, line: line, mentioning: "already driven at HDLTests/ElaborationErrorTests.swift:")
    }

    @Test func assigningAnInput() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            let y = m.output("y")
            y.assign(a)
            line = #line + 1
            a.assign(1)
        }
        expectSingle(found, .notAssignable, line: line, mentioning: "'a' is an input")
    }

    @Test func assigningAnInstanceOutput() throws {
        let child = try Module("child") { m in
            let x = m.input("x")
            m.output("y").assign(x)
        }
        var line = 0
        let found = diagnostics { m in
            let c = m.instance(child, name: "c")
            c["x"].assign(1)
            m.output("y").assign(c["y"])
            line = #line + 1
            c["y"].assign(0)
        }
        expectSingle(found, .notAssignable, line: line, mentioning: "output of an instance")
    }

    @Test func combinationalLoop() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            let y = m.output("y")
            let p = m.wire("p", width: 1)
            let q = m.wire("q", width: 1)
            line = #line + 1
            p.assign(q & a)
            q.assign(~p)
            y.assign(q)
        }
        expectSingle(found, .combinationalLoop, line: line, mentioning: "p <- q <- p")
    }

    @Test func loopThroughAnInstanceIsFound() throws {
        let passThrough = try Module("through") { m in
            let x = m.input("x")
            m.output("y").assign(~x)
        }
        let found = diagnostics { m in
            let c = m.instance(passThrough, name: "c")
            c["x"].assign(c["y"])
            m.output("y").assign(c["y"])
        }
        #expect(found.map(\.kind) == [.combinationalLoop])
    }

    @Test("a bus whose upper bits are computed from its lower bits is not a loop")
    func busFeedingItsOtherBits() throws {
        // A ripple chain through one wire: bit i is bit i-1 of the same wire xor an input bit.
        let module = try Module("ripple") { m in
            let a = m.input("a", width: 4)
            let chain = m.wire("chain", width: 4)
            chain.assign(cat(chain[2, 0] ^ a[3, 1], a[0]))
            m.output("y").assign(chain[3])
        }
        #expect(module.signals.contains { $0.name == "chain" })
        // A carry chain (an add) from the bus's low half into its high half is no loop either.
        _ = try Module("halves") { m in
            let a = m.input("a", width: 4)
            let bus = m.wire("bus", width: 8)
            bus.assign(cat(bus[3, 0] + a, a))
            m.output("y", width: 8).assign(bus)
        }
    }

    @Test("a bit that depends on itself through other bits of its bus is still a loop")
    func busBitLoop() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            let bus = m.wire("bus", width: 2)
            let other = m.wire("other", width: 1)
            line = #line + 1
            bus.assign(cat(other, a))
            other.assign(bus[1] & a)
            m.output("y", width: 2).assign(bus)
        }
        expectSingle(found, .combinationalLoop, line: line, mentioning: "bus <- other <- bus")
        // Through the add's carry: bit 0 of the sum feeds bit 1, bit 1 feeds bit 0.
        let carried = diagnostics { m in
            let a = m.input("a", width: 2)
            let bus = m.wire("bus", width: 2)
            bus.assign((bus + a) ^ cat(m.constant(0, width: 1), bus[1]))
            m.output("y", width: 2).assign(bus)
        }
        #expect(carried.map(\.kind) == [.combinationalLoop])
    }

    @Test("a misused operator is reported at the line that uses its result")
    func operatorMisuseAtTheUsersLine() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 4)
            let y = m.output("y")
            let bad = !a  // `!` on a 4-bit bus: poisons the value
            line = #line + 1
            y.assign(bad[0])
        }
        expectSingle(found, .invalidOperand, line: line, mentioning: "'!' takes a 1-bit value")
        var negativeLine = 0
        let negative = diagnostics { m in
            let a = m.input("a", width: 4)
            negativeLine = #line + 1
            m.output("y", width: 4).assign(a + (-1))
        }
        expectSingle(negative, .invalidOperand, line: negativeLine, mentioning: "negative")
    }

    @Test("a signal of another module inside an operator is reported where the expression is used")
    func foreignOperand() throws {
        var other: Signal? = nil
        _ = try Module("other") { m in
            let x = m.input("x")
            other = x
            m.output("y").assign(x)
        }
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            guard let other else { return }
            line = #line + 1
            m.output("y").assign(a & other)
        }
        expectSingle(found, .foreignSignal, line: line, mentioning: "module 'other'")
    }

    @Test("blocks report misuse at the caller's line instead of stopping")
    func blockMisuseIsReported() {
        var line = 0
        let found = diagnostics { m in
            let words = m.input("words", width: 16)
            line = #line + 1
            let queue = BitQueue(m, name: "bits", width: 80, data: words, valid: m.constant(1, width: 1), store: m.constant(1, width: 1))
            m.output("y", width: queue.window.width).assign(queue.window)
            queue.consume(m, choices: [], end: (when: m.constant(0, width: 1), bits: 0), when: m.constant(0, width: 1))
        }
        #expect(found.count == 2, "\(found)")
        #expect(found.allSatisfy { $0.location.line == line })
        #expect(found.contains { $0.message.contains("1-65 bits") })
        #expect(found.contains { $0.message.contains("32-bit words") })
        let empty = diagnostics { m in
            m.output("y").assign(m.cat([]))
        }
        #expect(empty.map(\.message) == ["cat of no parts"])
    }

    @Test func registerBreaksALoop() throws {
        _ = try Module("dut") { m in
            let r = m.register("r", width: 1)
            r.assign(~r)
            m.output("y").assign(r)
        }
    }

    @Test func registerNeverAssigned() {
        var line = 0
        let found = diagnostics { m in
            line = #line + 1
            let r = m.register("r", width: 3)
            m.output("y", width: 3).assign(r)
        }
        expectSingle(found, .registerNeverAssigned, line: line, mentioning: "register 'r' is never assigned")
    }

    @Test func nameClash() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a")
            line = #line + 1
            let w = m.wire("a", width: 1)
            w.assign(a)
            m.output("y").assign(w)
        }
        expectSingle(found, .nameClash, line: line, mentioning: "'a' of wire 'a' is already used by input 'a'")
    }

    @Test func registerSuffixClash() {
        var line = 0
        let found = diagnostics { m in
            let r = m.register("count", width: 2)
            r.assign(r + 1)
            line = #line + 1
            let w = m.wire("count_reg", r)
            m.output("y", width: 2).assign(w)
        }
        expectSingle(found, .nameClash, line: line, mentioning: "'count_reg'")
    }

    @Test("Verilog keywords, implicit ports and reserved prefixes are refused",
          arguments: ["reg", "module", "logic", "clk", "_t0", "9lives", "a-b"])
    func refusedName(_ name: String) {
        var line = 0
        let found = diagnostics { m in
            line = #line + 1
            let a = m.input(name)
            m.output("y").assign(a)
        }
        expectSingle(found, .invalidName, line: line, mentioning: name)
    }

    @Test func conditionMustBeOneBit() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 2)
            let y = m.output("y")
            y.assign(0)
            line = #line + 1
            m.when(a) { y.assign(1) }
        }
        expectSingle(found, .invalidOperand, line: line, mentioning: "condition must be 1 bit")
    }

    @Test func sliceOutOfRange() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 4)
            line = #line + 1
            m.output("y", width: 2).assign(a[5, 4])
        }
        expectSingle(found, .invalidOperand, line: line, mentioning: "bits [5:4] are outside a 4-bit value")
    }

    @Test func romAddressWidth() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 4)
            line = #line + 1
            let d = m.rom("t", width: 8, contents: (0..<300).map { UInt64($0 % 256) }, style: .logic, address: a, synchronous: false)
            m.output("y", width: 8).assign(d)
        }
        expectSingle(found, .widthMismatch, line: line, mentioning: "its 300 entries need 9")
    }

    @Test func romEntryTooWide() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 1)
            line = #line + 1
            let d = m.rom("t", width: 4, contents: [3, 16], style: .logic, address: a, synchronous: false)
            m.output("y", width: 4).assign(d)
        }
        expectSingle(found, .invalidRom, line: line, mentioning: "entry 1 of ROM 't' (16) does not fit in 4 bits")
    }

    @Test func blockMemoryNeedsSynchronousRead() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 1)
            line = #line + 1
            let d = m.rom("t", width: 4, contents: [3, 1], style: .blockMemory, address: a, synchronous: false)
            m.output("y", width: 4).assign(d)
        }
        expectSingle(found, .invalidRom, line: line, mentioning: "block RAM needs a synchronous read")
    }

    @Test func ramPortWidths() {
        var line = 0
        let found = diagnostics { m in
            let a = m.input("a", width: 3)
            let d = m.input("d", width: 8)
            let we = m.input("we", width: 2)
            line = #line + 1
            let q = m.ram("fifo", width: 16, depth: 16, writeEnable: we, writeAddress: a, writeData: d, readAddress: a, readEnable: nil)
            m.output("y", width: 16).assign(q)
        }
        #expect(found.count == 4, "\(found)")
        #expect(found.allSatisfy { $0.location.line == line })
        let messages = found.map(\.message).joined(separator: "\n")
        for text in ["write address of RAM 'fifo' is 3 bits, its 16 words need 4", "write data of RAM 'fifo' is 8 bits, its words are 16",
                     "write enable of RAM 'fifo' must be 1 bit", "read address of RAM 'fifo' is 3 bits"] {
            #expect(messages.contains(text), "missing: \(text) in \(messages)")
        }
    }

    @Test func signalOfAnotherModule() throws {
        var stolen: Signal?
        _ = try Module("other") { m in
            let x = m.input("x")
            stolen = x
            m.output("y").assign(x)
        }
        var line = 0
        let found = diagnostics { m in
            guard let stolen else { return }
            line = #line + 1
            m.output("y").assign(stolen)
        }
        #expect(found.contains { $0.kind == .foreignSignal && $0.location.line == line })
    }

    @Test func unknownInstancePort() throws {
        let child = try Module("child") { m in m.output("y").assign(m.input("x")) }
        var line = 0
        let found = diagnostics { m in
            let c = m.instance(child, name: "c")
            c["x"].assign(0)
            m.output("y").assign(c["y"])
            line = #line + 1
            _ = c.port("nope")
        }
        expectSingle(found, .unknownPort, line: line, mentioning: "no port 'nope'")
    }

    @Test("every problem is reported, not only the first")
    func allProblemsReported() {
        let found = diagnostics { m in
            _ = m.output("y")
            _ = m.output("z", width: 2)
            _ = m.register("r", width: 1)
        }
        #expect(found.map(\.kind) == [.undriven, .undriven, .registerNeverAssigned])
    }
}
