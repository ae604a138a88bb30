/// One emitted Verilog source file.
public struct VerilogFile: Sendable, Equatable {
    /// `<module>.v` (or a ROM's `<module>_<rom>.hex`).
    public let name: String
    public let contents: String

    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// Where the contents of memory-array ROMs (block and distributed styles) go.
public enum RomContents: Sendable, Equatable {
    /// In the Verilog, as assignments in an `initial` block.
    case inline
    /// In a file `<module>_<rom>.hex` per ROM (one hex word per line), read by
    /// `$readmemh("<prefix><module>_<rom>.hex", ...)`. Yosys, Verilator, Icarus and Vivado all take
    /// it; the path is relative to where the tool runs unless `prefix` makes it absolute.
    case hexFiles(prefix: String)
}

extension Module {
    /// The Verilog of this module and every module below it, one module per file, children first,
    /// and with `.hexFiles` the ROM contents files after them.
    public func verilogFiles(romContents: RomContents = .inline) -> [VerilogFile] {
        var files: [VerilogFile] = []
        var hexFiles: [VerilogFile] = []
        for module in hierarchy {
            var emitter = ModuleEmitter(module: module, romContents: romContents)
            files.append(VerilogFile(name: "\(module.name).v", contents: emitter.emit()))
            hexFiles += emitter.romFiles
        }
        return files + hexFiles
    }
}

/// Writes an elaborated module as readable, deterministic Verilog-2005.
///
/// Conventions (after alexforencich/verilog-axis): `default_nettype none`; ports keep the
/// designer's names; a register `x` is `x_reg` with a combinational `x_next`; each combinational
/// signal gets one `assign` or one `always @*` block whose first statement is a default, so no
/// latch can arise; all registers share one `always @(posedge clk)` block with the synchronous
/// reset last. Temporaries are `_t<n>`. Bits that nothing reads are gathered into `_unused`, which
/// Verilator's default `--unused-regexp` accepts, so the output lints clean under `-Wall`.
public enum VerilogEmitter {
    public static func emit(_ module: Module) -> String {
        var emitter = ModuleEmitter(module: module, romContents: .inline)
        return emitter.emit()
    }
}

struct ModuleEmitter {
    let module: Module
    let romContents: RomContents
    /// The contents files of the ROMs written with `.hexFiles`.
    private(set) var romFiles: [VerilogFile] = []
    private var temporaries: [(name: String, width: Int, value: String)] = []
    /// Temporaries by width and expression text.
    private var temporaryNames: [String: String] = [:]
    /// For each readable name, which bits were read.
    private var usedBits: [String: [Bool]] = [:]
    private var readableOrder: [String] = []

    init(module: Module, romContents: RomContents) {
        self.module = module
        self.romContents = romContents
    }

    // MARK: Names

    private func readName(_ id: SignalID) -> String {
        let decl = module.signals[id]
        return decl.kind.isRegister ? decl.name + "_reg" : decl.name
    }

    private func targetName(_ id: SignalID) -> String {
        let decl = module.signals[id]
        return decl.kind.isRegister ? decl.name + "_next" : decl.name
    }

    private mutating func markUsed(_ name: String, high: Int, low: Int) {
        guard var bits = usedBits[name] else { return }
        for i in low...high { bits[i] = true }
        usedBits[name] = bits
    }

    private mutating func track(_ name: String, width: Int) {
        usedBits[name] = Array(repeating: false, count: width)
        readableOrder.append(name)
    }

    // MARK: Expressions

    mutating func expression(_ e: Expr, nested: Bool = false) -> String {
        func wrap(_ s: String) -> String { nested ? "(\(s))" : s }
        switch e.node {
        case .signal(let id):
            let name = readName(id)
            markUsed(name, high: e.width - 1, low: 0)
            return name
        case .constant(let value):
            return literal(value, width: e.width)
        case .unary(let op, let a):
            // A unary operand that is itself unary is parenthesised: `|~x` would not parse everywhere.
            if case .unary = a.node { return "\(op.rawValue)(\(expression(a)))" }
            return op.rawValue + expression(a, nested: true)
        case .binary(let op, let a, let b):
            // A chain of one associative bitwise operator reads without nested parentheses.
            let chain: Bool
            if [.and, .or, .xor].contains(op), case .binary(let inner, _, _) = a.node, inner == op { chain = true } else { chain = false }
            return wrap("\(expression(a, nested: !chain)) \(op.rawValue) \(expression(b, nested: true))")
        case .mux(let c, let a, let b):
            return wrap("\(expression(c, nested: true)) ? \(expression(a, nested: true)) : \(expression(b, nested: true))")
        case .slice(let a, let high, let low):
            return slice(a, high: high, low: low)
        case .concat(let parts):
            return "{" + parts.map { expression($0) }.joined(separator: ", ") + "}"
        case .replicate(let a, let count):
            return "{\(count){\(expression(a))}}"
        case .shiftConstant(let left, let a, let amount):
            return wrap("\(expression(a, nested: true)) \(left ? "<<" : ">>") \(amount)")
        }
    }

    private mutating func slice(_ a: Expr, high: Int, low: Int) -> String {
        let range = high == low ? "[\(high)]" : "[\(high):\(low)]"
        switch a.node {
        case .signal(let id):
            let name = readName(id)
            markUsed(name, high: high, low: low)
            return name + range
        case .constant(let value):
            let width = high - low + 1
            let mask: UInt64 = width >= 64 ? ~0 : (1 << UInt64(width)) - 1
            return literal((value >> UInt64(low)) & mask, width: width)
        default:
            // Verilog-2005 cannot select bits of an expression: name it first, once per
            // distinct expression.
            let value = expression(a)  // may name temporaries of its own first
            let key = "\(a.width):\(value)"
            let name: String
            if let existing = temporaryNames[key] {
                name = existing
            } else {
                name = "_t\(temporaries.count)"
                temporaries.append((name, a.width, value))
                temporaryNames[key] = name
                track(name, width: a.width)
            }
            markUsed(name, high: high, low: low)
            return name + range
        }
    }

    func literal(_ value: UInt64, width: Int) -> String {
        value < 10 || width < 8 ? "\(width)'d\(value)" : "\(width)'h\(String(value, radix: 16))"
    }

    // MARK: Statements

    /// The statements of `list` that affect `target`, in order.
    static func prune(_ list: [Statement], for target: SignalID) -> [Statement] { prune(list, for: [target]) }

    /// The statements of `list` that affect any of `targets`, in order.
    static func prune(_ list: [Statement], for targets: Set<SignalID>) -> [Statement] {
        list.compactMap { statement in
            switch statement {
            case .assign(let t, _, _):
                return targets.contains(t) ? statement : nil
            case .when(let condition, let thenBody, let otherwise, let location):
                let t = prune(thenBody, for: targets)
                let o = prune(otherwise, for: targets)
                return t.isEmpty && o.isEmpty ? nil : .when(condition: condition, then: t, otherwise: o, location: location)
            case .switchOn(let selector, let cases, let defaultBody, let location):
                let c = cases.map { SwitchCase(values: $0.values, body: prune($0.body, for: targets)) }
                let d = prune(defaultBody, for: targets)
                return d.isEmpty && c.allSatisfy({ $0.body.isEmpty })
                    ? nil : .switchOn(selector: selector, cases: c, defaultBody: d, location: location)
            }
        }
    }

    private mutating func procedural(_ list: [Statement], indent: String, into lines: inout [String]) {
        for statement in list {
            switch statement {
            case .assign(let target, let value, _):
                lines.append("\(indent)\(targetName(target)) = \(expression(value));")
            case .when(let condition, let thenBody, let otherwise, _) where thenBody.isEmpty:
                lines.append("\(indent)if (!\(expression(condition, nested: true))) begin")
                procedural(otherwise, indent: indent + "    ", into: &lines)
                lines.append("\(indent)end")
            case .when(let condition, let thenBody, let otherwise, _):
                lines.append("\(indent)if (\(expression(condition))) begin")
                procedural(thenBody, indent: indent + "    ", into: &lines)
                var elseBody = otherwise
                while elseBody.count == 1, case .when(let c, let t, let o, _) = elseBody[0] {
                    lines.append("\(indent)end else if (\(expression(c))) begin")
                    procedural(t, indent: indent + "    ", into: &lines)
                    elseBody = o
                }
                if !elseBody.isEmpty {
                    lines.append("\(indent)end else begin")
                    procedural(elseBody, indent: indent + "    ", into: &lines)
                }
                lines.append("\(indent)end")
            case .switchOn(let selector, let cases, let defaultBody, _):
                lines.append("\(indent)case (\(expression(selector)))")
                for arm in cases where !arm.body.isEmpty {
                    let labels = arm.values.map { literal($0, width: selector.width) }.joined(separator: ", ")
                    lines.append("\(indent)    \(labels): begin")
                    procedural(arm.body, indent: indent + "        ", into: &lines)
                    lines.append("\(indent)    end")
                }
                if defaultBody.isEmpty {
                    lines.append("\(indent)    default: begin")
                    lines.append("\(indent)    end")
                } else {
                    lines.append("\(indent)    default: begin")
                    procedural(defaultBody, indent: indent + "        ", into: &lines)
                    lines.append("\(indent)    end")
                }
                lines.append("\(indent)endcase")
            }
        }
    }

    // MARK: Module

    private static func range(_ width: Int) -> String { width == 1 ? "" : "[\(width - 1):0] " }

    mutating func emit() -> String {
        // Which combinational targets need a procedural block.
        var pruned: [SignalID: [Statement]] = [:]
        for (id, decl) in module.signals.enumerated() where decl.kind.isAssignable {
            pruned[id] = Self.prune(module.statements, for: id)
        }
        func isContinuous(_ id: SignalID) -> Bool {
            guard let p = pruned[id], p.count == 1, case .assign = p[0] else { return false }
            return true
        }

        for (id, decl) in module.signals.enumerated() {
            switch decl.kind {
            case .output: continue
            case .instancePort(_, _, .input): continue
            default: track(readName(id), width: decl.width)
            }
        }

        var body: [String] = []
        var declarations: [String] = []

        // ROMs.
        for rom in module.roms {
            body.append(contentsOf: romLines(rom))
            body.append("")
        }

        // Combinational signals and register next-state logic: continuous assignments first.
        for (id, decl) in module.signals.enumerated() where decl.kind.isAssignable && isContinuous(id) {
            guard let statements = pruned[id], case .assign(_, let value, _) = statements[0] else { continue }
            body.append("assign \(targetName(id)) = \(expression(value));")
        }
        // Registers whose next values are set by the same top-level when/switch trees share one
        // block: the tree is written once for all of them (their `_next` values are read only by
        // the clocked block, so their order inside it does not matter).
        func trees(_ id: SignalID) -> [Int] {
            module.statements.indices.filter { !Self.prune([module.statements[$0]], for: id).isEmpty }
        }
        var registerGroups: [[Int]: [SignalID]] = [:]
        for (id, decl) in module.signals.enumerated() where decl.kind.isRegister && !isContinuous(id) {
            registerGroups[trees(id), default: []].append(id)
        }
        var emittedGroups: Set<[Int]> = []
        for (id, decl) in module.signals.enumerated() where decl.kind.isAssignable && !isContinuous(id) {
            var targets = [id]
            if decl.kind.isRegister {
                let key = trees(id)
                guard emittedGroups.insert(key).inserted else { continue }
                targets = registerGroups[key] ?? [id]
            }
            let statements = targets.count == 1 ? (pruned[id] ?? []) : Self.prune(module.statements, for: Set(targets))
            body.append("")
            body.append("always @* begin")
            for target in targets {
                let targetDecl = module.signals[target]
                if targetDecl.kind.isRegister && !ElaborationChecker.definitelyAssigns(pruned[target] ?? [], target) {
                    body.append("    \(targetName(target)) = \(readName(target));")
                    markUsed(readName(target), high: targetDecl.width - 1, low: 0)
                }
            }
            var lines: [String] = []
            procedural(statements, indent: "    ", into: &lines)
            body.append(contentsOf: lines)
            body.append("end")
        }

        // Registers.
        let registers = module.signals.enumerated().filter { $0.element.kind.isRegister }
        if !registers.isEmpty {
            body.append("")
            body.append("always @(posedge clk) begin")
            for (id, decl) in registers {
                guard case .register(_, let enable) = decl.kind else { continue }
                body.append(contentsOf: guarded("\(readName(id)) <= \(targetName(id));", by: enable))
            }
            let resets = registers.compactMap { (id, decl) -> String? in
                guard case .register(let reset?, _) = decl.kind else { return nil }
                return "        \(readName(id)) <= \(literal(reset, width: decl.width));"
            }
            if !resets.isEmpty {
                body.append("")
                body.append("    if (rst) begin")
                body.append(contentsOf: resets)
                body.append("    end")
            }
            body.append("end")
        }

        // Instances.
        for (index, instance) in module.instances.enumerated() {
            body.append("")
            body.append("\(instance.module.name) \(instance.name) (")
            var connections: [String] = []
            for port in instance.module.ports {
                if VerilogNames.implicitPorts.contains(port.name) {
                    connections.append("    .\(port.name)(\(port.name))")
                    continue
                }
                let id = module.signals.firstIndex {
                    if case .instancePort(index, port.name, _) = $0.kind { return true } else { return false }
                }
                let wire = id.map { readName($0) } ?? "\(instance.name)_\(port.name)"
                connections.append("    .\(port.name)(\(wire))")
            }
            body.append(connections.joined(separator: ",\n"))
            body.append(");")
        }

        // Formal properties, under `ifdef FORMAL`. What they read does not count as used: without
        // FORMAL defined, those bits are unread, and the lint must say so through `_unused`.
        if !module.properties.isEmpty {
            let usedOutsideProperties = usedBits
            body.append("")
            body.append(contentsOf: formalLines())
            usedBits = usedOutsideProperties
        }

        // Declarations of internal signals.
        for (id, decl) in module.signals.enumerated() {
            let range = Self.range(decl.width)
            switch decl.kind {
            case .input, .output: continue
            case .register(let reset, _):
                // Every register starts defined (verilog-axis): at its reset value, or 0.
                declarations.append("reg  \(range)\(decl.name)_reg = \(literal(reset ?? 0, width: decl.width));")
                declarations.append("\(isContinuous(id) ? "wire" : "reg ") \(range)\(decl.name)_next;")
            case .romData(let romIndex):
                let rom = module.roms[romIndex]
                let isReg: Bool
                if case .sync = rom.read { isReg = true } else { isReg = rom.style == .logic }
                declarations.append("\(isReg ? "reg " : "wire") \(range)\(decl.name);")
            case .wire, .instancePort:
                let procedural = decl.kind.isAssignable && !isContinuous(id)
                declarations.append("\(procedural ? "reg " : "wire") \(range)\(decl.name);")
            }
        }
        for t in temporaries {
            declarations.append("wire \(Self.range(t.width))\(t.name);")
        }
        var temporaryAssigns = temporaries.map { "assign \($0.name) = \($0.value);" }
        if !temporaryAssigns.isEmpty { temporaryAssigns.append("") }

        // Unread bits.
        var unused: [String] = []
        for name in readableOrder {
            guard let bits = usedBits[name] else { continue }
            if bits.allSatisfy({ !$0 }) { unused.append(name); continue }
            var i = 0
            while i < bits.count {
                if bits[i] { i += 1; continue }
                var j = i
                while j + 1 < bits.count && !bits[j + 1] { j += 1 }
                unused.append(i == j ? "\(name)[\(i)]" : "\(name)[\(j):\(i)]")
                i = j + 1
            }
        }
        if !unused.isEmpty {
            declarations.append("wire _unused = &{1'b0, \(unused.joined(separator: ", "))};")
        }

        // Assemble.
        var out: [String] = []
        out.append("// Generated by hwgen from its Swift HDL description. Do not edit: regenerate instead.")
        for comment in module.comments { out.append("// \(comment)") }
        out.append("")
        out.append("`resetall")
        out.append("`timescale 1ns / 1ps")
        out.append("`default_nettype none")
        out.append("")
        out.append("module \(module.name) (")
        var portLines: [String] = []
        for port in module.ports {
            let id = module.signals.firstIndex { $0.name == port.name && { if case .output = $0.kind { return true } else { return false } }($0) }
            let isReg = id.map { !isContinuous($0) } ?? false
            let kind = port.direction == .input ? "input  wire" : (isReg ? "output reg " : "output wire")
            portLines.append("    \(kind) \(Self.range(port.width))\(port.name)")
        }
        out.append(portLines.joined(separator: ",\n"))
        out.append(");")
        out.append("")
        if !declarations.isEmpty {
            out.append(contentsOf: declarations)
            out.append("")
        }
        out.append(contentsOf: temporaryAssigns)
        // Drop a leading blank line of the body and collapse doubled blank lines.
        var previousBlank = true
        for line in body {
            let blank = line.isEmpty
            if blank && previousBlank { continue }
            out.append(line)
            previousBlank = blank
        }
        if out.last == "" { out.removeLast() }
        out.append("")
        out.append("endmodule")
        out.append("")
        out.append("`resetall")
        let lines = out.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        return lines.flatMap { Self.wrapped($0) }.joined(separator: "\n") + "\n"
    }

    /// Longest emitted line, where a statement can be broken.
    static let lineLimit = 110

    /// A code line longer than `lineLimit`, broken at spaces (which never fall inside a Verilog
    /// token) into lines of at most the limit where possible, continued four spaces deeper (a
    /// comment as a comment). Attributes and directives stay whole.
    static func wrapped(_ line: String) -> [String] {
        guard line.count > lineLimit else { return [line] }
        let trimmed = line.drop { $0 == " " }
        if trimmed.hasPrefix("(*") || trimmed.hasPrefix("`") { return [line] }
        let lead = String(repeating: " ", count: line.count - trimmed.count)
        // A comment goes on as a comment.
        let indent = lead + (trimmed.hasPrefix("//") ? "//   " : "    ")
        var lines: [String] = []
        var current = lead
        var wordsOnLine = 0
        for (i, word) in trimmed.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            let piece = (i == 0 ? "" : " ") + word
            if wordsOnLine > 0 && !word.isEmpty && current.count + piece.count > lineLimit {
                lines.append(current)
                current = indent + word
                wordsOnLine = 1
            } else {
                current += piece
                wordsOnLine += 1
            }
        }
        lines.append(current)
        return lines
    }

    // MARK: Formal properties

    /// The properties as immediate assertions in one `always @*` block for SymbiYosys: initial
    /// assumptions in the initial state (`$initstate`), the others in every state after it.
    private mutating func formalLines() -> [String] {
        var lines = ["`ifdef FORMAL", "always @* begin"]
        let initial = module.properties.filter { $0.kind == .initialAssume }
        // Those under a macro after the others, grouped by macro in order of first use.
        let rest = module.properties.filter { $0.kind != .initialAssume }
        let macros = rest.compactMap(\.define).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let always = rest.filter { $0.define == nil } + macros.flatMap { m in rest.filter { $0.define == m } }
        func statement(_ p: PropertyDecl, _ emitter: inout ModuleEmitter) -> String {
            let condition = p.condition.map { emitter.expression($0) } ?? "rst"
            let verb = p.kind == .initialAssume ? "assume" : p.kind.rawValue
            return "\(p.label): \(verb) (\(condition));"
        }
        if !initial.isEmpty {
            lines.append("    if ($initstate) begin")
            for p in initial { lines.append("        " + statement(p, &self)) }
            lines.append(always.isEmpty ? "    end" : "    end else begin")
        } else {
            lines.append("    if (!$initstate) begin")
        }
        var open: String? = nil
        for p in always {
            if p.define != open {
                if let open { lines.append("`endif  // \(open)") }
                if let define = p.define { lines.append("`ifdef \(define)") }
                open = p.define
            }
            lines.append("        " + statement(p, &self))
        }
        if let open { lines.append("`endif  // \(open)") }
        if !always.isEmpty || initial.isEmpty { lines.append("    end") }
        lines.append("end")
        lines.append("`endif")
        return lines
    }

    // MARK: ROMs

    private mutating func romLines(_ rom: RomDecl) -> [String] {
        if let write = rom.write { return ramLines(rom, write: write) }
        var lines: [String] = []
        let depth = rom.contents.count
        let addressWidth = rom.addressWidth
        let kind: String
        switch rom.read {
        case .async: kind = "asynchronous read"
        case .sync: kind = "synchronous read"
        }
        lines.append("// ROM \(rom.name): \(depth) x \(rom.width) bits, \(kind), \(rom.style.rawValue)")
        let address = expression(rom.read.address)
        let data = rom.name + "_rdata"
        let word = { (v: UInt64) in "\(rom.width)'h\(String(v, radix: 16))" }
        switch rom.style {
        case .logic:
            var caseLines: [String] = []
            let assign: String
            switch rom.read {
            case .async:
                lines.append("always @* begin")
                assign = "="
            case .sync(_, let enable):
                lines.append("always @(posedge clk) begin")
                if let enable { lines.append("    if (\(expression(enable))) begin") }
                assign = "<="
            }
            var indent = "    "
            if case .sync(_, let enable) = rom.read, enable != nil { indent = "        " }
            // Yosys turns large case tables into ROMs and may map those to block RAM; the
            // attribute keeps them in LUTs as this style promises.
            caseLines.append("\(indent)(* rom_style = \"logic\" *)")
            caseLines.append("\(indent)case (\(address))")
            for (i, v) in rom.contents.enumerated() {
                caseLines.append("\(indent)    \(literal(UInt64(i), width: addressWidth)): \(data) \(assign) \(word(v));")
            }
            caseLines.append("\(indent)    default: \(data) \(assign) \(word(0));")
            caseLines.append("\(indent)endcase")
            lines.append(contentsOf: caseLines)
            if case .sync(_, let enable) = rom.read, enable != nil { lines.append("    end") }
            lines.append("end")
        case .blockMemory, .distributedMemory:
            // Every address is valid: the array is padded with zeros to a power of two.
            let padded = 1 << addressWidth
            let attribute = rom.style == .blockMemory ? "block" : "distributed"
            lines.append("(* rom_style = \"\(attribute)\" *)")
            lines.append("reg [\(rom.width - 1):0] \(rom.name)_mem [0:\(padded - 1)];")
            lines.append("")
            switch romContents {
            case .inline:
                lines.append("initial begin")
                let perLine = 4
                var i = 0
                while i < padded {
                    let row = (i..<Swift.min(i + perLine, padded)).map { k in
                        "\(rom.name)_mem[\(k)] = \(word(k < depth ? rom.contents[k] : 0));"
                    }
                    lines.append("    " + row.joined(separator: " "))
                    i += perLine
                }
                lines.append("end")
            case .hexFiles(let prefix):
                let file = "\(module.name)_\(rom.name).hex"
                let digits = (rom.width + 3) / 4
                let text = (0..<padded).map { k in
                    let hex = String(k < depth ? rom.contents[k] : 0, radix: 16)
                    return String(repeating: "0", count: Swift.max(0, digits - hex.count)) + hex
                }.joined(separator: "\n") + "\n"
                romFiles.append(VerilogFile(name: file, contents: text))
                lines.append("// \(padded) words of \(rom.width) bits in \(file), one hex word per line.")
                lines.append("initial $readmemh(\"\(prefix)\(file)\", \(rom.name)_mem);")
            }
            lines.append("")
            lines.append(contentsOf: readLines(rom, address: address, data: data))
        }
        return lines
    }

    /// A simple dual-port RAM: the array, its write port, its read port.
    private mutating func ramLines(_ rom: RomDecl, write: MemoryWrite) -> [String] {
        let padded = 1 << rom.addressWidth
        let distributed = rom.style == .distributedMemory
        var lines = ["// RAM \(rom.name): \(rom.contents.count) x \(rom.width) bits, simple dual port, \(distributed ? "asynchronous" : "synchronous") read"]
        lines.append(distributed ? "(* ram_style = \"distributed\" *)" : "(* ram_style = \"block\" *)")
        lines.append("reg [\(rom.width - 1):0] \(rom.name)_mem [0:\(padded - 1)];")
        // Every word starts defined (0), as every register does: a read of a word not yet
        // written gives 0 in every simulator, never X (block RAMs take it as their INITVAL).
        let index = "\(rom.name)_init_index"
        lines.append("integer \(index);")
        lines.append("initial begin")
        lines.append("    for (\(index) = 0; \(index) < \(padded); \(index) = \(index) + 1) begin")
        lines.append("        \(rom.name)_mem[\(index)] = \(literal(0, width: rom.width));")
        lines.append("    end")
        lines.append("end")
        lines.append("")
        lines.append("always @(posedge clk) begin")
        lines.append(contentsOf: guarded("\(rom.name)_mem[\(expression(write.address))] <= \(expression(write.data));", by: write.enable))
        lines.append("end")
        lines.append("")
        lines.append(contentsOf: readLines(rom, address: expression(rom.read.address), data: rom.name + "_rdata"))
        return lines
    }

    /// A clocked statement inside `always @(posedge clk)`, under `if (enable)` when there is one.
    private mutating func guarded(_ statement: String, by enable: Expr?) -> [String] {
        guard let enable else { return ["    " + statement] }
        return ["    if (\(expression(enable))) begin", "        " + statement, "    end"]
    }

    /// The read port of a memory array.
    private mutating func readLines(_ rom: RomDecl, address: String, data: String) -> [String] {
        var lines: [String] = []
        switch rom.read {
        case .async:
            lines.append("assign \(data) = \(rom.name)_mem[\(address)];")
        case .sync(_, let enable):
            lines.append("always @(posedge clk) begin")
            lines.append(contentsOf: guarded("\(data) <= \(rom.name)_mem[\(address)];", by: enable))
            lines.append("end")
        }
        return lines
    }
}
