import HDL

/// A small deterministic PRNG (SplitMix64) so failures reproduce from the seed.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public func mask(_ width: Int) -> UInt64 { width >= 64 ? ~0 : (1 << UInt64(width)) - 1 }

/// Evaluates an expression of a combinational module given the values of its signals:
/// the reference semantics the emitted Verilog must match.
public func evaluate(_ e: Expr, _ value: (SignalID) -> UInt64) -> UInt64 {
    let m = mask(e.width)
    switch e.node {
    case .signal(let id): return value(id) & m
    case .constant(let c): return c & m
    case .unary(let op, let a):
        let x = evaluate(a, value)
        switch op {
        case .not: return ~x & m
        case .andReduce: return x == mask(a.width) ? 1 : 0
        case .orReduce: return x != 0 ? 1 : 0
        case .xorReduce: return UInt64(x.nonzeroBitCount & 1)
        }
    case .binary(let op, let a, let b):
        let x = evaluate(a, value), y = evaluate(b, value)
        switch op {
        case .and: return x & y
        case .or: return x | y
        case .xor: return x ^ y
        case .add: return (x &+ y) & m
        case .sub: return (x &- y) & m
        case .mul: return (x &* y) & m
        case .eq: return x == y ? 1 : 0
        case .ne: return x != y ? 1 : 0
        case .lt: return x < y ? 1 : 0
        case .le: return x <= y ? 1 : 0
        case .gt: return x > y ? 1 : 0
        case .ge: return x >= y ? 1 : 0
        case .shiftLeft: return y >= UInt64(a.width) ? 0 : (x << y) & m
        case .shiftRight: return y >= UInt64(a.width) ? 0 : x >> y
        }
    case .mux(let c, let a, let b):
        return evaluate(c, value) != 0 ? evaluate(a, value) : evaluate(b, value)
    case .slice(let a, let high, let low):
        return (evaluate(a, value) >> UInt64(low)) & mask(high - low + 1)
    case .concat(let parts):
        return parts.reduce(0) { acc, p in p.width >= 64 ? evaluate(p, value) : (acc << UInt64(p.width)) | evaluate(p, value) } & m
    case .replicate(let a, let count):
        let x = evaluate(a, value)
        return (0..<count).reduce(0) { acc, _ in a.width >= 64 ? x : (acc << UInt64(a.width)) | x } & m
    case .shiftConstant(let left, let a, let amount):
        let x = evaluate(a, value)
        guard amount < a.width else { return 0 }
        return left ? (x << UInt64(amount)) & m : x >> UInt64(amount)
    }
}

/// Builds random expression trees over a set of inputs, every width at most 64 bits.
public struct RandomExpressionBuilder {
    public var random: SeededRandom
    let inputs: [Signal]
    let builder: ModuleBuilder

    public init(seed: UInt64, inputs: [Signal], builder: ModuleBuilder) {
        random = SeededRandom(seed: seed)
        self.inputs = inputs
        self.builder = builder
    }

    mutating func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    public mutating func expression(depth: Int) -> Signal {
        if depth == 0 || pick(5) == 0 {
            if pick(4) == 0 {
                // Non-zero: Verilator rightly warns about comparisons that a zero makes constant.
                let width = 1 + pick(20)
                return builder.constant(max(1, random.next() & mask(width)), width: width)
            }
            return inputs[pick(inputs.count)]
        }
        let a = expression(depth: depth - 1)
        switch pick(17) {
        case 0: return a & expression(depth: depth - 1)
        case 1: return a | expression(depth: depth - 1)
        case 2: return a ^ expression(depth: depth - 1)
        case 3: return a + expression(depth: depth - 1)
        case 4:
            let b = expression(depth: depth - 1)
            return max(a.width, b.width) < 64 ? a +& b : a + b
        case 5: return a - expression(depth: depth - 1)
        case 6:
            let b = expression(depth: depth - 1)
            return a.width + b.width <= 64 ? a * b : a ^ b
        case 7:
            let b = expression(depth: depth - 1)
            switch pick(6) {
            case 0: return a == b
            case 1: return a != b
            case 2: return a < b
            case 3: return a <= b
            case 4: return a > b
            default: return a >= b
            }
        case 8: return mux(expression(depth: depth - 1).orReduce(), a, expression(depth: depth - 1))
        case 9:
            let low = pick(a.width)
            let high = low + pick(a.width - low)
            return a[high, low]
        case 10:
            let b = expression(depth: depth - 1)
            return a.width + b.width <= 64 ? cat(a, b) : b
        case 11: return a.width * 3 <= 64 ? a.replicated(1 + pick(3)) : a
        case 12: return pick(2) == 0 ? a << pick(a.width + 2) : a >> pick(a.width + 2)
        case 13:
            let amount = expression(depth: 0)
            let narrow = amount.width > 7 ? amount[6, 0] : amount
            return pick(2) == 0 ? a << narrow : a >> narrow
        case 14: return ~a
        case 15:
            switch pick(3) {
            case 0: return a.andReduce()
            case 1: return a.orReduce()
            default: return a.xorReduce()
            }
        default: return a.width < 64 ? a.zeroExtended(to: min(64, a.width + 1 + pick(8))) : a
        }
    }
}

/// A combinational module of random expressions: inputs `a`..`f` of random widths (one of them
/// 64 bits) and outputs `y0`... Returns the module and, per output, its expression.
public func randomExpressionModule(seed: UInt64, outputs: Int = 24, depth: Int = 4) throws -> (module: Module, expressions: [Expr]) {
    var expressions: [Expr] = []
    let module = try Module("random_exprs_\(seed)") { m in
        var widthRandom = SeededRandom(seed: seed ^ 0xABCDEF)
        let inputs = ["a", "b", "c", "d", "e", "f"].enumerated().map { index, name in
            m.input(name, width: index == 5 ? 64 : 1 + Int(widthRandom.next() % 24))
        }
        var generator = RandomExpressionBuilder(seed: seed, inputs: inputs, builder: m)
        for i in 0..<outputs {
            let e = generator.expression(depth: depth)
            m.output("y\(i)", width: e.width).assign(e)
            expressions.append(e.expr)
        }
    }
    return (module, expressions)
}
