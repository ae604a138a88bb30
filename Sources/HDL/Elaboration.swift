extension Module {
    /// Builds a module: runs `body` with a fresh builder, then checks the result (widths, drivers,
    /// latches, combinational loops, unassigned registers, names) and freezes it.
    /// - Throws: `ElaborationError` listing every problem with the Swift file and line.
    public convenience init(
        _ name: String, file: String = #fileID, line: Int = #line, _ body: (ModuleBuilder) -> Void
    ) throws {
        let builder = ModuleBuilder(name: name)
        if let problem = VerilogNames.moduleNameProblem(with: name) {
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
    /// Every assignment to a combinational signal with the conditions guarding it, for the
    /// bit-level loop check.
    var combinationalAssignments: [(target: SignalID, value: Expr, conditions: [Expr])] = []

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
                combinationalAssignments.append((target, value, conditions))
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

    /// Reports every combinational loop. Signals that depend on each other (a strongly
    /// connected component of the signal graph) are then checked bit by bit: a bus whose bit 1
    /// is computed from its bit 0 is not a loop; a bit that depends on itself is.
    private mutating func findLoops() {
        for component in stronglyConnectedComponents() {
            let members = Set(component)
            guard component.count > 1 || dependencies[component[0]].contains(component[0]) else { continue }
            var bits = BitGraph(checker: self, members: members)
            guard let cycle = bits.cycle() else { continue }
            // Name each signal once per stretch of the cycle through it; start at the signal
            // declared first, so the report does not depend on the search order.
            var names: [SignalID] = []
            for node in cycle where names.last != node.signal { names.append(node.signal) }
            if names.count > 1, names.first == names.last { names.removeLast() }
            if let first = names.indices.min(by: { names[$0] < names[$1] }) { names = Array(names[first...] + names[..<first]) }
            let text = (names + [names[0]]).map { builder.signals[$0].name }.joined(separator: " <- ")
            let location = firstAssignment[names[0]] ?? builder.signals[names[0]].location
            diagnostics.append(Diagnostic(
                .combinationalLoop, "\(text) (each reads the next without a register between); break it with a register", at: location))
        }
    }

    /// Tarjan's strongly connected components of the signal dependency graph, each sorted, in
    /// order of their first signal.
    private func stronglyConnectedComponents() -> [[SignalID]] {
        let count = builder.signals.count
        var index = Array(repeating: -1, count: count), low = Array(repeating: 0, count: count)
        var onStack = Array(repeating: false, count: count)
        var stack: [SignalID] = [], components: [[SignalID]] = [], next = 0
        let edges = dependencies.map { $0.sorted() }
        // Iterative, so a long chain of wires cannot overflow the call stack.
        for root in 0..<count where index[root] < 0 {
            var work: [(node: SignalID, edge: Int)] = [(root, 0)]
            index[root] = next; low[root] = next; next += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                if edge < edges[node].count {
                    work[work.count - 1].edge += 1
                    let to = edges[node][edge]
                    if index[to] < 0 {
                        index[to] = next; low[to] = next; next += 1
                        stack.append(to); onStack[to] = true
                        work.append((to, 0))
                    } else if onStack[to] {
                        low[node] = Swift.min(low[node], index[to])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.node] = Swift.min(low[parent.node], low[node]) }
                if low[node] == index[node] {
                    var component: [SignalID] = []
                    while let top = stack.popLast() {
                        onStack[top] = false
                        component.append(top)
                        if top == node { break }
                    }
                    components.append(component.sorted())
                }
            }
        }
        return components.sorted { $0[0] < $1[0] }
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

/// One bit of a signal, a node of the bit-level dependency graph.
struct BitNode: Hashable {
    let signal: SignalID
    let bit: Int
}

/// The bit-level dependencies among a set of signals that depend on each other: which bits of
/// those signals each of their bits is computed from (outside signals are left out: they cannot
/// close a loop through the set).
struct BitGraph {
    private var edges: [BitNode: Set<BitNode>] = [:]

    init(checker: ElaborationChecker, members: Set<SignalID>) {
        let signals = checker.builder.signals
        func allBits(_ e: Expr) -> Set<BitNode> {
            var result: Set<BitNode> = []
            e.forEachSignal { id in
                if members.contains(id) { for b in 0..<signals[id].width { result.insert(BitNode(signal: id, bit: b)) } }
            }
            return result
        }
        for (target, value, conditions) in checker.combinationalAssignments where members.contains(target) {
            let guarded = conditions.reduce(into: Set<BitNode>()) { $0.formUnion(allBits($1)) }
            let perBit = Self.bits(of: value, members: members, signals: signals)
            for b in 0..<signals[target].width {
                let node = BitNode(signal: target, bit: b)
                edges[node, default: []].formUnion(guarded)
                if b < perBit.count { edges[node, default: []].formUnion(perBit[b]) }
            }
        }
        // Asynchronous ROM reads and instance paths: every bit from every bit.
        for rom in checker.builder.roms where members.contains(rom.data) {
            if case .async(let address) = rom.read {
                let from = allBits(address)
                for b in 0..<signals[rom.data].width { edges[BitNode(signal: rom.data, bit: b), default: []].formUnion(from) }
            }
        }
        for id in members where { if case .instancePort(_, _, .output) = signals[id].kind { return true } else { return false } }() {
            let from = checker.dependencies[id].filter { members.contains($0) }.reduce(into: Set<BitNode>()) { set, dep in
                for b in 0..<signals[dep].width { set.insert(BitNode(signal: dep, bit: b)) }
            }
            for b in 0..<signals[id].width { edges[BitNode(signal: id, bit: b), default: []].formUnion(from) }
        }
    }

    /// For each bit of `e` (least significant first), the member bits it is computed from.
    static func bits(of e: Expr, members: Set<SignalID>, signals: [SignalDecl]) -> [Set<BitNode>] {
        func recurse(_ e: Expr) -> [Set<BitNode>] { bits(of: e, members: members, signals: signals) }
        func all(_ parts: [[Set<BitNode>]]) -> Set<BitNode> { parts.reduce(into: Set<BitNode>()) { for s in $1 { $0.formUnion(s) } } }
        switch e.node {
        case .signal(let id):
            return (0..<e.width).map { members.contains(id) ? [BitNode(signal: id, bit: $0)] : [] }
        case .constant:
            return Array(repeating: [], count: e.width)
        case .unary(.not, let a):
            return recurse(a)
        case .unary(_, let a):
            return [all([recurse(a)])]
        case .binary(let op, let a, let b):
            let (x, y) = (recurse(a), recurse(b))
            switch op {
            case .and, .or, .xor:
                return (0..<e.width).map { i in (i < x.count ? x[i] : []).union(i < y.count ? y[i] : []) }
            case .add, .sub:
                // Carries run upward: bit i reads bits 0...i of both.
                var prefix: Set<BitNode> = []
                return (0..<e.width).map { i in
                    if i < x.count { prefix.formUnion(x[i]) }
                    if i < y.count { prefix.formUnion(y[i]) }
                    return prefix
                }
            default:
                return Array(repeating: all([x, y]), count: e.width)
            }
        case .mux(let c, let a, let b):
            let condition = all([recurse(c)])
            let (x, y) = (recurse(a), recurse(b))
            return (0..<e.width).map { i in condition.union(i < x.count ? x[i] : []).union(i < y.count ? y[i] : []) }
        case .slice(let a, let high, let low):
            return Array(recurse(a)[low...high])
        case .concat(let parts):
            return parts.reversed().flatMap { recurse($0) }
        case .replicate(let a, let count):
            let x = recurse(a)
            return (0..<count).flatMap { _ in x }
        case .shiftConstant(let left, let a, let amount):
            let x = recurse(a)
            return (0..<e.width).map { i in
                let from = left ? i - amount : i + amount
                return from >= 0 && from < x.count ? x[from] : []
            }
        }
    }

    /// A cycle of bits, each computed from the next, if there is one.
    mutating func cycle() -> [BitNode]? {
        var state: [BitNode: Int] = [:]  // 1: on the path, 2: done
        let nodes = edges.keys.sorted { ($0.signal, $0.bit) < ($1.signal, $1.bit) }
        for start in nodes where state[start] == nil {
            var path: [BitNode] = [start]
            var iterators: [[BitNode]] = [(edges[start] ?? []).sorted { ($0.signal, $0.bit) < ($1.signal, $1.bit) }]
            state[start] = 1
            while let node = path.last {
                if let next = iterators[iterators.count - 1].popLast() {
                    switch state[next] {
                    case 1:
                        if let from = path.firstIndex(of: next) { return Array(path[from...]) }
                    case nil:
                        state[next] = 1
                        path.append(next)
                        iterators.append((edges[next] ?? []).sorted { ($0.signal, $0.bit) < ($1.signal, $1.bit) })
                    default:
                        break
                    }
                } else {
                    state[node] = 2
                    path.removeLast()
                    iterators.removeLast()
                }
            }
        }
        return nil
    }
}
