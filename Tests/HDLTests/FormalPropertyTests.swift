import HDL
import Testing
import TestSupport

/// Formal properties in the DSL: where they go in the Verilog, and the mistakes reported at the
/// Swift line.
@Suite("Formal properties (assert, assume, cover) in the DSL")
struct FormalPropertyTests {
    static func counter() throws -> Module {
        try GoldenModules.counter(name: "counter_props") { m, go, r in
            m.assumeResetInitially()
            m.assume(go, "always_going")
            m.assert(r != 15, "never_fifteen", ifDefined: "BOUNDED_ONLY")
            m.cover(r == 3, "reaches_three")
            m.assert(r <= 15, "fits")
        }
    }

    @Test("properties go under ifdef FORMAL in one block: initial assumptions under $initstate, macro groups last")
    func emitted() throws {
        let text = VerilogEmitter.emit(try Self.counter())
        let expected = """
            `ifdef FORMAL
            always @* begin
                if ($initstate) begin
                    starts_in_reset: assume (rst);
                end else begin
                    always_going: assume (enable);
                    reaches_three: cover (value_reg == 4'd3);
                    fits: assert (value_reg <= 4'd15);
            `ifdef BOUNDED_ONLY
                    never_fifteen: assert (value_reg != 4'd15);
            `endif  // BOUNDED_ONLY
                end
            end
            `endif
            """
        #expect(text.contains(expected), "\(text)")
    }

    @Test("a module with properties is lint-clean and Icarus-clean without FORMAL (what only they read is listed as unused)")
    func lintClean() throws {
        try ExternalTools.lint(try Self.counter())
        try ExternalTools.icarusCompile(try Self.counter())
    }

    @Test("mistakes are reported at the Swift line: a property inside when, a wide condition, a bad or reused label")
    func mistakes() {
        var lines: [Int] = []
        do {
            _ = try Module("bad_props") { m in
                let a = m.input("a", width: 2)
                let y = m.output("y", width: 2)
                y.assign(a)
                m.when(a[0]) {
                    lines.append(#line + 1)
                    m.assert(a[1], "inside_when")
                }
                lines.append(#line + 1)
                m.assert(a, "too_wide")
                lines.append(#line + 1)
                m.cover(a[0], "9lives")
                m.cover(a[0], "twice")
                lines.append(#line + 1)
                m.cover(a[1], "twice")
            }
            Issue.record("elaboration succeeded")
        } catch let error as ElaborationError {
            let reported = error.diagnostics.map(\.location.line)
            #expect(reported == lines, "\(error)")
            #expect(error.diagnostics[0].message.contains("inside a when"))
            #expect(error.diagnostics[1].message.contains("1 bit wide"))
            #expect(error.diagnostics[2].message.contains("property label"))
            #expect(error.diagnostics[3].message.contains("already used"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
