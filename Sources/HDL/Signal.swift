/// A value in a module under construction: a declared signal or an expression over signals.
///
/// All values are unsigned bit vectors whose width is known when they are built. Bitwise
/// operators, wrapping `+`/`-` and comparisons zero-extend the narrower operand; `+&` grows by one
/// bit; `*` gives the sum of the widths; shifts keep the width of the shifted value.
public struct Signal {
    public let expr: Expr
    let builder: ModuleBuilder

    init(_ expr: Expr, _ builder: ModuleBuilder) {
        self.expr = expr
        self.builder = builder
    }

    public var width: Int { expr.width }

    /// Drives this signal (a wire, output, register or instance input) with `value`, which must
    /// have the same width. Inside `when`/`switchOn` the assignment is conditional; a later
    /// assignment overrides an earlier one.
    public func assign(_ value: Signal, file: String = #fileID, line: Int = #line) {
        builder.recordAssignment(to: self, value, at: SourceLocation(fileID: file, line: line))
    }

    /// Drives this signal with a constant of its own width.
    public func assign(_ value: UInt64, file: String = #fileID, line: Int = #line) {
        assign(builder.constant(value, width: width, file: file, line: line), file: file, line: line)
    }

    // MARK: Bits

    /// Bits `high` down to `low`.
    public subscript(high: Int, low: Int, file: String = #fileID, line: Int = #line) -> Signal {
        slice(high: high, low: low, at: SourceLocation(fileID: file, line: line))
    }

    /// Bit `index`.
    public subscript(index: Int, file: String = #fileID, line: Int = #line) -> Signal {
        slice(high: index, low: index, at: SourceLocation(fileID: file, line: line))
    }

    /// Bits `high` down to `low`, reporting a bad range at the caller's location.
    public func bits(_ high: Int, _ low: Int, file: String = #fileID, line: Int = #line) -> Signal {
        slice(high: high, low: low, at: SourceLocation(fileID: file, line: line))
    }

    private func slice(high: Int, low: Int, at location: SourceLocation) -> Signal {
        guard low >= 0, high >= low, high < width else {
            builder.report(.invalidOperand, "bits [\(high):\(low)] are outside a \(width)-bit value", at: location)
            return Signal(Expr(.constant(0), width: Swift.max(1, high - low + 1)), builder)
        }
        if low == 0 && high == width - 1 { return self }
        // A slice of a slice is one slice of the inner value.
        if case .slice(let inner, _, let innerLow) = expr.node {
            return Signal(Expr(.slice(inner, high: innerLow + high, low: innerLow + low), width: high - low + 1), builder)
        }
        return Signal(Expr(.slice(expr, high: high, low: low), width: high - low + 1), builder)
    }

    /// The value zero-extended to `newWidth` bits (which must not be smaller).
    public func zeroExtended(to newWidth: Int, file: String = #fileID, line: Int = #line) -> Signal {
        if newWidth < width {
            builder.report(.invalidWidth, "cannot zero-extend a \(width)-bit value to \(newWidth) bits", at: SourceLocation(fileID: file, line: line))
            return self
        }
        return Signal(Signal.zeroExtend(expr, to: newWidth), builder)
    }

    /// The low `newWidth` bits (which must not be more than the width).
    public func truncated(to newWidth: Int, file: String = #fileID, line: Int = #line) -> Signal {
        bits(newWidth - 1, 0, file: file, line: line)
    }

    /// Zero-extended or truncated to `newWidth` bits.
    public func resized(to newWidth: Int, file: String = #fileID, line: Int = #line) -> Signal {
        newWidth >= width ? zeroExtended(to: newWidth, file: file, line: line) : truncated(to: newWidth, file: file, line: line)
    }

    /// `count` copies side by side.
    public func replicated(_ count: Int, file: String = #fileID, line: Int = #line) -> Signal {
        guard count >= 1 else {
            builder.report(.invalidOperand, "replication count must be at least 1, not \(count)", at: SourceLocation(fileID: file, line: line))
            return self
        }
        return count == 1 ? self : Signal(Expr(.replicate(expr, count: count), width: width * count), builder)
    }

    public func andReduce() -> Signal { Signal(Expr(.unary(.andReduce, expr), width: 1), builder) }
    public func orReduce() -> Signal { Signal(Expr(.unary(.orReduce, expr), width: 1), builder) }
    public func xorReduce() -> Signal { Signal(Expr(.unary(.xorReduce, expr), width: 1), builder) }

    static func zeroExtend(_ e: Expr, to width: Int) -> Expr {
        guard width > e.width else { return e }
        if case .constant(let value) = e.node { return Expr(.constant(value), width: width) }
        return Expr(.concat([Expr(.constant(0), width: width - e.width), e]), width: width)
    }

    // MARK: Operators

    func binary(_ op: BinaryOp, _ other: Signal, width resultWidth: Int? = nil) -> Signal {
        let rhs = builder.checkedOperand(other, at: SourceLocation(fileID: "<operator \(op.rawValue)>", line: 0))
        let operandWidth = resultWidth ?? Swift.max(width, other.width)
        let a = Signal.zeroExtend(expr, to: operandWidth)
        let b = Signal.zeroExtend(rhs, to: operandWidth)
        return Signal(Expr(.binary(op, a, b), width: op.isComparison ? 1 : operandWidth), builder)
    }

    func constant(_ value: Int) -> Signal {
        guard value >= 0 else {
            builder.report(.invalidOperand, "constant \(value) is negative; values are unsigned", at: SourceLocation(fileID: "<constant>", line: 0))
            return Signal(Expr(.constant(0), width: 1), builder)
        }
        let v = UInt64(value)
        let needed = Swift.max(1, 64 - v.leadingZeroBitCount)
        return Signal(Expr(.constant(v), width: needed), builder)
    }

    public static prefix func ~ (a: Signal) -> Signal { Signal(Expr(.unary(.not, a.expr), width: a.width), a.builder) }

    /// Logical not of a 1-bit value.
    public static prefix func ! (a: Signal) -> Signal {
        if a.width != 1 {
            a.builder.report(.invalidOperand, "'!' takes a 1-bit value, this one is \(a.width) bits; use ~ or orReduce()", at: SourceLocation(fileID: "<operator !>", line: 0))
        }
        return ~a
    }

    public static func & (a: Signal, b: Signal) -> Signal { a.binary(.and, b) }
    public static func | (a: Signal, b: Signal) -> Signal { a.binary(.or, b) }
    public static func ^ (a: Signal, b: Signal) -> Signal { a.binary(.xor, b) }
    /// Logical and of two 1-bit values (same as `&`).
    public static func && (a: Signal, b: Signal) -> Signal { a.binary(.and, b) }
    /// Logical or of two 1-bit values (same as `|`).
    public static func || (a: Signal, b: Signal) -> Signal { a.binary(.or, b) }
    /// Wrapping addition: the result has the width of the wider operand.
    public static func + (a: Signal, b: Signal) -> Signal { a.binary(.add, b) }
    /// Growing addition: one bit wider than the wider operand, so no carry is lost.
    public static func +& (a: Signal, b: Signal) -> Signal { a.binary(.add, b, width: Swift.max(a.width, b.width) + 1) }
    /// Wrapping subtraction.
    public static func - (a: Signal, b: Signal) -> Signal { a.binary(.sub, b) }
    /// Full product: as wide as both operands together.
    public static func * (a: Signal, b: Signal) -> Signal { a.binary(.mul, b, width: a.width + b.width) }
    public static func == (a: Signal, b: Signal) -> Signal { a.binary(.eq, b) }
    public static func != (a: Signal, b: Signal) -> Signal { a.binary(.ne, b) }
    public static func < (a: Signal, b: Signal) -> Signal { a.binary(.lt, b) }
    public static func <= (a: Signal, b: Signal) -> Signal { a.binary(.le, b) }
    public static func > (a: Signal, b: Signal) -> Signal { a.binary(.gt, b) }
    public static func >= (a: Signal, b: Signal) -> Signal { a.binary(.ge, b) }

    public static func & (a: Signal, b: Int) -> Signal { a & a.constant(b) }
    public static func | (a: Signal, b: Int) -> Signal { a | a.constant(b) }
    public static func ^ (a: Signal, b: Int) -> Signal { a ^ a.constant(b) }
    public static func + (a: Signal, b: Int) -> Signal { a + a.constant(b) }
    public static func +& (a: Signal, b: Int) -> Signal { a +& a.constant(b) }
    public static func - (a: Signal, b: Int) -> Signal { a - a.constant(b) }
    public static func == (a: Signal, b: Int) -> Signal { a == a.constant(b) }
    public static func != (a: Signal, b: Int) -> Signal { a != a.constant(b) }
    public static func < (a: Signal, b: Int) -> Signal { a < a.constant(b) }
    public static func <= (a: Signal, b: Int) -> Signal { a <= a.constant(b) }
    public static func > (a: Signal, b: Int) -> Signal { a > a.constant(b) }
    public static func >= (a: Signal, b: Int) -> Signal { a >= a.constant(b) }

    /// Logical shift left by a constant; bits shifted past the top are lost (the width stays).
    public static func << (a: Signal, amount: Int) -> Signal {
        guard amount > 0 else { return a }
        return Signal(Expr(.shiftConstant(left: true, a.expr, amount: amount), width: a.width), a.builder)
    }

    /// Logical shift right by a constant; the width stays.
    public static func >> (a: Signal, amount: Int) -> Signal {
        guard amount > 0 else { return a }
        return Signal(Expr(.shiftConstant(left: false, a.expr, amount: amount), width: a.width), a.builder)
    }

    /// Barrel shift left by a signal amount; the width stays.
    public static func << (a: Signal, amount: Signal) -> Signal {
        let b = a.builder.checkedOperand(amount, at: SourceLocation(fileID: "<operator <<>", line: 0))
        return Signal(Expr(.binary(.shiftLeft, a.expr, b), width: a.width), a.builder)
    }

    /// Barrel shift right by a signal amount; the width stays.
    public static func >> (a: Signal, amount: Signal) -> Signal {
        let b = a.builder.checkedOperand(amount, at: SourceLocation(fileID: "<operator >>>", line: 0))
        return Signal(Expr(.binary(.shiftRight, a.expr, b), width: a.width), a.builder)
    }
}

infix operator +& : AdditionPrecedence

/// `condition ? whenTrue : whenFalse`; the branches are zero-extended to the wider of the two.
public func mux(_ condition: Signal, _ whenTrue: Signal, _ whenFalse: Signal, file: String = #fileID, line: Int = #line) -> Signal {
    let builder = condition.builder
    let location = SourceLocation(fileID: file, line: line)
    let c = builder.checkedCondition(condition, at: location)
    let width = max(whenTrue.width, whenFalse.width)
    let a = Signal.zeroExtend(builder.checkedOperand(whenTrue, at: location), to: width)
    let b = Signal.zeroExtend(builder.checkedOperand(whenFalse, at: location), to: width)
    return Signal(Expr(.mux(c, a, b), width: width), builder)
}

/// `condition ? whenTrue : constant`.
public func mux(_ condition: Signal, _ whenTrue: Signal, _ whenFalse: UInt64, file: String = #fileID, line: Int = #line) -> Signal {
    mux(condition, whenTrue, condition.builder.constant(whenFalse, width: whenTrue.width, file: file, line: line), file: file, line: line)
}

/// Concatenation, most significant part first.
public func cat(_ parts: Signal..., file: String = #fileID, line: Int = #line) -> Signal {
    cat(parts, file: file, line: line)
}

/// Concatenation of an array, most significant part first (the array must not be empty).
public func cat(_ parts: [Signal], file: String = #fileID, line: Int = #line) -> Signal {
    precondition(!parts.isEmpty, "cat needs at least one part")
    let builder = parts[0].builder
    if parts.count == 1 { return parts[0] }
    let location = SourceLocation(fileID: file, line: line)
    let exprs = parts.map { builder.checkedOperand($0, at: location) }
    return Signal(Expr(.concat(exprs), width: exprs.reduce(0) { $0 + $1.width }), builder)
}
