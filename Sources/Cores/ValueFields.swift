import Codec
import HDL

/// The symbol and raw bits of a value signal under a layout, as DSL slices (FORMAT.md section 1).
enum ValueFields {
    /// The symbol bits of `value` (valueBits wide).
    static func symbol(of value: Signal, layout: ValueLayout) -> Signal {
        switch layout.transform {
        case .identity: return value
        case .split: return value[layout.valueBits - 1, layout.rawBits]
        case .bf16Exponent: return value[14, 7]
        }
    }

    /// The raw bits of `value`, or nil when the layout has none.
    static func raw(of value: Signal, layout: ValueLayout) -> Signal? {
        switch layout.transform {
        case .identity: return nil
        case .split: return layout.rawBits == 0 ? nil : value[layout.rawBits - 1, 0]
        case .bf16Exponent: return cat(value[15], value[6, 0])
        }
    }

    /// The value rebuilt from a symbol and raw bits.
    static func value(symbol: Signal, raw: Signal?, layout: ValueLayout) -> Signal {
        switch layout.transform {
        case .identity: return symbol
        case .split: return raw.map { cat(symbol, $0) } ?? symbol
        case .bf16Exponent:
            guard let raw else { return symbol }
            return cat(raw[7], symbol, raw[6, 0])
        }
    }
}
