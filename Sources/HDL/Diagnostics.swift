/// Where in the Swift source a DSL call was made; every declaration and statement carries one.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The `#fileID` of the call, e.g. `HDLBlocks/SkidBuffer.swift`.
    public let fileID: String
    /// The `#line` of the call.
    public let line: Int

    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }

    public var description: String { "\(fileID):\(line)" }
}

/// One problem found while building or checking a module.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The class of problem, for callers (and tests) that react to it.
    public enum Kind: String, Sendable, Hashable {
        case widthMismatch = "width mismatch"
        case invalidWidth = "invalid width"
        case invalidOperand = "invalid operand"
        case undriven = "undriven signal"
        case latch = "latch"
        case multipleDrivers = "multiple drivers"
        case notAssignable = "not assignable"
        case combinationalLoop = "combinational loop"
        case registerNeverAssigned = "register never assigned"
        case nameClash = "name clash"
        case invalidName = "invalid name"
        case foreignSignal = "signal of another module"
        case invalidRom = "invalid ROM"
        case unknownPort = "unknown port"
    }

    public let kind: Kind
    public let message: String
    public let location: SourceLocation

    public init(_ kind: Kind, _ message: String, at location: SourceLocation) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): error: \(kind.rawValue): \(message)" }
}

/// Thrown when a module fails its elaboration checks; lists every problem found, in source order.
public struct ElaborationError: Error, Sendable, CustomStringConvertible {
    /// The name of the module being elaborated.
    public let module: String
    public let diagnostics: [Diagnostic]

    public var description: String {
        "module '\(module)' failed elaboration with \(diagnostics.count) error(s):\n"
            + diagnostics.map { "  \($0)" }.joined(separator: "\n")
    }
}
