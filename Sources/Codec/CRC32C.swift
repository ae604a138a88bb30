import CCRC32C

/// CRC-32C (Castagnoli, iSCSI, RFC 3720) as FORMAT.md section 11 uses it: polynomial 0x1EDC6F41
/// processed reflected (0x82F63B78), initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF.
///
/// `CRC32C.checksum(of: "123456789")` is 0xE3069283. Computed slicing-by-8 (eight 256-entry
/// tables, eight bytes per step), and `combine` joins the checksums of two adjacent pieces
/// without reading them again, so frames can be checked on several threads and the file's
/// checksum assembled from theirs.
public enum CRC32C {
    /// The reflected polynomial.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// tables[k][b]: the CRC register after byte b followed by k zero bytes.
    private static let tables: FixedTable<UInt32> = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var c = UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            t[b] = c
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return FixedTable(t)
    }()

    /// The checksum of `bytes`.
    public static func checksum(of bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, with: bytes)
    }

    /// The checksum of `bytes`.
    public static func checksum<C: Collection>(of bytes: C) -> UInt32 where C.Element == UInt8 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(of: UnsafeRawBufferPointer($0)) }) { return crc }
        return Array(bytes).withUnsafeBytes { checksum(of: $0) }
    }

    /// Whether the processor's CRC-32C instruction is used (x86-64 SSE4.2, AArch64 CRC).
    public static let usesHardware = hwgen_crc32c_hardware() == 1

    /// The checksum of the bytes behind `crc` followed by `bytes` (start with 0 for no bytes).
    public static func update(_ crc: UInt32, with bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        if usesHardware { return ~hwgen_crc32c_update(~crc, base, bytes.count) }
        return softwareUpdate(crc, with: bytes)
    }

    /// `update` by slicing-by-8 tables, on any processor.
    public static func softwareUpdate(_ crc: UInt32, with bytes: UnsafeRawBufferPointer) -> UInt32 {
        let t = tables.pointer
        var c = ~crc
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return crc }
        while i &+ 8 <= n {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ UInt64(c)
            let lo = UInt32(truncatingIfNeeded: word), hi = UInt32(truncatingIfNeeded: word &>> 32)
            c = t[7 &* 256 &+ Int(lo & 0xFF)] ^ t[6 &* 256 &+ Int((lo &>> 8) & 0xFF)]
                ^ t[5 &* 256 &+ Int((lo &>> 16) & 0xFF)] ^ t[4 &* 256 &+ Int(lo &>> 24)]
                ^ t[3 &* 256 &+ Int(hi & 0xFF)] ^ t[2 &* 256 &+ Int((hi &>> 8) & 0xFF)]
                ^ t[1 &* 256 &+ Int((hi &>> 16) & 0xFF)] ^ t[Int(hi &>> 24)]
            i &+= 8
        }
        while i < n {
            c = (c &>> 8) ^ t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)]
            i &+= 1
        }
        return ~c
    }

    /// The checksum of the bytes behind `crc` followed by `bytes`.
    public static func update<C: Collection>(_ crc: UInt32, with bytes: C) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(crc, with: UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes { update(crc, with: $0) }
    }

    /// The checksum of A followed by B, from the checksum of A, the checksum of B and B's length
    /// in bytes. (The register after A, advanced over `length` zero bytes, XOR B's checksum:
    /// CRCs are linear, and the initial and final XORs cancel as in zlib's crc32_combine.)
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength length: Int) -> UInt32 {
        precondition(length >= 0, "a piece has a non-negative length")
        return multiply(first, xPower8n(length)) ^ second
    }

    /// a * b modulo the polynomial, in the reflected representation (bit 31 is x^0).
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0
        var a = a
        var m: UInt32 = 1 << 31
        while m != 0 {
            if b & m != 0 {
                product ^= a
                if b & (m &- 1) == 0 { break }
            }
            m >>= 1
            a = a & 1 != 0 ? (a >> 1) ^ polynomial : a >> 1
        }
        return product
    }

    /// x^(2^k) modulo the polynomial, reflected, for k = 0 ..< 64.
    private static let powers: [UInt32] = {
        var p = [UInt32](repeating: 0, count: 64)
        p[0] = 1 << 30  // x^1
        for k in 1..<64 { p[k] = multiply(p[k - 1], p[k - 1]) }
        return p
    }()

    /// x^(8 n) modulo the polynomial: the effect of n zero bytes on the register.
    static func xPower8n(_ n: Int) -> UInt32 {
        var result: UInt32 = 1 << 31  // x^0
        var k = 3  // 8 n = n << 3
        var n = UInt64(n)
        while n != 0 {
            if n & 1 != 0 { result = multiply(result, powers[k & 63]) }
            n >>= 1
            k += 1
        }
        return result
    }
}
