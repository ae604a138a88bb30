/// The transform of a layout as a type, so the coders' inner loops are specialised per
/// transform instead of switching on it for every value.
protocol TransformKernel {
    /// The symbol of a value.
    static func symbol(_ value: UInt32, rawBits: Int) -> UInt32
    /// The raw bits of a value.
    static func raw(_ value: UInt32, rawBits: Int) -> UInt32
    /// Where the raw bits land in the value (the symbol's bits are added separately).
    static func placeRaw(_ raw: UInt32) -> UInt32
    /// Where the symbol's bits land in the value.
    static func placeSymbol(_ symbol: UInt32, rawBits: Int) -> UInt32
    /// The layout's raw bits, as a constant where the transform fixes them (else `rawBits`).
    static func rawBits(_ rawBits: Int) -> Int
}

extension TransformKernel {
    @inline(__always) static func rawBits(_ rawBits: Int) -> Int { rawBits }
}

enum IdentityKernel: TransformKernel {
    @inline(__always) static func symbol(_ value: UInt32, rawBits: Int) -> UInt32 { value }
    @inline(__always) static func raw(_ value: UInt32, rawBits: Int) -> UInt32 { 0 }
    @inline(__always) static func placeRaw(_ raw: UInt32) -> UInt32 { 0 }
    @inline(__always) static func placeSymbol(_ symbol: UInt32, rawBits: Int) -> UInt32 { symbol }
}

enum SplitKernel: TransformKernel {
    @inline(__always) static func symbol(_ value: UInt32, rawBits: Int) -> UInt32 { value &>> UInt32(rawBits) }
    @inline(__always) static func raw(_ value: UInt32, rawBits: Int) -> UInt32 {
        rawBits == 0 ? 0 : value & (UInt32.max &>> UInt32(32 - rawBits))
    }
    @inline(__always) static func placeRaw(_ raw: UInt32) -> UInt32 { raw }
    @inline(__always) static func placeSymbol(_ symbol: UInt32, rawBits: Int) -> UInt32 { symbol &<< UInt32(rawBits) }
}

enum BF16Kernel: TransformKernel {
    /// Sign and mantissa: always 8.
    @inline(__always) static func rawBits(_ rawBits: Int) -> Int { 8 }
    @inline(__always) static func symbol(_ value: UInt32, rawBits: Int) -> UInt32 { (value &>> 7) & 0xFF }
    @inline(__always) static func raw(_ value: UInt32, rawBits: Int) -> UInt32 { ((value &>> 15) &<< 7) | (value & 0x7F) }
    /// The sign (raw bit 7) to bit 15, the mantissa (raw bits 0-6) in place: `raw` (8 bits)
    /// copied 8 bits up beside itself, then masked (two operations).
    @inline(__always) static func placeRaw(_ raw: UInt32) -> UInt32 { (raw &* 0x101) & 0x807F }
    @inline(__always) static func placeSymbol(_ symbol: UInt32, rawBits: Int) -> UInt32 { symbol &<< 7 }
}

/// A growable output buffer with an append that costs a compare and a store.
struct ValueSink {
    private(set) var base: UnsafeMutablePointer<UInt32>
    private(set) var count = 0
    private var capacity: Int

    /// Whether `base` belongs to the sink (else it is a caller's buffer, never freed here).
    private var owned = true

    init(capacity: Int) {
        self.capacity = max(capacity, 1024)
        base = .allocate(capacity: self.capacity)
    }

    /// A sink writing into a caller's buffer of `capacity` values; should it need more, it moves
    /// to memory of its own (`isBorrowing` turns false) and the caller must copy from `base`.
    init(borrowing buffer: UnsafeMutablePointer<UInt32>, capacity: Int) {
        base = buffer
        self.capacity = capacity
        owned = false
    }

    /// Still writing into the caller's buffer.
    var isBorrowing: Bool { !owned }

    /// Makes room for `extra` more values.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let bigger = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        bigger.moveInitialize(from: base, count: count)
        if owned { base.deallocate() }
        base = bigger
        capacity = newCapacity
        owned = true
    }

    /// Forgets the values after the first `n`.
    mutating func truncate(to n: Int) { count = min(count, max(0, n)) }

    /// Counts `n` values written directly at `base + count` (after `reserve`).
    @inline(__always)
    mutating func advance(by n: Int) { count &+= n }

    /// Appends without a capacity check: call `reserve` first.
    @inline(__always)
    mutating func appendReserved(_ value: UInt32) {
        base[count] = value
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ value: UInt32) {
        reserve(1)
        appendReserved(value)
    }

    /// The values appended so far.
    var array: [UInt32] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Frees the buffer (if its own); the sink must not be used afterwards.
    func release() { if owned { base.deallocate() } }
}

/// A read-only table in memory the inner loops index without bounds checks (indices come from
/// masked bit fields that are in range by construction).
final class FixedTable<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ elements: [Element]) {
        count = elements.count
        pointer = .allocate(capacity: max(1, elements.count))
        _ = UnsafeMutableBufferPointer(start: pointer, count: elements.count).initialize(from: elements)
    }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }

    @inline(__always) subscript(_ i: Int) -> Element { pointer[i] }
}
