// libFuzzer harness for the reference coders (`make fuzz`). Compiled with the Codec sources:
//   swiftc -sanitize=fuzzer,address -parse-as-library -O Fuzz/CodecFuzz.swift Sources/Codec/*.swift
// Every input is (1) parsed as codebook JSON, (2) decoded as a stream with one of several
// codebooks chosen by its first byte, and (3) read as values that must round-trip. Nothing may
// crash, hang or decode a value wider than the codebook's value bits.

let layouts = [
    ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0),
    ValueLayout(transform: .split, symbolBits: 4, rawBits: 3),
    ValueLayout(transform: .bf16Exponent, symbolBits: 8, rawBits: 8),
    ValueLayout(transform: .split, symbolBits: 1, rawBits: 31),
]

func makeCodecs() -> [StreamCodec] {
    var books: [Codebook] = []
    do {
        books.append(try Codebook(name: "h1", coder: .huffman(codeLengths: [1, 2, 0, 0, 3, 3]), layout: layouts[0]))
        books.append(try Codebook(name: "t1", coder: .tans(tableLog: 5, counts: [12, 9, 0, 0, 6, 5]), layout: layouts[0]))
        // Incomplete code, escapes.
        books.append(try Codebook(name: "h2", coder: .huffman(codeLengths: [2, 3, 3, 4, 4, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6]), layout: layouts[1]))
        // A count above T/2: states that read no bits.
        books.append(try Codebook(name: "t2", coder: .tans(tableLog: 5, counts: [20, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4]), layout: layouts[1]))
        var lengths = [Int](repeating: 0, count: 258)
        for (i, s) in (112...127).enumerated() { lengths[s] = 2 + min(i, 12) }
        lengths[256] = 4
        lengths[257] = 14
        books.append(try Codebook(name: "h3", coder: .huffman(codeLengths: lengths), layout: layouts[2]))
        books.append(try Codebook(name: "t3", coder: .tans(tableLog: 6, counts: [40, 20, 3, 1]), layout: layouts[3]))
    } catch {
        fatalError("fuzz codebooks are invalid: \(error)")
    }
    return books.map { StreamCodec(codebook: $0) }
}

let codecs = makeCodecs()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? Codebook.parse(bytes)
    guard let selector = bytes.first else { return 0 }
    let codec = codecs[Int(selector) % codecs.count]
    let stream = Array(bytes.dropFirst())
    if let decoded = try? codec.decode(stream) {
        let bits = codec.layout.valueBits
        precondition(decoded.values.allSatisfy { bits == 32 || $0 >> UInt32(bits) == 0 }, "decoded a value wider than \(bits) bits")
        precondition(decoded.frameSizes.reduce(0, +) == decoded.values.count)
        // What decodes must re-encode to a stream that decodes the same.
        if let again = try? codec.encode(decoded.values, frameSizes: decoded.frameSizes) {
            precondition((try? codec.decode(again)) == decoded, "re-encoded stream decodes differently")
        }
    }
    // The bytes as values (4 per value, masked to the value bits) must round-trip.
    let mask: UInt32 = codec.layout.valueBits == 32 ? ~0 : (1 << UInt32(codec.layout.valueBits)) - 1
    var values: [UInt32] = []
    var i = 1
    while i + 4 <= bytes.count {
        values.append((UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24) & mask)
        i += 4
    }
    if let stream = try? codec.encode(values, frameSize: 1 + Int(selector) % 7) {
        precondition((try? codec.decode(stream))?.values == values, "round trip failed")
    }
    return 0
}
