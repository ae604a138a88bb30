import HDL
import Testing

@Suite("Word layouts pack in Swift and slice in the DSL")
struct WordLayoutTests {
    let layout = WordLayout([("shift", 4), ("base", 7), ("none", 0), ("kind", 2)])

    @Test("fields sit low first; a zero-width field is left out; the header text runs from the top")
    func placement() {
        #expect(layout.fields.map(\.name) == ["shift", "base", "kind"])
        #expect(layout.fields.map(\.low) == [0, 4, 11])
        #expect(layout.width == 13)
        #expect(layout.description == "[12:11] kind, [10:4] base, [3:0] shift")
    }

    @Test("pack puts each value at its field; too wide a value or an unknown field throws")
    func packing() throws {
        #expect(try layout.pack(["shift": 0x5, "base": 0x41, "kind": 2]) == 0x5 | 0x41 << 4 | 2 << 11)
        #expect(try layout.pack(["none": 0]) == 0)
        #expect(throws: WordLayout.PackingError.self) { try layout.pack(["base": 128]) }
        #expect(throws: WordLayout.PackingError.self) { try layout.pack(["bogus": 1]) }
    }

    @Test("the DSL slices and assembles the same fields as pack")
    func slicing() throws {
        var sliced: [String: Expr] = [:]
        var assembled: Expr? = nil
        _ = try Module("layout") { m in
            let word = m.input("word", width: layout.width)
            for f in ["shift", "base", "kind"] {
                let s = layout.field(f, of: word)
                sliced[f] = s.expr
                m.output(f, width: s.width).assign(s)
            }
            let rebuilt = layout.word(["kind": sliced.isEmpty ? word : layout.field("kind", of: word),
                                       "shift": layout.field("shift", of: word)], in: m)
            assembled = rebuilt.expr
            m.output("rebuilt", width: rebuilt.width).assign(rebuilt)
        }
        guard case .slice(_, 3, 0)? = sliced["shift"]?.node, case .slice(_, 10, 4)? = sliced["base"]?.node,
              case .slice(_, 12, 11)? = sliced["kind"]?.node else {
            Issue.record("slices: \(sliced)")
            return
        }
        // kind on top, base zero, shift at the bottom.
        guard case .concat(let parts)? = assembled?.node else { Issue.record("not a concatenation"); return }
        #expect(parts.map(\.width) == [2, 7, 4])
    }

    @Test("a wrong field name or word width is reported at the caller's line")
    func misuse() {
        do {
            _ = try Module("dut") { m in
                let word = m.input("word", width: 8)
                m.output("y", width: 1).assign(layout.field("bogus", of: m.input("other", width: layout.width)))
                m.output("z", width: 4).assign(layout.field("shift", of: word))
            }
            Issue.record("expected errors")
        } catch let error as ElaborationError {
            #expect(error.diagnostics.count == 2)
            #expect(error.diagnostics.allSatisfy { $0.location.fileID == "HDLTests/WordLayoutTests.swift" })
            #expect(error.diagnostics.contains { $0.message.contains("no field 'bogus'") })
            #expect(error.diagnostics.contains { $0.message.contains("8-bit word") })
        } catch {
            Issue.record("\(error)")
        }
    }
}
