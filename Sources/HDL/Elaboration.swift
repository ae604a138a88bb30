extension Module {
    /// Builds a module: runs `body` with a fresh builder, then checks the result (widths, drivers,
    /// latches, combinational loops, unassigned registers, names) and freezes it.
    /// - Throws: `ElaborationError` listing every problem with the Swift file and line.
    public convenience init(
        _ name: String, file: String = #fileID, line: Int = #line, _ body: (ModuleBuilder) -> Void
    ) throws {
        let builder = ModuleBuilder(name: name)
        if let problem = VerilogNames.problem(with: name) {
            builder.report(.invalidName, "module name: \(problem)", at: SourceLocation(fileID: file, line: line))
        }
        body(builder)
        let statements = builder.root.frozen()
        var checker = ElaborationChecker(builder: builder, statements: statements)
        checker.run()
        let diagnostics = builder.diagnostics + checker.diagnostics
        guard diagnostics.isEmpty else { throw ElaborationError(module: name, diagnostics: diagnostics) }

        let usesClock = !builder.roms.filter { if case .sync = $0.read { return true } else { return false } }.isEmpty
            || builder.signals.contains { $0.kind.isRegister }
            || builder.instances.contains { $0.module.usesClock }
        let usesReset = builder.signals.contains {
            if case .register(let reset, _) = $0.kind { return reset != nil } else { return false }
        } || builder.instances.contains { $0.module.usesReset } || builder.properties.contains { $0.condition == nil }
        var ports: [Port] = []
        if usesClock { ports.append(Port(name: "clk", direction: .input, width: 1)) }
        if usesReset { ports.append(Port(name: "rst", direction: .input, width: 1)) }
        for decl in builder.signals {
            switch decl.kind {
            case .input: ports.append(Port(name: decl.name, direction: .input, width: decl.width))
            case .output: ports.append(Port(name: decl.name, direction: .output, width: decl.width))
            default: break
            }
        }
        self.init(
            name: name, ports: ports, signals: builder.signals, roms: builder.roms, instances: builder.instances,
            statements: statements, properties: builder.properties, usesClock: usesClock, usesReset: usesReset,
            combinationalPaths: checker.combinationalPaths(), comments: builder.comments)
    }
}

/// The checks run when a module body has finished.
struct ElaborationChecker {
    let builder: ModuleBuilder
    let statements: [Statement]
    var diagnostics: [Diagnostic] = []
    /// For each signal, the signals it depends on combinationally.
    var dependencies: [Set<SignalID>]
    /// Where each signal is assigned (first assignment), for messages.
    var firstAssignment: [SignalID: SourceLocation] = [:]

    init(builder: ModuleBuilder, statements: [Statement]) {
        self.builder = builder
        self.statements = statements
        dependencies = Array(repeating: [], count: builder.signals.count)
    }

    mutating func run() {
        collectDrivers(statements, conditions: [])
        checkCompleteness()
        addRomAndInstanceDependencies()
        findLoops()
    }

    // MARK: Drivers

    /// Walks the statements: records dependencies (values and the conditions that guard them) and
    /// reports a second unconditional assignment of a signal within one statement list.
    private mutating func collectDrivers(_ list: [Statement], conditions: [Expr]) {
        var unconditional: [SignalID: SourceLocation] = [:]
        for statement in list {
            switch statement {
            case .assign(let target, let value, let location):
                if firstAssignment[target] == nil { firstAssignment[target] = location }
                if let previous = unconditional[target] {
                    diagnostics.append(Diagnostic(
                        .multipleDrivers,
                        "'\(builder.signals[target].name)' is already driven at \(previous); assign a default once and override it inside when/switchOn",
                        at: location))
                }
                unconditional[target] = location
                guard !builder.signals[target].kind.isRegister else { continue }
                value.forEachSignal { dependencies[target].insert($0) }
                for condition in conditions { condition.forEachSignal { dependencies[target].insert($0) } }
            case .when(let condition, let thenBody, let otherwise, _):
                collectDrivers(thenBody, conditions: conditions + [condition])
                collectDrivers(otherwise, conditions: conditions + [condition])
            case .switchOn(let selector, let cases, let defaultBody, _):
                for arm in cases { collectDrivers(arm.body, conditions: conditions + [selector]) }
                collectDrivers(defaultBody, conditions: conditions + [selector])
            }
        }
    }

    private mutating func checkCompleteness() {
        for (id, decl) in builder.signals.enumerated() where decl.kind.isAssignable {
            let assigned = firstAssignment[id] != nil
            if decl.kind.isRegister {
                if !assigned {
                    diagnostics.append(Diagnostic(
                        .registerNeverAssigned, "register '\(decl.name)' is never assigned; it would hold its reset value forever",
                        at: decl.location))
                }
                continue
            }
            if !assigned {
                diagnostics.append(Diagnostic(.undriven, "\(builder.describe(decl.kind)) '\(decl.name)' is never driven", at: decl.location))
            } else if !Self.definitelyAssigns(statements, id) {
                diagnostics.append(Diagnostic(
                    .latch,
                    "'\(decl.name)' is not assigned on every path (first assigned at \(firstAssignment[id] ?? decl.location)); give it a default before the when/switchOn",
                    at: decl.location))
            }
        }
    }

    /// Whether every path through `list` assigns `target`.
    static func definitelyAssigns(_ list: [Statement], _ target: SignalID) -> Bool {
        list.contains { statement in
            switch statement {
            case .assign(let t, _, _): return t == target
            case .when(_, let thenBody, let otherwise, _):
                return definitelyAssigns(thenBody, target) && definitelyAssigns(otherwise, target)
            case .switchOn(_, let cases, let defaultBody, _):
                return definitelyAssigns(defaultBody, target) && cases.allSatisfy { definitelyAssigns($0.body, target) }
            }
        }
    }

    // MARK: Combinational loops

    private mutating func addRomAndInstanceDependencies() {
        for rom in builder.roms {
            if case .async(let address) = rom.read {
                address.forEachSignal { dependencies[rom.data].insert($0) }
            }
        }
        var portSignals: [Int: [String: SignalID]] = [:]
        for (id, decl) in builder.signals.enumerated() {
            if case .instancePort(let instance, let port, _) = decl.kind { portSignals[instance, default: [:]][port] = id }
        }
        for (index, instance) in builder.instances.enumerated() {
            let ports = portSignals[index] ?? [:]
            for (output, inputs) in instance.module.combinationalPaths {
                guard let outputID = ports[output] else { continue }
                for input in inputs { if let inputID = ports[input] { dependencies[outputID].insert(inputID) } }
            }
        }
    }

    private mutating func findLoops() {
        // 0 = unvisited, 1 = on the stack, 2 = done.
        var state = Array(repeating: 0, count: builder.signals.count)
        var stack: [SignalID] = []
        var reported: Set<Set<SignalID>> = []
        func visit(_ id: SignalID, _ checker: inout ElaborationChecker) {
            state[id] = 1
            stack.append(id)
            for next in checker.dependencies[id].sorted() {
                if state[next] == 1, let start = stack.firstIndex(of: next) {
                    var cycle = Array(stack[start...])
                    if reported.insert(Set(cycle)).inserted {
                        // Start the report at the signal declared first, so it does not depend on the search order.
                        if let first = cycle.indices.min(by: { cycle[$0] < cycle[$1] }) {
                            cycle = Array(cycle[first...] + cycle[..<first])
                        }
                        let names = (cycle + [cycle[0]]).map { checker.builder.signals[$0].name }.joined(separator: " <- ")
                        let location = checker.firstAssignment[cycle[0]] ?? checker.builder.signals[cycle[0]].location
                        checker.diagnostics.append(Diagnostic(
                            .combinationalLoop, "\(names) (each reads the next without a register between); break it with a register", at: location))
                    }
                } else if state[next] == 0 {
                    visit(next, &checker)
                }
            }
            stack.removeLast()
            state[id] = 2
        }
        for id in builder.signals.indices where state[id] == 0 { visit(id, &self) }
    }

    /// For each output port, the input ports it reaches through combinational logic only.
    func combinationalPaths() -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for (id, decl) in builder.signals.enumerated() where { if case .output = decl.kind { return true } else { return false } }() {
            var seen: Set<SignalID> = [id]
            var work = [id]
            var inputs: Set<String> = []
            while let next = work.popLast() {
                for dep in dependencies[next] where !seen.contains(dep) {
                    seen.insert(dep)
                    if case .input = builder.signals[dep].kind { inputs.insert(builder.signals[dep].name) }
                    work.append(dep)
                }
            }
            result[decl.name] = inputs
        }
        return result
    }
}
