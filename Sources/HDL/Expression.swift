/// Index of a signal declaration inside one module.
public typealias SignalID = Int

/// Unary operators; all keep the operand's width except the reductions, which give 1 bit.
public enum UnaryOp: String, Sendable {
    case not = "~"
    case andReduce = "&"
    case orReduce = "|"
    case xorReduce = "^"
}

/// Binary operators. The builder zero-extends operands so both have the same width before the
/// node is made (except the dynamic shifts, whose amount has its own width).
public enum BinaryOp: String, Sendable {
    case and = "&", or = "|", xor = "^"
    case add = "+", sub = "-", mul = "*"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case shiftLeft = "<<", shiftRight = ">>"

    /// Whether the result is one bit (a comparison).
    public var isComparison: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge: return true
        default: return false
        }
    }
}

/// An expression node. Every node knows its width when it is built; all values are unsigned.
public indirect enum ExprNode: Sendable {
    /// A reference to a declared signal of the module.
    case signal(SignalID)
    /// A constant; its width is the `Expr`'s width (at most 64 bits).
    case constant(UInt64)
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    /// `condition ? whenTrue : whenFalse`.
    case mux(Expr, Expr, Expr)
    /// Bits `high` down to `low` of the operand.
    case slice(Expr, high: Int, low: Int)
    /// Concatenation, most significant part first.
    case concat([Expr])
    case replicate(Expr, count: Int)
    /// Shift by a constant amount; the width stays that of the operand.
    case shiftConstant(left: Bool, Expr, amount: Int)
}

/// An expression with its width.
public struct Expr: Sendable {
    public let node: ExprNode
    public let width: Int

    public init(_ node: ExprNode, width: Int) {
        self.node = node
        self.width = width
    }

    /// Every signal the expression reads.
    public func forEachSignal(_ body: (SignalID) -> Void) {
        switch node {
        case .signal(let id): body(id)
        case .constant: break
        case .unary(_, let a): a.forEachSignal(body)
        case .binary(_, let a, let b):
            a.forEachSignal(body)
            b.forEachSignal(body)
        case .mux(let c, let a, let b):
            c.forEachSignal(body)
            a.forEachSignal(body)
            b.forEachSignal(body)
        case .slice(let a, _, _), .replicate(let a, _), .shiftConstant(_, let a, _):
            a.forEachSignal(body)
        case .concat(let parts):
            for p in parts { p.forEachSignal(body) }
        }
    }
}
