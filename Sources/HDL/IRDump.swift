extension Module {
    /// The module's structure as text, one declaration or statement per line: ports, signals
    /// (kind, width, reset), memories, instances, properties, then the statements as a tree with
    /// expressions in prefix form (`(+ a 4'd1)`). The text depends only on the design, so golden
    /// tests can pin a block's structure without pinning its Verilog.
    public func dump() -> String {
        var lines = ["module \(name)"]
        for port in ports { lines.append("  port \(port.direction.rawValue) \(port.name) \(port.width)") }
        for decl in signals {
            switch decl.kind {
            case .input, .output, .instancePort, .romData: continue
            case .wire: lines.append("  wire \(decl.name) \(decl.width)")
            case .register(let reset, let enable):
                var line = "  register \(decl.name) \(decl.width)"
                if let reset { line += " reset \(reset)" }
                if let enable { line += " enable \(dumped(enable))" }
                lines.append(line)
            }
        }
        for rom in roms {
            let kind = rom.write == nil ? "rom" : "ram"
            var line = "  \(kind) \(rom.name) \(rom.contents.count)x\(rom.width) \(rom.style.rawValue)"
            switch rom.read {
            case .async(let address): line += " async \(dumped(address))"
            case .sync(let address, let enable): line += " sync \(dumped(address))" + (enable.map { " enable \(dumped($0))" } ?? "")
            }
            if let write = rom.write { line += " write \(dumped(write.enable)) \(dumped(write.address)) \(dumped(write.data))" }
            lines.append(line)
        }
        for instance in instances { lines.append("  instance \(instance.name) of \(instance.module.name)") }
        for property in properties {
            lines.append("  \(property.kind.rawValue) \(property.label) \(property.condition.map { dumped($0) } ?? "rst")")
        }
        dump(statements, indent: "  ", into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    private func dump(_ list: [Statement], indent: String, into lines: inout [String]) {
        for statement in list {
            switch statement {
            case .assign(let target, let value, _):
                lines.append("\(indent)\(signals[target].name) = \(dumped(value))")
            case .when(let condition, let thenBody, let otherwise, _):
                lines.append("\(indent)when \(dumped(condition))")
                dump(thenBody, indent: indent + "  ", into: &lines)
                if !otherwise.isEmpty {
                    lines.append("\(indent)otherwise")
                    dump(otherwise, indent: indent + "  ", into: &lines)
                }
            case .switchOn(let selector, let cases, let defaultBody, _):
                lines.append("\(indent)switch \(dumped(selector))")
                for arm in cases {
                    lines.append("\(indent)  on \(arm.values.map(String.init).joined(separator: ", "))")
                    dump(arm.body, indent: indent + "    ", into: &lines)
                }
                if !defaultBody.isEmpty {
                    lines.append("\(indent)  otherwise")
                    dump(defaultBody, indent: indent + "    ", into: &lines)
                }
            }
        }
    }

    /// An expression in prefix form: signals by name, constants as `<width>'d<value>`.
    func dumped(_ e: Expr) -> String {
        switch e.node {
        case .signal(let id): return signals[id].name
        case .constant(let value): return "\(e.width)'d\(value)"
        case .unary(let op, let a): return "(\(op.rawValue) \(dumped(a)))"
        case .binary(let op, let a, let b): return "(\(op.rawValue) \(dumped(a)) \(dumped(b)))"
        case .mux(let c, let a, let b): return "(? \(dumped(c)) \(dumped(a)) \(dumped(b)))"
        case .slice(let a, let high, let low): return high == low ? "\(dumped(a))[\(high)]" : "\(dumped(a))[\(high):\(low)]"
        case .concat(let parts): return "{" + parts.map { dumped($0) }.joined(separator: " ") + "}"
        case .replicate(let a, let count): return "{\(count) \(dumped(a))}"
        case .shiftConstant(let left, let a, let amount): return "(\(left ? "<<" : ">>") \(dumped(a)) \(amount))"
        }
    }
}
