/// Identifier rules shared by the builder (which refuses bad names) and the emitter.
public enum VerilogNames {
    /// Verilog-2005 and SystemVerilog keywords: a designer's name may not be one of these.
    public static let keywords: Set<String> = [
        "always", "and", "assign", "automatic", "begin", "buf", "bufif0", "bufif1", "case", "casex",
        "casez", "cell", "cmos", "config", "deassign", "default", "defparam", "design", "disable",
        "edge", "else", "end", "endcase", "endconfig", "endfunction", "endgenerate", "endmodule",
        "endprimitive", "endspecify", "endtable", "endtask", "event", "for", "force", "forever",
        "fork", "function", "generate", "genvar", "highz0", "highz1", "if", "ifnone", "incdir",
        "include", "initial", "inout", "input", "instance", "integer", "join", "large", "liblist",
        "library", "localparam", "macromodule", "medium", "module", "nand", "negedge", "nmos", "nor",
        "noshowcancelled", "not", "notif0", "notif1", "or", "output", "parameter", "pmos", "posedge",
        "primitive", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect",
        "pulsestyle_onevent", "rcmos", "real", "realtime", "reg", "release", "repeat", "rnmos",
        "rpmos", "rtran", "rtranif0", "rtranif1", "scalared", "showcancelled", "signed", "small",
        "specify", "specparam", "strong0", "strong1", "supply0", "supply1", "table", "task", "time",
        "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "unsigned",
        "use", "uwire", "vectored", "wait", "wand", "weak0", "weak1", "while", "wire", "wor", "xnor",
        "xor",
        // SystemVerilog, so the output also reads cleanly as SystemVerilog.
        "alias", "always_comb", "always_ff", "always_latch", "assert", "assume", "before", "bind",
        "bins", "binsof", "bit", "break", "byte", "chandle", "class", "clocking", "const", "constraint",
        "context", "continue", "cover", "covergroup", "coverpoint", "cross", "dist", "do", "endclass",
        "endclocking", "endgroup", "endinterface", "endpackage", "endprogram", "endproperty",
        "endsequence", "enum", "expect", "export", "extends", "extern", "final", "first_match",
        "foreach", "forkjoin", "iff", "ignore_bins", "illegal_bins", "import", "inside", "int",
        "interface", "intersect", "join_any", "join_none", "local", "logic", "longint", "matches",
        "modport", "new", "null", "package", "packed", "priority", "program", "property", "protected",
        "pure", "rand", "randc", "randcase", "randsequence", "ref", "return", "sequence", "shortint",
        "shortreal", "solve", "static", "string", "struct", "super", "tagged", "this", "throughout",
        "timeprecision", "timeunit", "type", "typedef", "union", "unique", "var", "virtual", "void",
        "wait_order", "wildcard", "with", "within",
    ]

    /// Names the emitter itself uses for every module with state.
    public static let implicitPorts: Set<String> = ["clk", "rst"]

    /// Why `name` cannot be used for a module, or nil if it can. Module names live apart from
    /// the names inside a module, so a leading `_` (legal Verilog, and allowed for codebook names
    /// by FORMAT.md) is fine here.
    public static func moduleNameProblem(with name: String) -> String? {
        guard name.hasPrefix("_") else { return problem(with: name) }
        let rest = name.dropFirst()
        if rest.isEmpty { return "'_' alone is not a module name" }
        let isWord = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" }
        guard rest.unicodeScalars.allSatisfy(isWord) else { return "'\(name)' may hold only letters, digits and '_'" }
        return nil
    }

    /// Why `name` cannot be used for a designer's signal or instance, or nil if it can.
    /// Names start with a letter (a leading `_` is kept for the emitter's temporaries).
    public static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "a name may not be empty" }
        let isLetter = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        let isDigit = { (c: Unicode.Scalar) in ("0"..."9").contains(c) }
        guard isLetter(first) else {
            return "'\(name)' must start with a letter (names starting with '_' are reserved for temporaries)"
        }
        guard name.unicodeScalars.allSatisfy({ isLetter($0) || isDigit($0) || $0 == "_" }) else {
            return "'\(name)' may hold only letters, digits and '_'"
        }
        if keywords.contains(name) { return "'\(name)' is a Verilog keyword" }
        if implicitPorts.contains(name) { return "'\(name)' is the implicit clock or reset port" }
        return nil
    }
}
