/// Records the declarations and statements of one module while its Swift body runs.
///
/// A module body receives a builder, declares ports, wires, registers, ROMs and instances, and
/// records assignments; `Module.init(_:_:)` then runs the elaboration checks and freezes the
/// result. Every call takes the caller's `#fileID` and `#line`, which diagnostics report.
public final class ModuleBuilder {
    public let name: String
    var signals: [SignalDecl] = []
    var roms: [RomDecl] = []
    var instances: [InstanceDecl] = []
    var comments: [String] = []
    var properties: [PropertyDecl] = []
    var diagnostics: [Diagnostic] = []
    private var claimedNames: [String: (what: String, location: SourceLocation)] = [:]
    private var openedScopes: [String: SourceLocation] = [:]
    let root = PendingList()
    private var current: PendingList
    /// The scope declarations are made in; its path prefixes their names.
    public private(set) var currentScope = Scope.root

    init(name: String) {
        self.name = name
        current = root
    }

    // MARK: Scopes

    /// A new scope named `name` inside the current one. Declarations made within it (see
    /// `within(_:_:)`) are named `<path>_<name>`, so a block can be used any number of times in
    /// one module under different scopes (`lane3` gives `lane3_pointer`). A scope path may be
    /// opened once per module.
    public func scope(_ name: String, file: String = #fileID, line: Int = #line) -> Scope {
        let location = SourceLocation(fileID: file, line: line)
        let child = currentScope.child(name)
        if let problem = VerilogNames.problem(with: name) {
            report(.invalidName, "scope name: \(problem)", at: location)
        } else if let previous = openedScopes[child.path] {
            report(.nameClash, "the scope '\(child.path)' is already used by a block declared at \(previous); give each use its own name", at: location)
        } else {
            openedScopes[child.path] = location
        }
        return child
    }

    /// Runs `body` with `scope` as the current scope (re-entering a block's scope to add to it).
    @discardableResult
    public func within<T>(_ scope: Scope, _ body: () -> T) -> T {
        let saved = currentScope
        currentScope = scope
        defer { currentScope = saved }
        return body()
    }

    /// Makes `scope` current until `restoreScope` is given the scope this returns (for an
    /// initializer that declares its block's signals straight into stored properties):
    /// `let saved = m.enterScope(s); defer { m.restoreScope(saved) }`.
    public func enterScope(_ scope: Scope) -> Scope {
        let saved = currentScope
        currentScope = scope
        return saved
    }

    /// Makes `scope` (from `enterScope`) current again.
    public func restoreScope(_ scope: Scope) { currentScope = scope }

    /// Opens scope `name` inside the current one and runs `body` in it.
    @discardableResult
    public func scope<T>(_ name: String, file: String = #fileID, line: Int = #line, _ body: () -> T) -> T {
        within(scope(name, file: file, line: line), body)
    }

    /// `name` as declared in the current scope (its Verilog name).
    public func scoped(_ name: String) -> String { currentScope.path.isEmpty ? name : currentScope.path + "_" + name }

    // MARK: Declarations

    /// Adds a comment line to the top of the emitted module.
    public func comment(_ line: String) { comments.append(line) }

    /// Declares an input port.
    public func input(_ name: String, width: Int = 1, file: String = #fileID, line: Int = #line) -> Signal {
        declare(name, width: width, kind: .input, what: "input", at: SourceLocation(fileID: file, line: line))
    }

    /// Declares an output port; assign it exactly once unconditionally, or in every branch.
    public func output(_ name: String, width: Int = 1, file: String = #fileID, line: Int = #line) -> Signal {
        declare(name, width: width, kind: .output, what: "output", at: SourceLocation(fileID: file, line: line))
    }

    /// Declares a combinational wire, to be assigned later.
    public func wire(_ name: String, width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        declare(name, width: width, kind: .wire, what: "wire", at: SourceLocation(fileID: file, line: line))
    }

    /// Declares a wire driven by `value`: names a subexpression so the Verilog reads well and
    /// large expressions are not repeated.
    public func wire(_ name: String, _ value: Signal, file: String = #fileID, line: Int = #line) -> Signal {
        let w = wire(name, width: value.width, file: file, line: line)
        w.assign(value, file: file, line: line)
        return w
    }

    /// Declares a register clocked by `clk`. `reset` is its value under synchronous reset (nil for
    /// a register that is not reset, e.g. a datapath register); `enable` gates every update. A
    /// register keeps its value in every cycle where no statement assigns it.
    public func register(
        _ name: String, width: Int, reset: UInt64? = 0, enable: Signal? = nil,
        file: String = #fileID, line: Int = #line
    ) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        var enableExpr: Expr? = nil
        if let enable {
            enableExpr = checkedOperand(enable, at: location)
            if enable.width != 1 {
                report(.invalidOperand, "enable of register '\(name)' is \(enable.width) bits wide, must be 1", at: location)
            }
        }
        if let reset, width < 64, reset >> UInt64(width) != 0 {
            report(.invalidOperand, "reset value \(reset) of register '\(name)' does not fit in \(width) bits", at: location)
        }
        return declare(
            name, width: width, kind: .register(reset: reset, enable: enableExpr), what: "register", at: location)
    }

    /// Declares a ROM with the given contents (one word per entry, each below 2^width) and its
    /// read port. The address must be exactly ceil(log2(depth)) bits wide. Returns the read data.
    public func rom(
        _ name: String, width: Int, contents: [UInt64], style: RomStyle, address: Signal,
        readEnable: Signal? = nil, synchronous: Bool,
        file: String = #fileID, line: Int = #line
    ) -> Signal {
        memory(name, width: width, contents: contents, style: style, address: address, readEnable: readEnable,
               synchronous: synchronous, write: nil, at: SourceLocation(fileID: file, line: line))
    }

    /// A ROM, or with `write` a RAM: checks the read port, declares the read data.
    private func memory(
        _ localName: String, width: Int, contents: [UInt64], style: RomStyle, address: Signal,
        readEnable: Signal?, synchronous: Bool, write: MemoryWrite?, at location: SourceLocation
    ) -> Signal {
        if let problem = VerilogNames.problem(with: localName) { report(.invalidName, problem, at: location) }
        let name = scoped(localName)
        let kind = write == nil ? "ROM" : "RAM"
        let addressExpr = checkedOperand(address, at: location)
        if contents.count < 2 {
            report(.invalidRom, "\(kind) '\(name)' needs at least 2 entries, has \(contents.count)", at: location)
        }
        let addressWidth = Swift.max(1, bitsToAddress(contents.count))
        if address.width != addressWidth {
            report(.widthMismatch, "\(write == nil ? "address" : "read address") of \(kind) '\(name)' is \(address.width) bits, its \(contents.count) entries need \(addressWidth)", at: location)
        }
        if width >= 1, width < 64, let bad = contents.firstIndex(where: { $0 >> UInt64(width) != 0 }) {
            report(.invalidRom, "entry \(bad) of \(kind) '\(name)' (\(contents[bad])) does not fit in \(width) bits", at: location)
        }
        var read = RomRead.async(address: addressExpr)
        if synchronous {
            var enableExpr: Expr? = nil
            if let readEnable {
                enableExpr = checkedOperand(readEnable, at: location)
                if readEnable.width != 1 {
                    report(.invalidOperand, "read enable of \(kind) '\(name)' must be 1 bit", at: location)
                }
            }
            read = .sync(address: addressExpr, enable: enableExpr)
        } else if readEnable != nil {
            report(.invalidRom, "\(kind) '\(name)' has a read enable but an asynchronous read", at: location)
        }
        if style == .blockMemory && !synchronous {
            report(.invalidRom, "\(kind) '\(name)' is a block memory: block RAM needs a synchronous read", at: location)
        }
        claim(name + "_mem", what: "\(kind) '\(name)'", at: location)
        let data = declare(name + "_rdata", width: width, kind: .romData(rom: roms.count), what: "\(kind) '\(name)'", at: location, validate: false)
        claim(name, what: "\(kind) '\(name)'", at: location)
        if case .signal(let id) = data.expr.node {
            roms.append(RomDecl(name: name, width: width, contents: contents, style: style, read: read, write: write, data: id, location: location))
        }
        return data
    }

    /// Declares a simple dual-port RAM of `depth` words (block RAM): one write port, one
    /// synchronous read port (read data registered where `readEnable` is 1; a read of the address
    /// being written returns the old word). Addresses are ceil(log2(depth)) bits. Returns the read data.
    public func ram(
        _ name: String, width: Int, depth: Int,
        writeEnable: Signal, writeAddress: Signal, writeData: Signal,
        readAddress: Signal, readEnable: Signal?,
        file: String = #fileID, line: Int = #line
    ) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        let write = checkedWrite(name, width: width, depth: depth, writeEnable: writeEnable, writeAddress: writeAddress,
                                 writeData: writeData, at: location)
        return memory(name, width: width, contents: [UInt64](repeating: 0, count: Swift.max(2, depth)), style: .blockMemory,
                      address: readAddress, readEnable: readEnable, synchronous: true, write: write, at: location)
    }

    /// Declares a small RAM in LUTs (distributed RAM: ECP5 `TRELLIS_DPR16X4`, Xilinx `RAM32M`):
    /// one write port (clocked) and an asynchronous read port, so the read data follows
    /// `readAddress` in the same cycle (a read of the address being written returns the old word).
    /// Addresses are ceil(log2(depth)) bits. Returns the read data.
    public func distributedRam(
        _ name: String, width: Int, depth: Int,
        writeEnable: Signal, writeAddress: Signal, writeData: Signal, readAddress: Signal,
        file: String = #fileID, line: Int = #line
    ) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        let write = checkedWrite(name, width: width, depth: depth, writeEnable: writeEnable, writeAddress: writeAddress,
                                 writeData: writeData, at: location)
        return memory(name, width: width, contents: [UInt64](repeating: 0, count: Swift.max(2, depth)), style: .distributedMemory,
                      address: readAddress, readEnable: nil, synchronous: false, write: write, at: location)
    }

    /// A RAM's write port, its widths checked.
    private func checkedWrite(_ name: String, width: Int, depth: Int, writeEnable: Signal, writeAddress: Signal, writeData: Signal,
                              at location: SourceLocation) -> MemoryWrite {
        let addressWidth = Swift.max(1, bitsToAddress(Swift.max(2, depth)))
        if writeAddress.width != addressWidth {
            report(.widthMismatch, "write address of RAM '\(name)' is \(writeAddress.width) bits, its \(depth) words need \(addressWidth)", at: location)
        }
        if writeData.width != width {
            report(.widthMismatch, "write data of RAM '\(name)' is \(writeData.width) bits, its words are \(width)", at: location)
        }
        if writeEnable.width != 1 {
            report(.invalidOperand, "write enable of RAM '\(name)' must be 1 bit", at: location)
        }
        return MemoryWrite(enable: checkedOperand(writeEnable, at: location), address: checkedOperand(writeAddress, at: location),
                           data: checkedOperand(writeData, at: location))
    }

    /// Instantiates `module` under `name`. Its clock and reset follow the parent's; its other ports
    /// are reached through the returned handle.
    public func instance(_ module: Module, name localName: String, file: String = #fileID, line: Int = #line) -> Instance {
        let location = SourceLocation(fileID: file, line: line)
        if let problem = VerilogNames.problem(with: localName) { report(.invalidName, problem, at: location) }
        let name = scoped(localName)
        claim(name, what: "instance '\(name)'", at: location)
        let index = instances.count
        instances.append(InstanceDecl(name: name, module: module, location: location))
        var ports: [String: Signal] = [:]
        for port in module.ports where !VerilogNames.implicitPorts.contains(port.name) {
            ports[port.name] = declare(
                "\(name)_\(port.name)", width: port.width,
                kind: .instancePort(instance: index, port: port.name, direction: port.direction),
                what: "port \(port.name) of instance '\(name)'", at: location, validate: false)
        }
        return Instance(name: name, module: module, builder: self, ports: ports)
    }

    /// A constant of the given width (wider than 64 bits: the value zero-extended).
    public func constant(_ value: UInt64, width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        if width < 1 {
            report(.invalidWidth, "a constant is at least 1 bit wide, not \(width)", at: location)
            return Signal(Expr(.constant(0), width: 1), self)
        }
        if width < 64, value >> UInt64(width) != 0 {
            report(.invalidOperand, "constant \(value) does not fit in \(width) bits", at: location)
        }
        return Signal(Expr(.constant(value), width: width), self)
    }

    // MARK: Formal properties

    /// Asserts that `condition` (1 bit) holds in every state after the initial one: SymbiYosys
    /// proves it or shows a trace that breaks it, named by `label`. Properties stand outside
    /// `when` blocks: fold a guard into the condition (`!guard | claim`). They are written under
    /// `ifdef FORMAL`, so simulation and synthesis do not see them, and with `define` also under
    /// `ifdef define`, so a job can leave them out.
    public func assert(_ condition: Signal, _ label: String, ifDefined define: String? = nil, file: String = #fileID, line: Int = #line) {
        property(.assert, condition, label, define: define, at: SourceLocation(fileID: file, line: line))
    }

    /// Takes `condition` as given in every state after the initial one (a rule the inputs keep).
    public func assume(_ condition: Signal, _ label: String, ifDefined define: String? = nil, file: String = #fileID, line: Int = #line) {
        property(.assume, condition, label, define: define, at: SourceLocation(fileID: file, line: line))
    }

    /// Asks for a trace that reaches `condition`, so that a proof cannot pass vacuously.
    public func cover(_ condition: Signal, _ label: String, ifDefined define: String? = nil, file: String = #fileID, line: Int = #line) {
        property(.cover, condition, label, define: define, at: SourceLocation(fileID: file, line: line))
    }

    /// Takes as given that the design starts in reset (`rst` high in the initial state); the
    /// other properties are checked from the state after it.
    public func assumeResetInitially(_ label: String = "starts_in_reset", file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        checkLabel(label, at: location)
        properties.append(PropertyDecl(label: label, kind: .initialAssume, condition: nil, define: nil, location: location))
    }

    private func property(_ kind: PropertyKind, _ condition: Signal, _ label: String, define: String?, at location: SourceLocation) {
        checkLabel(label, at: location)
        if current !== root {
            report(.invalidOperand, "property '\(label)' is inside a when or switch block; fold the guard into its condition", at: location)
        }
        if let define, let problem = VerilogNames.problem(with: define) { report(.invalidName, "macro of property '\(label)': \(problem)", at: location) }
        properties.append(PropertyDecl(label: label, kind: kind, condition: checkedCondition(condition, at: location), define: define, location: location))
    }

    private func checkLabel(_ label: String, at location: SourceLocation) {
        if let problem = VerilogNames.problem(with: label) { report(.invalidName, "property label: \(problem)", at: location) }
        claim(label, what: "property '\(label)'", at: location)
    }

    // MARK: Control flow

    /// Runs `body` under `condition` (1 bit); chain `.elseWhen` and `.otherwise`.
    @discardableResult
    public func when(_ condition: Signal, file: String = #fileID, line: Int = #line, _ body: () -> Void) -> WhenClause {
        let location = SourceLocation(fileID: file, line: line)
        let node = PendingWhen(condition: checkedCondition(condition, at: location), location: location)
        current.items.append(.when(node))
        within(node.thenBody, body)
        return WhenClause(node: node, builder: self)
    }

    /// A `case` over `selector`: register arms with `on(values...)`, and `otherwise` for the rest.
    public func switchOn(_ selector: Signal, file: String = #fileID, line: Int = #line, _ body: (SwitchBuilder) -> Void) {
        let location = SourceLocation(fileID: file, line: line)
        let node = PendingSwitch(selector: checkedOperand(selector, at: location), location: location)
        current.items.append(.switchOn(node))
        body(SwitchBuilder(node: node, builder: self))
    }

    func within(_ list: PendingList, _ body: () -> Void) {
        let saved = current
        current = list
        body()
        current = saved
    }

    // MARK: Recording

    func recordAssignment(to target: Signal, _ value: Signal, at location: SourceLocation) {
        guard target.builder === self else {
            report(.foreignSignal, "assignment to a signal of module '\(target.builder.name)' inside module '\(name)'", at: location)
            return
        }
        guard case .signal(let id) = target.expr.node else {
            report(.notAssignable, "only a declared signal can be assigned, not an expression", at: location)
            return
        }
        let decl = signals[id]
        guard decl.kind.isAssignable else {
            report(.notAssignable, "'\(decl.name)' is \(describe(decl.kind)) and cannot be assigned", at: location)
            return
        }
        let valueExpr = checkedOperand(value, at: location)
        if value.width != decl.width {
            // Still recorded, so the signal does not also show up as undriven.
            report(.widthMismatch, "'\(decl.name)' is \(decl.width) bits wide but the value assigned is \(value.width) bits", at: location)
        }
        current.items.append(.assign(target: id, value: valueExpr, location: location))
    }

    /// Records a problem found while building, reported when the module is elaborated: blocks
    /// use it to report misuse at their caller's line instead of stopping the program.
    public func report(_ kind: Diagnostic.Kind, _ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(kind, message, at: location))
    }

    /// The expression of `operand`, or a constant placeholder (with a diagnostic) if it belongs to another module.
    func checkedOperand(_ operand: Signal, at location: SourceLocation) -> Expr {
        for problem in operand.poison { report(problem.kind, problem.message, at: location) }
        if operand.builder !== self {
            report(.foreignSignal, "a signal of module '\(operand.builder.name)' is used inside module '\(name)'", at: location)
            return Expr(.constant(0), width: operand.width)
        }
        return operand.expr
    }

    func checkedCondition(_ condition: Signal, at location: SourceLocation) -> Expr {
        let expr = checkedOperand(condition, at: location)
        if condition.width != 1 {
            report(.invalidOperand, "a condition must be 1 bit wide, this one is \(condition.width) bits", at: location)
            return Expr(.constant(0), width: 1)
        }
        return expr
    }

    private func declare(
        _ localName: String, width: Int, kind: SignalKind, what: String, at location: SourceLocation, validate: Bool = true
    ) -> Signal {
        if validate, let problem = VerilogNames.problem(with: localName) { report(.invalidName, problem, at: location) }
        // Names made from an already scoped name (ROM data, instance ports) are not scoped again.
        let name = validate ? scoped(localName) : localName
        if width < 1 {
            report(.invalidWidth, "\(what) '\(name)' must be at least 1 bit wide, not \(width)", at: location)
        }
        switch kind {
        case .register:
            claim(name, what: "register '\(name)'", at: location)
            claim(name + "_reg", what: "register '\(name)'", at: location)
            claim(name + "_next", what: "register '\(name)'", at: location)
        default:
            claim(name, what: "\(what) '\(name)'", at: location)
        }
        let id = signals.count
        signals.append(SignalDecl(name: name, width: Swift.max(1, width), kind: kind, location: location))
        return Signal(Expr(.signal(id), width: Swift.max(1, width)), self)
    }

    private func claim(_ name: String, what: String, at location: SourceLocation) {
        if let previous = claimedNames[name] {
            report(.nameClash, "the name '\(name)' of \(what) is already used by \(previous.what) declared at \(previous.location)", at: location)
        } else {
            claimedNames[name] = (what, location)
        }
    }

    func describe(_ kind: SignalKind) -> String {
        switch kind {
        case .input: return "an input"
        case .output: return "an output"
        case .wire: return "a wire"
        case .register: return "a register"
        case .romData: return "the read data of a ROM"
        case .instancePort(_, _, let direction): return "an \(direction.rawValue) of an instance"
        }
    }
}

/// A naming scope inside a module: the path of scope names that prefixes the names of what is
/// declared in it (empty at the module's top).
public struct Scope: Sendable, Hashable, CustomStringConvertible {
    /// The scope names from the module's top, joined by `_`.
    public let path: String

    static let root = Scope(path: "")

    func child(_ name: String) -> Scope { Scope(path: path.isEmpty ? name : path + "_" + name) }

    public var description: String { path.isEmpty ? "(module top)" : path }
}

/// Continues a `when` with further branches.
public struct WhenClause {
    let node: PendingWhen
    let builder: ModuleBuilder

    /// A further condition, tried when the previous ones were false.
    @discardableResult
    public func elseWhen(_ condition: Signal, file: String = #fileID, line: Int = #line, _ body: () -> Void) -> WhenClause {
        let location = SourceLocation(fileID: file, line: line)
        let inner = PendingWhen(condition: builder.checkedCondition(condition, at: location), location: location)
        node.elseBody.items.append(.when(inner))
        builder.within(inner.thenBody, body)
        return WhenClause(node: inner, builder: builder)
    }

    /// The branch taken when no condition held.
    public func otherwise(_ body: () -> Void) {
        builder.within(node.elseBody, body)
    }
}

/// Registers the arms of a `switchOn`.
public struct SwitchBuilder {
    let node: PendingSwitch
    let builder: ModuleBuilder

    /// An arm taken when the selector equals any of `values`.
    public func on(_ values: UInt64..., file: String = #fileID, line: Int = #line, _ body: () -> Void) {
        let location = SourceLocation(fileID: file, line: line)
        let width = node.selector.width
        for value in values where width < 64 && value >> UInt64(width) != 0 {
            builder.report(.invalidOperand, "case value \(value) does not fit the \(width)-bit selector", at: location)
        }
        let list = PendingList()
        node.cases.append((values, list))
        builder.within(list, body)
    }

    /// The arm taken when no value matched.
    public func otherwise(_ body: () -> Void) {
        builder.within(node.defaultBody, body)
    }
}

/// A submodule instance seen from its parent: its ports as signals.
public struct Instance {
    public let name: String
    public let module: Module
    let builder: ModuleBuilder
    let ports: [String: Signal]

    /// The signal of port `port`: read an output, assign an input. An unknown port name is
    /// reported at elaboration and yields a placeholder.
    public func port(_ port: String, file: String = #fileID, line: Int = #line) -> Signal {
        if let signal = ports[port] { return signal }
        builder.report(.unknownPort, "module '\(module.name)' has no port '\(port)'", at: SourceLocation(fileID: file, line: line))
        return Signal(Expr(.constant(0), width: 1), builder)
    }

    public subscript(_ port: String) -> Signal { self.port(port) }
}

// MARK: Pending statements (mutable while the body runs)

final class PendingList {
    var items: [PendingStatement] = []

    func frozen() -> [Statement] {
        items.map { item in
            switch item {
            case .assign(let target, let value, let location):
                return .assign(target: target, value: value, location: location)
            case .when(let node):
                return .when(condition: node.condition, then: node.thenBody.frozen(), otherwise: node.elseBody.frozen(), location: node.location)
            case .switchOn(let node):
                return .switchOn(
                    selector: node.selector,
                    cases: node.cases.map { SwitchCase(values: $0.values, body: $0.body.frozen()) },
                    defaultBody: node.defaultBody.frozen(), location: node.location)
            }
        }
    }
}

enum PendingStatement {
    case assign(target: SignalID, value: Expr, location: SourceLocation)
    case when(PendingWhen)
    case switchOn(PendingSwitch)
}

final class PendingWhen {
    let condition: Expr
    let location: SourceLocation
    let thenBody = PendingList()
    let elseBody = PendingList()

    init(condition: Expr, location: SourceLocation) {
        self.condition = condition
        self.location = location
    }
}

final class PendingSwitch {
    let selector: Expr
    let location: SourceLocation
    var cases: [(values: [UInt64], body: PendingList)] = []
    let defaultBody = PendingList()

    init(selector: Expr, location: SourceLocation) {
        self.selector = selector
        self.location = location
    }
}
