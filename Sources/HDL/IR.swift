/// How a ROM is written out as Verilog.
public enum RomStyle: String, Sendable {
    /// A `case` statement marked `(* rom_style = "logic" *)`: tables that synthesis keeps in LUT
    /// logic (Yosys would otherwise turn a large one into a ROM and map it to block RAM).
    case logic
    /// A `reg` array filled by an `initial` block and marked `(* rom_style = "block" *)`, so Yosys
    /// and vendor tools map it to block RAM. Use it with a synchronous read.
    case blockMemory
    /// A `reg` array marked `(* rom_style = "distributed" *)`: LUT RAM, for asynchronous reads.
    case distributedMemory
}

/// How a ROM is read.
public enum RomRead: Sendable {
    /// The data follows the address combinationally.
    case async(address: Expr)
    /// The data is registered on the rising clock edge where `enable` (if any) is 1. The data
    /// register has no reset and no initial value, so block RAM inference is not blocked.
    case sync(address: Expr, enable: Expr?)

    public var address: Expr {
        switch self {
        case .async(let a), .sync(let a, _): return a
        }
    }
}

/// The write port of a RAM: on a rising edge where `enable` is 1, `data` goes to `address`.
public struct MemoryWrite: Sendable {
    public let enable: Expr
    public let address: Expr
    public let data: Expr
}

/// A memory: a ROM with its contents, or (with a write port) a simple dual-port RAM whose
/// `contents` are its depth in zeros and carry no initial values.
public struct RomDecl: Sendable {
    public let name: String
    public let width: Int
    public let contents: [UInt64]
    public let style: RomStyle
    public let read: RomRead
    /// Set for a RAM.
    public let write: MemoryWrite?
    /// The signal that carries the read data.
    public let data: SignalID
    public let location: SourceLocation

    /// Number of address bits: ceil(log2(depth)), at least 1.
    public var addressWidth: Int { Swift.max(1, bitsToAddress(contents.count)) }
}

/// Number of bits that address `count` entries.
public func bitsToAddress(_ count: Int) -> Int {
    var bits = 0
    while (1 << bits) < count { bits += 1 }
    return bits
}

/// Direction of a module port.
public enum PortDirection: String, Sendable {
    case input, output
}

/// What a signal of a module is.
public enum SignalKind: Sendable {
    case input
    case output
    case wire
    /// A clocked register. `reset` is its value under synchronous reset (nil: not reset);
    /// `enable`, if set, gates every update.
    case register(reset: UInt64?, enable: Expr?)
    /// The read data of ROM number `rom`.
    case romData(rom: Int)
    /// A port of instance number `instance`, seen from the parent.
    case instancePort(instance: Int, port: String, direction: PortDirection)

    /// Whether statements may assign this signal.
    public var isAssignable: Bool {
        switch self {
        case .output, .wire, .register: return true
        case .instancePort(_, _, let direction): return direction == .input
        case .input, .romData: return false
        }
    }

    public var isRegister: Bool {
        if case .register = self { return true }
        return false
    }
}

/// A declared signal.
public struct SignalDecl: Sendable {
    public let name: String
    public let width: Int
    public let kind: SignalKind
    public let location: SourceLocation
}

/// A submodule instance.
public struct InstanceDecl: Sendable {
    public let name: String
    public let module: Module
    public let location: SourceLocation
}

/// One recorded statement. Later assignments to the same target win (last-connect semantics).
public indirect enum Statement: Sendable {
    case assign(target: SignalID, value: Expr, location: SourceLocation)
    case when(condition: Expr, then: [Statement], otherwise: [Statement], location: SourceLocation)
    case switchOn(selector: Expr, cases: [SwitchCase], defaultBody: [Statement], location: SourceLocation)
}

/// One arm of a switch: the body runs when the selector equals one of `values`.
public struct SwitchCase: Sendable {
    public let values: [UInt64]
    public let body: [Statement]
}

/// What a formal property asks of a solver (SymbiYosys): to prove it, to take it as given, or
/// to show a trace that reaches it.
public enum PropertyKind: String, Sendable {
    /// Must hold in every reachable state after the initial one.
    case assert
    /// Taken as given in every state after the initial one (constrains the inputs).
    case assume
    /// Must be reachable: a proof whose covers cannot all be reached is vacuous.
    case cover
    /// Taken as given in the initial state only (for example: reset is high).
    case initialAssume
}

/// A formal property: a 1-bit condition checked in every state, written into the Verilog under
/// `ifdef FORMAL` (so simulators and synthesis never see it) with its label, which names it in
/// the solver's report.
public struct PropertyDecl: Sendable {
    public let label: String
    public let kind: PropertyKind
    /// nil: the module's reset input itself (an initial assumption that the design starts in reset).
    public let condition: Expr?
    /// A Verilog macro the property is written under (besides FORMAL), so that a job can leave
    /// it out: for example a bounded-only property in an unbounded proof.
    public let define: String?
    public let location: SourceLocation
}

/// A port of an elaborated module.
public struct Port: Sendable {
    public let name: String
    public let direction: PortDirection
    public let width: Int
}

/// An elaborated, checked module: immutable, ready to emit or simulate.
public final class Module: Sendable {
    public let name: String
    /// Port order as emitted: `clk`, `rst` (when the module has state), then the declared ports.
    public let ports: [Port]
    public let signals: [SignalDecl]
    public let roms: [RomDecl]
    public let instances: [InstanceDecl]
    public let statements: [Statement]
    /// Formal properties, in declaration order (empty for a design without any).
    public let properties: [PropertyDecl]
    public let usesClock: Bool
    public let usesReset: Bool
    /// For each output port, the input ports it depends on without a register in between.
    public let combinationalPaths: [String: Set<String>]
    /// Free-form comment lines written at the top of the module (e.g. what it does, its parameters).
    public let comments: [String]

    init(
        name: String, ports: [Port], signals: [SignalDecl], roms: [RomDecl], instances: [InstanceDecl],
        statements: [Statement], properties: [PropertyDecl], usesClock: Bool, usesReset: Bool,
        combinationalPaths: [String: Set<String>], comments: [String]
    ) {
        self.properties = properties
        self.name = name
        self.ports = ports
        self.signals = signals
        self.roms = roms
        self.instances = instances
        self.statements = statements
        self.usesClock = usesClock
        self.usesReset = usesReset
        self.combinationalPaths = combinationalPaths
        self.comments = comments
    }

    /// The port with this name, if any.
    public func port(named name: String) -> Port? { ports.first { $0.name == name } }

    /// The same module under another name (its submodules keep theirs): for a design used as a
    /// part of a larger one that takes its name.
    public func renamed(_ newName: String) -> Module {
        Module(name: newName, ports: ports, signals: signals, roms: roms, instances: instances, statements: statements,
               properties: properties, usesClock: usesClock, usesReset: usesReset, combinationalPaths: combinationalPaths, comments: comments)
    }

    /// This module and every module instantiated below it, each once, children before parents.
    public var hierarchy: [Module] {
        var seen: Set<String> = []
        var order: [Module] = []
        func visit(_ m: Module) {
            guard !seen.contains(m.name) else { return }
            seen.insert(m.name)
            for inst in m.instances { visit(inst.module) }
            order.append(m)
        }
        visit(self)
        return order
    }
}
