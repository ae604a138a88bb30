/// A value in a module under construction: a declared signal or an expression over signals.
///
/// All values are unsigned bit vectors whose width is known when they are built. Bitwise
/// operators, wrapping `+`/`-` and comparisons zero-extend the narrower operand; `+&` grows by one
/// bit; `*` gives the sum of the widths; shifts keep the width of the shifted value.
///
/// Operators cannot take the caller's line, so a misuse inside an expression (a negative
/// constant, `!` on a bus, a signal of another module) poisons the result instead: the problem is
/// reported at the line where the expression is used (assigned, named, made a condition).
/// Expressions are folded as they are built: `x & 0`, `x | 0`, `~1'd0`, a mux on a constant and
/// the like never reach the Verilog.
public struct Signal {
    public let expr: Expr
    let builder: ModuleBuilder
    /// Problems found while building this expression, reported where it is used.
    let poison: [Poison]

    init(_ expr: Expr, _ builder: ModuleBuilder, poison: [Poison] = []) {
        self.expr = expr
        self.builder = builder
        self.poison = poison
    }

    /// A new expression over this one's operands: their poison carries over.
    func derived(_ expr: Expr, from others: [Signal] = [], adding problem: Poison? = nil) -> Signal {
        var all = poison
        for o in others { all += o.poison }
        if let problem { all.append(problem) }
        return Signal(expr, builder, poison: all)
    }

    /// The constant value, if this is a constant.
    var constantValue: UInt64? {
        if case .constant(let v) = expr.node { return v }
        return nil
    }

    /// All ones in `width` bits.
    static func ones(_ width: Int) -> UInt64 { width >= 64 ? ~0 : (UInt64(1) << UInt64(width)) - 1 }

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
            return derived(Expr(.constant(0), width: Swift.max(1, high - low + 1)))
        }
        if low == 0 && high == width - 1 { return self }
        let sliceWidth = high - low + 1
        switch expr.node {
        case .constant(let v):
            return derived(Expr(.constant(low >= 64 ? 0 : (v >> UInt64(low)) & Signal.ones(sliceWidth)), width: sliceWidth))
        case .slice(let inner, _, let innerLow):
            // A slice of a slice is one slice of the inner value.
            return derived(Expr(.slice(inner, high: innerLow + high, low: innerLow + low), width: sliceWidth))
        case .concat(let parts):
            // A slice that falls inside one part of a concatenation is a slice of that part.
            var partLow = width
            for part in parts {
                partLow -= part.width
                if low >= partLow && high < partLow + part.width {
                    return Signal(part, builder, poison: poison).slice(high: high - partLow, low: low - partLow, at: location)
                }
            }
        default:
            break
        }
        return derived(Expr(.slice(expr, high: high, low: low), width: sliceWidth))
    }

    /// The value zero-extended to `newWidth` bits (which must not be smaller).
    public func zeroExtended(to newWidth: Int, file: String = #fileID, line: Int = #line) -> Signal {
        if newWidth < width {
            builder.report(.invalidWidth, "cannot zero-extend a \(width)-bit value to \(newWidth) bits", at: SourceLocation(fileID: file, line: line))
            return self
        }
        return derived(Signal.zeroExtend(expr, to: newWidth))
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
        if count == 1 { return self }
        if let v = constantValue, width * count <= 64 {
            var result: UInt64 = 0
            for _ in 0..<count { result = result << UInt64(width) | v }
            return derived(Expr(.constant(result), width: width * count))
        }
        return derived(Expr(.replicate(expr, count: count), width: width * count))
    }

    public func andReduce() -> Signal { reduce(.andReduce) }
    public func orReduce() -> Signal { reduce(.orReduce) }
    public func xorReduce() -> Signal { reduce(.xorReduce) }

    private func reduce(_ op: UnaryOp) -> Signal {
        if width == 1 { return self }
        if let v = constantValue {
            let result: Bool
            switch op {
            case .andReduce: result = v == Signal.ones(width)
            case .orReduce: result = v != 0
            default: result = v.nonzeroBitCount % 2 == 1
            }
            return derived(Expr(.constant(result ? 1 : 0), width: 1))
        }
        return derived(Expr(.unary(op, expr), width: 1))
    }

    static func zeroExtend(_ e: Expr, to width: Int) -> Expr {
        guard width > e.width else { return e }
        if case .constant(let value) = e.node { return Expr(.constant(value), width: width) }
        return Expr(.concat([Expr(.constant(0), width: width - e.width), e]), width: width)
    }

    // MARK: Operators

    func binary(_ op: BinaryOp, _ other: Signal, width resultWidth: Int? = nil) -> Signal {
        guard other.builder === builder else {
            let problem = Poison(kind: .foreignSignal, message: "operator \(op.rawValue) combines a signal of module '\(builder.name)' with one of module '\(other.builder.name)'")
            return derived(Expr(.constant(0), width: op.isComparison ? 1 : resultWidth ?? width), from: [other], adding: problem)
        }
        let operandWidth = resultWidth ?? Swift.max(width, other.width)
        let a = Signal.zeroExtend(expr, to: operandWidth)
        let b = Signal.zeroExtend(other.expr, to: operandWidth)
        let resultWidth = op.isComparison ? 1 : operandWidth
        if let folded = Signal.fold(op, a, b, width: operandWidth) {
            return derived(folded, from: [other])
        }
        return derived(Expr(.binary(op, a, b), width: resultWidth), from: [other])
    }

    /// `a op b` (both `width` bits) as a simpler expression, where one exists.
    static func fold(_ op: BinaryOp, _ a: Expr, _ b: Expr, width: Int) -> Expr? {
        let ones = Signal.ones(width)
        func value(_ e: Expr) -> UInt64? { if case .constant(let v) = e.node { return v } else { return nil } }
        func constant(_ v: UInt64) -> Expr { Expr(.constant(v & ones), width: width) }
        func truth(_ t: Bool) -> Expr { Expr(.constant(t ? 1 : 0), width: 1) }
        switch (value(a), value(b)) {
        case (let x?, let y?):
            switch op {
            case .and: return constant(x & y)
            case .or: return constant(x | y)
            case .xor: return constant(x ^ y)
            case .add: return constant(x &+ y)
            case .sub: return constant(x &- y)
            case .eq: return truth(x == y)
            case .ne: return truth(x != y)
            case .lt: return truth(x < y)
            case .le: return truth(x <= y)
            case .gt: return truth(x > y)
            case .ge: return truth(x >= y)
            case .mul, .shiftLeft, .shiftRight: return nil
            }
        case (let x?, nil):
            switch op {
            case .and: return x == 0 ? constant(0) : x == ones ? b : nil
            case .or: return x == 0 ? b : x == ones ? constant(ones) : nil
            case .xor, .add: return x == 0 ? b : nil
            default: return nil
            }
        case (nil, let y?):
            switch op {
            case .and: return y == 0 ? constant(0) : y == ones ? a : nil
            case .or: return y == 0 ? a : y == ones ? constant(ones) : nil
            case .xor, .add, .sub, .shiftLeft, .shiftRight: return y == 0 ? a : nil
            default: return nil
            }
        case (nil, nil):
            return nil
        }
    }

    func constant(_ value: Int) -> Signal {
        guard value >= 0 else {
            return derived(Expr(.constant(0), width: 1), adding: Poison(kind: .invalidOperand, message: "constant \(value) is negative; values are unsigned"))
        }
        let v = UInt64(value)
        let needed = Swift.max(1, 64 - v.leadingZeroBitCount)
        return Signal(Expr(.constant(v), width: needed), builder)
    }

    public static prefix func ~ (a: Signal) -> Signal {
        if let v = a.constantValue { return a.derived(Expr(.constant(~v & Signal.ones(a.width)), width: a.width)) }
        // ~~x is x.
        if case .unary(.not, let inner) = a.expr.node { return a.derived(inner) }
        return a.derived(Expr(.unary(.not, a.expr), width: a.width))
    }

    /// Logical not of a 1-bit value.
    public static prefix func ! (a: Signal) -> Signal {
        if a.width != 1 {
            return (~a).derived((~a).expr, adding: Poison(kind: .invalidOperand, message: "'!' takes a 1-bit value, this one is \(a.width) bits; use ~ or orReduce()"))
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
        if amount >= a.width { return a.derived(Expr(.constant(0), width: a.width)) }
        if let v = a.constantValue { return a.derived(Expr(.constant((v << UInt64(amount)) & Signal.ones(a.width)), width: a.width)) }
        return a.derived(Expr(.shiftConstant(left: true, a.expr, amount: amount), width: a.width))
    }

    /// Logical shift right by a constant; the width stays.
    public static func >> (a: Signal, amount: Int) -> Signal {
        guard amount > 0 else { return a }
        if amount >= a.width { return a.derived(Expr(.constant(0), width: a.width)) }
        if let v = a.constantValue { return a.derived(Expr(.constant(v >> UInt64(amount)), width: a.width)) }
        return a.derived(Expr(.shiftConstant(left: false, a.expr, amount: amount), width: a.width))
    }

    /// Barrel shift left by a signal amount; the width stays.
    public static func << (a: Signal, amount: Signal) -> Signal { a.shift(left: true, by: amount) }

    /// Barrel shift right by a signal amount; the width stays.
    public static func >> (a: Signal, amount: Signal) -> Signal { a.shift(left: false, by: amount) }

    private func shift(left: Bool, by amount: Signal) -> Signal {
        guard amount.builder === builder else {
            let problem = Poison(kind: .foreignSignal, message: "a shift amount of module '\(amount.builder.name)' is used in module '\(builder.name)'")
            return derived(Expr(.constant(0), width: width), adding: problem)
        }
        if let v = amount.constantValue { return left ? self << Int(clamping: v) : self >> Int(clamping: v) }
        return derived(Expr(.binary(left ? .shiftLeft : .shiftRight, expr, amount.expr), width: width), from: [amount])
    }
}

infix operator +& : AdditionPrecedence

/// A problem inside an expression, reported where the expression is used.
struct Poison: Sendable {
    let kind: Diagnostic.Kind
    let message: String
}

/// `condition ? whenTrue : whenFalse`; the branches are zero-extended to the wider of the two.
public func mux(_ condition: Signal, _ whenTrue: Signal, _ whenFalse: Signal, file: String = #fileID, line: Int = #line) -> Signal {
    let builder = condition.builder
    let location = SourceLocation(fileID: file, line: line)
    let c = builder.checkedCondition(condition, at: location)
    let width = max(whenTrue.width, whenFalse.width)
    let a = Signal.zeroExtend(builder.checkedOperand(whenTrue, at: location), to: width)
    let b = Signal.zeroExtend(builder.checkedOperand(whenFalse, at: location), to: width)
    if case .constant(let v) = c.node { return Signal(v != 0 ? a : b, builder) }
    // c ? 1 : 0 on one bit is c.
    if width == 1, case .constant(1) = a.node, case .constant(0) = b.node { return Signal(c, builder) }
    return Signal(Expr(.mux(c, a, b), width: width), builder)
}

/// `condition ? whenTrue : constant`.
public func mux(_ condition: Signal, _ whenTrue: Signal, _ whenFalse: UInt64, file: String = #fileID, line: Int = #line) -> Signal {
    mux(condition, whenTrue, condition.builder.constant(whenFalse, width: whenTrue.width, file: file, line: line), file: file, line: line)
}

/// Concatenation, most significant part first.
public func cat(_ first: Signal, _ rest: Signal..., file: String = #fileID, line: Int = #line) -> Signal {
    first.builder.cat([first] + rest, file: file, line: line)
}

/// Concatenation of `first` and then `rest`, most significant part first.
public func cat(_ first: Signal, _ rest: [Signal], file: String = #fileID, line: Int = #line) -> Signal {
    first.builder.cat([first] + rest, file: file, line: line)
}

extension ModuleBuilder {
    /// Concatenation of an array, most significant part first; an empty array is reported (and
    /// gives a 1-bit zero).
    public func cat(_ parts: [Signal], file: String = #fileID, line: Int = #line) -> Signal {
        let location = SourceLocation(fileID: file, line: line)
        guard let first = parts.first else {
            report(.invalidOperand, "cat of no parts", at: location)
            return constant(0, width: 1, file: file, line: line)
        }
        if parts.count == 1 { return first }
        var exprs: [Expr] = []
        for part in parts.map({ checkedOperand($0, at: location) }) {
            // Neighbouring constants merge; nested concatenations flatten.
            if case .concat(let inner) = part.node { exprs += inner; continue }
            if let last = exprs.last, case .constant(let x) = last.node, case .constant(let y) = part.node, last.width + part.width <= 64 {
                exprs[exprs.count - 1] = Expr(.constant(x << UInt64(part.width) | y), width: last.width + part.width)
                continue
            }
            exprs.append(part)
        }
        let width = exprs.reduce(0) { $0 + $1.width }
        if exprs.count == 1 { return Signal(exprs[0], self) }
        return Signal(Expr(.concat(exprs), width: width), self)
    }
}
