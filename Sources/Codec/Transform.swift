/// How a value is split into a coded symbol and raw bits (FORMAT.md section 1).
public enum Transform: String, Sendable, Codable, CaseIterable {
    /// The value is the symbol; no raw bits.
    case identity
    /// The top `symbolBits` bits are the symbol, the low `rawBits` bits are raw.
    case split
    /// bfloat16: the 8 exponent bits are the symbol; sign and mantissa are raw.
    case bf16Exponent = "bf16-exponent"
}

/// The index of the first of `values` that does not fit in `valueBits` bits, or nil. One
/// vectorisable pass; the index is looked for only when some value is too wide.
public func firstValueTooWide<C: Collection>(_ values: C, valueBits: Int) -> C.Index? where C.Element == UInt32 {
    guard valueBits < 32, values.reduce(0, |) >> UInt32(valueBits) != 0 else { return nil }
    return values.firstIndex { $0 >> UInt32(valueBits) != 0 }
}

/// The split of values into symbols and raw bits for one codebook, ready for inner loops.
public struct ValueLayout: Sendable, Equatable {
    public let transform: Transform
    public let symbolBits: Int
    public let rawBits: Int

    public init(transform: Transform, symbolBits: Int, rawBits: Int) {
        self.transform = transform
        self.symbolBits = symbolBits
        self.rawBits = rawBits
    }

    /// Bits per value.
    public var valueBits: Int { symbolBits + rawBits }

    /// Number of symbols, 2^symbolBits (ESC is entry n, EOF entry n + 1).
    public var symbolCount: Int { 1 << symbolBits }

    /// Where a value bit goes: a bit of the symbol or a bit of the raw field.
    public enum FieldBit: Sendable, Equatable {
        case symbol(Int)
        case raw(Int)
    }

    /// The definition of the transform: for each value bit, least significant first, the symbol
    /// or raw bit it is. The kernels below (`symbol(of:)`, `raw(of:)`, `value(symbol:raw:)` and
    /// the coders' specialised `TransformKernel`s) are fast spellings of this map, held to it by
    /// tests; the hardware cores wire their fields from it.
    public var bitMap: [FieldBit] {
        switch transform {
        case .identity:
            return (0..<symbolBits).map { .symbol($0) }
        case .split:
            return (0..<rawBits).map { .raw($0) } + (0..<symbolBits).map { .symbol($0) }
        case .bf16Exponent:
            // bfloat16: mantissa (raw 0-6), exponent (the symbol), sign (raw 7).
            return (0..<7).map { .raw($0) } + (0..<8).map { .symbol($0) } + [.raw(7)]
        }
    }

    @inline(__always)
    public func symbol(of value: UInt32) -> UInt32 {
        switch transform {
        case .identity: return value
        case .split: return rawBits == 32 ? 0 : value >> UInt32(rawBits)
        case .bf16Exponent: return (value >> 7) & 0xFF
        }
    }

    @inline(__always)
    public func raw(of value: UInt32) -> UInt32 {
        switch transform {
        case .identity: return 0
        case .split: return rawBits == 0 ? 0 : value & (UInt32.max >> UInt32(32 - rawBits))
        case .bf16Exponent: return ((value >> 15) << 7) | (value & 0x7F)
        }
    }

    @inline(__always)
    public func value(symbol: UInt32, raw: UInt32) -> UInt32 {
        switch transform {
        case .identity: return symbol
        case .split: return rawBits == 32 ? raw : (symbol << UInt32(rawBits)) | raw
        case .bf16Exponent: return ((raw >> 7) << 15) | (symbol << 7) | (raw & 0x7F)
        }
    }
}
