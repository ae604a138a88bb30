/// Writes a bit stream MSB first (FORMAT.md section 4) through a 64-bit container, into a
/// buffer it owns (a class, so the buffer is never shared by accident).
public final class BitWriter {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var byteCount = 0
    private var container: UInt64 = 0
    /// Bits held in `container` (fewer than 32 between writes).
    private var pending = 0

    public init(capacity: Int = 0) {
        self.capacity = max(64, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    /// Bits written so far.
    public var bitCount: Int { byteCount * 8 + pending }

    /// Appends the low `count` bits of `value` (count 0 to 32; higher bits of value must be 0).
    @inline(__always)
    public func write(_ value: UInt32, bits count: Int) {
        container = (container &<< UInt64(count)) | UInt64(value)
        pending &+= count
        if pending >= 32 {
            pending &-= 32
            if byteCount &+ 4 > capacity { grow() }
            let word = UInt32(truncatingIfNeeded: container &>> UInt64(pending))
            UnsafeMutableRawPointer(storage + byteCount).storeBytes(of: word.bigEndian, as: UInt32.self)
            byteCount &+= 4
        }
    }

    private func grow(atLeast needed: Int = 0) {
        let newCapacity = max(capacity * 2, needed)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.moveInitialize(from: storage, count: byteCount)
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    /// Runs `body` with a writer whose state lives in locals (registers), for inner loops that
    /// write at most `maxBits` bits; the state is folded back afterwards.
    @inline(__always)
    func withLocalWriter<R>(maxBits: Int, _ body: (inout LocalBitWriter) throws -> R) rethrows -> R {
        let needed = byteCount + maxBits / 8 + 16
        if needed > capacity { grow(atLeast: needed) }
        var local = LocalBitWriter(out: storage + byteCount, container: container, pending: pending)
        local.flush()
        defer {
            byteCount = local.out - storage
            container = local.container
            pending = local.pending
        }
        return try body(&local)
    }

    /// Appends `count` whole 32-bit words, word i being `word(i)` (its first bit at bit 31),
    /// straight into the buffer.
    @inline(__always)
    func appendWords(count: Int, _ word: (Int) -> UInt32) {
        guard pending == 0 else {
            for i in 0..<count { write(word(i), bits: 32) }
            return
        }
        if byteCount + 4 * count > capacity { grow(atLeast: byteCount + 4 * count) }
        let out = UnsafeMutableRawPointer(storage + byteCount)
        for i in 0..<count { out.storeBytes(of: word(i).bigEndian, toByteOffset: 4 * i, as: UInt32.self) }
        byteCount += 4 * count
    }

    /// Zero bits up to the next multiple of 32 (none if already there).
    public func padToWord() {
        let extra = bitCount % 32
        if extra != 0 { write(0, bits: 32 - extra) }
    }

    /// The bytes written; the bit count must be a multiple of 8 (it is after `padToWord`).
    public func finish() -> [UInt8] {
        precondition(pending % 8 == 0, "finish() needs whole bytes; call padToWord() first")
        let tailBytes = pending / 8
        return [UInt8](unsafeUninitializedCapacity: byteCount + tailBytes) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            base.initialize(from: storage, count: byteCount)
            for k in 0..<tailBytes {
                (base + byteCount + k).initialize(to: UInt8(truncatingIfNeeded: container &>> UInt64(pending - 8 * (k + 1))))
            }
            initialized = byteCount + tailBytes
        }
    }
}

/// The state of a `BitWriter` held in locals for an inner loop; see `BitWriter.withLocalWriter`.
///
/// Branchless: every write stores 8 bytes and commits only the whole bytes among them (the rest
/// is rewritten by the next store), so there is no data-dependent branch to mispredict.
public struct LocalBitWriter {
    var out: UnsafeMutablePointer<UInt8>
    /// Pending bits, right-aligned (bits above `pending` are stale and shifted out on store).
    var container: UInt64
    /// At most 7 between writes.
    var pending: Int

    /// Appends the low `count` bits of `value` (count 0 to 32; higher bits of value must be 0).
    @inline(__always)
    public mutating func write(_ value: UInt32, bits count: Int) {
        write64(UInt64(value), bits: count)
    }

    /// Appends the low `count` bits of `value` (count 0 to 56; higher bits must be 0).
    @inline(__always)
    mutating func write64(_ value: UInt64, bits count: Int) {
        container = (container &<< UInt64(count)) | value
        pending &+= count
        flush()
    }

    /// Stores the pending bits left-aligned and commits the whole bytes among them.
    @inline(__always)
    mutating func flush() {
        let aligned = container &<< UInt64(64 &- pending)
        UnsafeMutableRawPointer(out).storeBytes(of: (pending == 0 ? 0 : aligned).bigEndian, as: UInt64.self)
        out += pending &>> 3
        pending &= 7
    }
}

/// Reads a bit stream MSB first. The buffer behind it must extend 8 readable bytes past the
/// stream (see `PaddedStream`), so a peek never checks bounds.
public struct BitReader {
    let base: UnsafeRawPointer
    /// Bits in the stream.
    public let bitCount: Int
    /// Bits consumed.
    public var position: Int

    init(base: UnsafeRawPointer, bitCount: Int) {
        self.base = base
        self.bitCount = bitCount
        position = 0
    }

    public var remaining: Int { bitCount - position }

    /// The next `count` bits (1 to 57) without consuming them; bits past the end read as 0.
    @inline(__always)
    public func peek(_ count: Int) -> UInt64 {
        let word = base.loadUnaligned(fromByteOffset: position &>> 3, as: UInt64.self).bigEndian
        return (word &<< UInt64(position & 7)) &>> UInt64(64 - count)
    }

    /// Consumes `count` bits (0 to 32) and returns them; the caller checks `remaining` first.
    @inline(__always)
    public mutating func read(_ count: Int) -> UInt32 {
        guard count > 0 else { return 0 }
        let value = UInt32(truncatingIfNeeded: peek(count))
        position &+= count
        return value
    }

    @inline(__always)
    public mutating func skip(_ count: Int) { position &+= count }

    /// The 64 stream bits from `position` on, left-aligned; at least 57 of them are real.
    @inline(__always)
    func container(at position: Int) -> UInt64 {
        base.loadUnaligned(fromByteOffset: position &>> 3, as: UInt64.self).bigEndian &<< UInt64(position & 7)
    }
}

/// A stream's bytes followed by 8 zero bytes, so `BitReader` can load 64 bits anywhere.
public struct PaddedStream: Sendable {
    /// Zero bytes kept after the stream.
    public static let padding = 8
    private let storage: [UInt8]
    public let byteCount: Int

    public init(_ bytes: [UInt8]) {
        byteCount = bytes.count
        storage = bytes + [UInt8](repeating: 0, count: Self.padding)
    }

    /// Takes `storage` whose last `padding` bytes follow the stream (their values are replaced
    /// by zeros), without copying it.
    init(paddedStorage storage: [UInt8]) {
        var storage = storage
        if storage.count < Self.padding { storage.append(contentsOf: repeatElement(0, count: Self.padding - storage.count)) }
        byteCount = storage.count - Self.padding
        for i in byteCount..<storage.count { storage[i] = 0 }
        self.storage = storage
    }

    /// Runs `body` with the stream's bytes (without the padding).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<byteCount])) }
    }

    /// Runs `body` with a reader at the start of the stream.
    public func withReader<R, E: Error>(_ body: (inout BitReader) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = storage.withUnsafeBytes { buffer in
            // The storage always holds at least the 8 padding bytes, so it has an address.
            guard let base = buffer.baseAddress else { preconditionFailure("padded stream without storage") }
            var reader = BitReader(base: base, bitCount: byteCount * 8)
            do throws(E) {
                return .success(try body(&reader))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
