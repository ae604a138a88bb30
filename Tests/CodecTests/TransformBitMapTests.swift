@testable import Codec
import Testing

/// The transform's bit map is its definition; every fast spelling of it must agree.
@Suite("Value transforms follow their bit map")
struct TransformBitMapTests {
    static let layouts: [ValueLayout] = [
        ValueLayout(transform: .identity, symbolBits: 8, rawBits: 0),
        ValueLayout(transform: .split, symbolBits: 4, rawBits: 7),
        ValueLayout(transform: .split, symbolBits: 12, rawBits: 20),
        ValueLayout(transform: .split, symbolBits: 6, rawBits: 0),
        ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8),
    ]

    /// Symbol and raw bits of `value` read through the map.
    static func fields(_ value: UInt32, _ layout: ValueLayout) -> (symbol: UInt32, raw: UInt32) {
        var symbol: UInt32 = 0, raw: UInt32 = 0
        for (bit, field) in layout.bitMap.enumerated() {
            let b = (value >> UInt32(bit)) & 1
            switch field {
            case .symbol(let i): symbol |= b << UInt32(i)
            case .raw(let i): raw |= b << UInt32(i)
            }
        }
        return (symbol, raw)
    }

    func kernelFields<K: TransformKernel>(_ kernel: K.Type, _ value: UInt32, _ layout: ValueLayout) -> (UInt32, UInt32, UInt32) {
        let s = K.symbol(value, rawBits: layout.rawBits), r = K.raw(value, rawBits: layout.rawBits)
        return (s, r, K.placeSymbol(s, rawBits: layout.rawBits) | K.placeRaw(r))
    }

    @Test("the map is a permutation of the value's bits onto symbol and raw bits", arguments: layouts)
    func mapIsAPermutation(layout: ValueLayout) {
        let map = layout.bitMap
        #expect(map.count == layout.valueBits)
        #expect(Set(map.compactMap { if case .symbol(let i) = $0 { i } else { nil } }) == Set(0..<layout.symbolBits))
        #expect(Set(map.compactMap { if case .raw(let i) = $0 { i } else { nil } }) == Set(0..<layout.rawBits))
    }

    @Test("symbol(of:), raw(of:), value(symbol:raw:) and the coders' kernels agree with the map", arguments: layouts)
    func kernelsFollowTheMap(layout: ValueLayout) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(layout.valueBits)
        let mask = layout.valueBits == 32 ? UInt32.max : (UInt32(1) << UInt32(layout.valueBits)) - 1
        for i in 0..<4000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = i < 2 ? [0, mask][i] : UInt32(truncatingIfNeeded: state >> 17) & mask
            let (symbol, raw) = Self.fields(value, layout)
            #expect(layout.symbol(of: value) == symbol)
            #expect(layout.raw(of: value) == raw)
            #expect(layout.value(symbol: symbol, raw: raw) == value)
            let kernel: (UInt32, UInt32, UInt32)
            switch layout.transform {
            case .identity: kernel = kernelFields(IdentityKernel.self, value, layout)
            case .split: kernel = kernelFields(SplitKernel.self, value, layout)
            case .bf16Exponent: kernel = kernelFields(BF16Kernel.self, value, layout)
            }
            #expect(kernel.0 == symbol && kernel.1 == raw && kernel.2 == value, "value \(value)")
            if kernel.0 != symbol || layout.symbol(of: value) != symbol { return }
        }
    }
}

extension ValueLayout: CustomTestStringConvertible {
    public var testDescription: String { "\(transform.rawValue) sb\(symbolBits) raw\(rawBits)" }
}
