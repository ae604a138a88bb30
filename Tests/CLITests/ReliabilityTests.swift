import Foundation
import Testing
import TestSupport

/// Every attack and accident of issue 12, through the real executable: one line `Error: ...`,
/// exit 1, never a signal, never exit 0 with a wrong result, never a lost or clobbered file.
@Suite("hwgen under hostile input: memory safety, damaged streams, safe outputs, bounded memory")
struct ReliabilityTests {
    /// A folder of its own for one test.
    static func folder() throws -> String {
        let path = HWGen.temporary("dir")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], _ path: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// No temporary file or folder of an output (`.hwgen-*`) is left in `dir`.
    static func expectNoTemporaries(_ dir: String, _ when: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".hwgen") }
        #expect(leftovers.isEmpty, "\(when): \(leftovers)", sourceLocation: sourceLocation)
    }

    /// Checks the failure shape: exit 1 (not a signal), one `Error:` line containing `message`.
    static func expectFailure(_ result: HWGen.Result, _ message: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(what): exit \(result.status): \(result.error)", sourceLocation: sourceLocation)
        let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(lines.count == 1, "\(what): \(result.error)", sourceLocation: sourceLocation)
        #expect(lines.first?.contains(message) == true, "\(what): \(result.error)", sourceLocation: sourceLocation)
    }

    static let tinyTANS = """
        {"format": "hwgen-codebook/1", "name": "t", "coder": "tans", "transform": "identity",
         "symbolBits": 2, "rawBits": 0, "tableLog": 5, "counts": [12, 9, 0, 0, 6, 5]}
        """

    static func book(_ dir: String, _ text: String = CLITests.tinyBook, _ name: String = "book.json") throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("raw values wider than --value-bits are an error naming the first and its byte offset (was heap corruption)")
    func wideRawValues() throws {
        let dir = try Self.folder()
        let bytes7 = try Self.write([1, 2, 3, 200, 5, 255], dir + "/b7.bin")
        Self.expectFailure(try HWGen.run(["train", "--coder", "huffman", "--transform", "identity", "--value-bits", "7", "--name", "x", "-o", dir + "/x.json", bytes7]),
                           "0xc8 at byte 3 does not fit in 7 bits", "value-bits 7")
        let ff = try Self.write([UInt8](repeating: 0xFF, count: 64), dir + "/ff.bin")
        Self.expectFailure(try HWGen.run(["train", "--coder", "tans", "--transform", "identity", "--value-bits", "4", "--name", "x", "-o", dir + "/x.json", ff]),
                           "0xff at byte 0 does not fit in 4 bits", "value-bits 4")
        let wide = try Self.write([0x01, 0x00, 0xFF, 0xFF], dir + "/w.bin")
        Self.expectFailure(try HWGen.run(["train", "--coder", "huffman", "--transform", "split", "--value-bits", "12", "--name", "x", "-o", dir + "/x.json", wide]),
                           "0xffff at byte 2 does not fit in 12 bits", "value-bits 12")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.json"))
        // analyze and encode read raw inputs at the codebook's width (the tiny book: 8 bits in one byte fits; 12-bit book below).
        let book12 = try Self.book(dir, """
            {"format": "hwgen-codebook/1", "name": "s", "coder": "huffman", "transform": "split", "symbolBits": 4, "rawBits": 8,
             "codeLengths": [2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0, 0, 0, 0, 0, 0, 6, 6]}
            """, "b12.json")
        Self.expectFailure(try HWGen.run(["analyze", "--codebook", book12, wide]), "does not fit in 12 bits", "analyze")
        Self.expectFailure(try HWGen.run(["encode", "--codebook", book12, wide, "-o", dir + "/x.hwgs"]), "does not fit in 12 bits", "encode")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.hwgs"))
        // Masking only when asked: then the low bits are coded.
        let masked = try HWGen.run(["train", "--coder", "huffman", "--transform", "identity", "--value-bits", "4", "--mask-values", "--name", "x", "-o", dir + "/m.json", ff])
        #expect(masked.status == 0, "\(masked.error)")
        let lowNibble = try Self.write([UInt8](repeating: 0x0F, count: 64), dir + "/0f.bin")
        #expect(try HWGen.run(["train", "--coder", "huffman", "--transform", "identity", "--value-bits", "4", "--name", "x", "-o", dir + "/n.json", lowNibble]).status == 0)
        #expect(try Self.read(dir + "/m.json") == (try Self.read(dir + "/n.json")))
        let help = try HWGen.run(["train", "--help"])
        #expect(help.output.contains("--mask-values"))
    }

    @Test("a tANS codebook whose counts sum past 2^63 is an error in every subcommand (was SIGILL)")
    func countOverflow() throws {
        let dir = try Self.folder()
        let huge = try Self.book(dir, Self.tinyTANS.replacingOccurrences(of: "[12, 9, 0, 0, 6, 5]", with: "[9223372036854775807, 9, 0, 0, 6, 5]"), "huge.json")
        let values = try Self.write([0, 1, 2, 3], dir + "/v.bin")
        let stream = dir + "/s.hwgs"
        let good = try Self.book(dir, Self.tinyTANS, "good.json")
        #expect(try HWGen.run(["encode", "--codebook", good, values, "-o", stream]).status == 0)
        let runs: [[String]] = [
            ["generate", "--codebook", huge, "-o", dir + "/rtl"],
            ["encode", "--codebook", huge, values, "-o", dir + "/x.hwgs"],
            ["decode", "--codebook", huge, stream, "-o", dir + "/x.bin"],
            ["decode", "--bare", "--codebook", huge, stream, "-o", dir + "/x.bin"],
            ["analyze", "--codebook", huge, values],
        ]
        for arguments in runs { Self.expectFailure(try HWGen.run(arguments), "sum to more than", arguments[0]) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/rtl"))
    }

    @Test("a safetensors shape whose byte size overflows is an error (was SIGILL)")
    func shapeOverflow() throws {
        let dir = try Self.folder()
        for shape in ["[4294967296, 4294967296]", "[4611686018427387904]", "[3037000500, 3037000500, 4]"] {
            let header = Array(#"{"x": {"dtype": "BF16", "shape": \#(shape), "data_offsets": [0, 4]}}"#.utf8)
            var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
            bytes += header + [0, 0, 0, 0]
            let path = try Self.write(bytes, dir + "/o.safetensors")
            Self.expectFailure(try HWGen.run(["train", "--coder", "huffman", "--name", "x", "-o", dir + "/x.json", path]), "overflows", shape)
        }
    }

    /// A real stream file of MiniLM weights and its codebook.
    static func realStream(_ dir: String, coder: String) throws -> (book: String, stream: String, raw: String) {
        let weights = try CLITests.weightsPath()
        let book = dir + "/\(coder).json", stream = dir + "/\(coder).hwgs", raw = dir + "/\(coder).bin"
        #expect(try HWGen.run(["train", "--coder", coder, "--tensors", "layer\\.1\\..*weight", "--name", "w", "-o", book, weights]).status == 0)
        #expect(try HWGen.run(["encode", "--codebook", book, "--frame-size", "4096", "--tensors", "layer\\.4\\..*query\\.weight", weights, "-o", stream]).status == 0)
        #expect(try HWGen.run(["decode", stream, "-o", raw]).status == 0)
        return (book, stream, raw)
    }

    @Test("decoding with another codebook of the same shape is an error, not garbage")
    func wrongCodebook() throws {
        let dir = try Self.folder()
        let (_, stream, _) = try Self.realStream(dir, coder: "huffman")
        let other = dir + "/other.json"
        let acts = try CLITests.dataPath("minilm_ffn1_acts_layers_1_4.bf16.safetensors")
        #expect(try HWGen.run(["train", "--coder", "huffman", "--tensors", "layer\\.1\\..*pre_gelu", "--name", "w", "-o", other, acts]).status == 0)
        Self.expectFailure(try HWGen.run(["decode", "--codebook", other, stream, "-o", dir + "/x.bin"]), "codes differently", "wrong codebook")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.bin"))
    }

    @Test("a stream file cut exactly at a frame boundary is an error, and leaves no output")
    func cutAtFrame() throws {
        let dir = try Self.folder()
        let (_, stream, _) = try Self.realStream(dir, coder: "tans")
        let bytes = try Self.read(stream)
        // Walk the frame headers to the start of frame 10.
        func word(_ i: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 * i + $1]) } }
        var at = 3 + (word(2) + 3) / 4
        for _ in 0..<9 { at += 3 + word(at) }
        let cut = try Self.write(Array(bytes[..<(4 * at)]), dir + "/cut.hwgs")
        Self.expectFailure(try HWGen.run(["decode", cut, "-o", dir + "/x.bin"]), "the file ends early, in frame 10's header", "cut")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.bin"))
    }

    @Test("random single-bit flips in real Huffman and tANS stream files: every one an error")
    func bitFlips() throws {
        let dir = try Self.folder()
        var state: UInt64 = 99
        for coder in ["huffman", "tans"] {
            let (_, stream, raw) = try Self.realStream(dir, coder: coder)
            let bytes = try Self.read(stream)
            let expected = try Self.read(raw)
            #expect(expected.count == 384 * 384 * 2)
            var errors = 0
            let flips = 40
            for _ in 0..<flips {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let bit = Int(state >> 33) % (bytes.count * 8)
                var damaged = bytes
                damaged[bit / 8] ^= 0x80 >> UInt8(bit % 8)
                let path = try Self.write(damaged, dir + "/d.hwgs")
                let result = try HWGen.run(["decode", path, "-o", dir + "/d.bin"])
                if result.status == 1, result.error.hasPrefix("Error:") { errors += 1 }
                #expect(!FileManager.default.fileExists(atPath: dir + "/d.bin"), "\(coder) bit \(bit) left an output")
            }
            #expect(errors == flips, "\(coder): \(errors) of \(flips) flips were errors")
        }
    }

    @Test("an output that is an input or the codebook is refused before anything is written")
    func outputIsInput() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir)
        let values = try Self.write((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }, dir + "/v.bin")
        let stream = dir + "/s.hwgs"
        #expect(try HWGen.run(["encode", "--codebook", book, values, "-o", stream]).status == 0)
        let before = (try Self.read(book), try Self.read(values), try Self.read(stream))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.hwgs", withDestinationPath: stream)
        try FileManager.default.linkItem(atPath: values, toPath: dir + "/hard.bin")
        let runs: [([String], String)] = [
            (["encode", "--codebook", book, values, "-o", values], "v.bin"),
            (["encode", "--codebook", book, values, "-o", book], "book.json"),
            (["decode", stream, "-o", stream], "s.hwgs"),
            (["decode", "--codebook", book, stream, "-o", book], "book.json"),
            (["decode", stream, "-o", dir + "/link.hwgs"], "link.hwgs"),
            (["encode", "--codebook", book, values, "-o", dir + "/hard.bin"], "hard.bin"),
            (["train", "--coder", "huffman", "--transform", "identity", "--value-bits", "8", "--name", "x", "-o", values, values], "v.bin"),
        ]
        for (arguments, name) in runs { Self.expectFailure(try HWGen.run(arguments), "refusing to write", name) }
        #expect(try Self.read(book) == before.0 && (try Self.read(values)) == before.1 && (try Self.read(stream)) == before.2)
        try Self.expectNoTemporaries(dir)
    }

    @Test("outputs onto a device, a FIFO or a symlink write through them; a long name is a one-line error")
    func specialOutputs() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir)
        let values = try Self.write((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 13) }, dir + "/v.bin")
        let stream = dir + "/s.hwgs"
        #expect(try HWGen.run(["encode", "--codebook", book, values, "-o", stream]).status == 0)
        let expected = try Self.read(stream)

        // /dev/null stays a character device.
        #expect(try HWGen.run(["encode", "--codebook", book, values, "-o", "/dev/null"]).status == 0)
        let null = try FileManager.default.attributesOfItem(atPath: "/dev/null")
        #expect(null[.type] as? FileAttributeType == .typeCharacterSpecial)

        // A FIFO: a reader gets the stream through it, and it is still a FIFO afterwards.
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", fifo, dir + "/through-fifo"]
        try reader.run()
        #expect(try HWGen.run(["encode", "--codebook", book, values, "-o", fifo]).status == 0)
        reader.waitUntilExit()
        #expect(try Self.read(dir + "/through-fifo") == expected)
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)

        // A symlink stays a symlink; its target gets the output.
        let target = dir + "/target.hwgs", link = dir + "/link.hwgs"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.hwgs")
        #expect(try HWGen.run(["encode", "--codebook", book, values, "-o", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "target.hwgs")
        #expect(try Self.read(target) == expected)

        // A 300-character name: one line naming the path and the reason.
        let long = dir + "/" + String(repeating: "n", count: 300) + ".hwgs"
        Self.expectFailure(try HWGen.run(["encode", "--codebook", book, values, "-o", long]), "File name too long", "long name")
        Self.expectFailure(try HWGen.run(["encode", "--codebook", book, values, "-o", dir + "/missing/x.hwgs"]), "No such file or directory", "no folder")
        Self.expectFailure(try HWGen.run(["encode", "--codebook", book, values, "-o", dir]), "it is a folder", "a folder")
        try Self.expectNoTemporaries(dir)
    }

    @Test("- reads standard input and writes standard output; --bare writes and reads bare frames")
    func pipesAndBare() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir)
        let values = Data((0..<20_000).map { UInt8(truncatingIfNeeded: ($0 * 37) ^ ($0 >> 5)) })
        let (encStatus, stream, encError) = try HWGen.runBinary(["encode", "--codebook", book, "-", "-o", "-"], input: values)
        #expect(encStatus == 0, "\(String(decoding: encError, as: UTF8.self))")
        #expect(stream.prefix(4) == Data("HWGS".utf8))
        #expect(String(decoding: encError, as: UTF8.self).contains("20000 values"))
        let (decStatus, decoded, _) = try HWGen.runBinary(["decode", "-", "-o", "-"], input: stream)
        #expect(decStatus == 0 && decoded == values)

        let bare = dir + "/bare.bin", out = dir + "/out.bin"
        let input = try Self.write(Array(values), dir + "/v.bin")
        #expect(try HWGen.run(["encode", "--bare", "--codebook", book, "--frame-size", "999", input, "-o", bare]).status == 0)
        let bareBytes = try Self.read(bare)
        #expect(Array(bareBytes.prefix(4)) != Array("HWGS".utf8))
        #expect(try HWGen.run(["decode", "--bare", "--codebook", book, bare, "-o", out]).status == 0)
        #expect(try Self.read(out) == Array(values))
        // A usage error: exit 64 (EX_USAGE), one line.
        let usage = try HWGen.run(["decode", "--bare", bare, "-o", out])
        #expect(usage.status == 64)
        #expect(usage.error.split(separator: "\n").filter { $0.hasPrefix("Error:") } == ["Error: --bare needs --codebook: bare frames do not say how they were coded"])
        Self.expectFailure(try HWGen.run(["decode", bare, "-o", dir + "/y.bin"]), "not a stream file", "bare read as a file")
        // Bare frames cut inside a frame are still caught.
        let cut = try Self.write(Array(bareBytes.dropLast(8)), dir + "/cut.bin")
        Self.expectFailure(try HWGen.run(["decode", "--bare", "--codebook", book, cut, "-o", dir + "/z.bin"]), "ends inside the frame", "cut bare")
    }

    @Test("decode on one thread and on several gives the same bytes")
    func threads() throws {
        let dir = try Self.folder()
        let (_, stream, raw) = try Self.realStream(dir, coder: "tans")
        for threads in ["1", "2", "3"] {
            #expect(try HWGen.run(["decode", "--threads", threads, stream, "-o", dir + "/t.bin"]).status == 0)
            #expect(try Self.read(dir + "/t.bin") == (try Self.read(raw)))
        }
    }

    @Test("a failed generate writes nothing: an old decoder is not left beside a new encoder or the reverse")
    func generateAllOrNone() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir)
        let rtl = dir + "/rtl"
        #expect(try HWGen.run(["generate", "--codebook", book, "-o", rtl]).status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: rtl).sorted()
        #expect(names.contains("tiny_decoder.v") && names.contains("tiny_encoder.v"))
        // Mark the old files, then make the encoder's target a folder: the run must fail as a whole.
        for name in names { try "old \(name)\n".write(toFile: rtl + "/" + name, atomically: true, encoding: .utf8) }
        try FileManager.default.removeItem(atPath: rtl + "/tiny_encoder.v")
        try FileManager.default.createDirectory(atPath: rtl + "/tiny_encoder.v", withIntermediateDirectories: false)
        Self.expectFailure(try HWGen.run(["generate", "--codebook", book, "-o", rtl]), "tiny_encoder.v: it is a folder", "generate")
        for name in names where name != "tiny_encoder.v" {
            #expect(try String(contentsOfFile: rtl + "/" + name, encoding: .utf8) == "old \(name)\n", "\(name) was replaced")
        }
        try Self.expectNoTemporaries(rtl)
        // A codebook that breaks a rule: no folder is created.
        let bad = try Self.book(dir, CLITests.tinyBook.replacingOccurrences(of: "[2, 2, 3,", with: "[1, 1, 3,"), "bad.json")
        Self.expectFailure(try HWGen.run(["generate", "--codebook", bad, "-o", dir + "/new"]), "Kraft sum", "bad codebook")
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
    }

    @Test("an interrupted encode leaves neither a temporary file nor a partial output")
    func interrupted() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir)
        // 48 MiB of raw bytes: long enough that the signal lands mid-write.
        var bytes = [UInt8](repeating: 0, count: 48 << 20)
        var state: UInt32 = 1
        for i in bytes.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes[i] = UInt8(truncatingIfNeeded: state >> 24) & 0x3F
        }
        let input = try Self.write(bytes, dir + "/big.bin")
        for (delay, signal) in [(150_000, SIGTERM), (400_000, SIGINT), (800_000, SIGTERM)] {
            let output = dir + "/out-\(delay).hwgs"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: HWGen.executable)
            process.arguments = ["encode", "--codebook", book, input, "-o", output]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(delay))
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            try Self.expectNoTemporaries(dir, "after \(delay) us")
            if FileManager.default.fileExists(atPath: output) {
                // Finished before the signal: then it must be whole.
                #expect(process.terminationStatus == 0)
                #expect(try HWGen.run(["decode", output, "-o", dir + "/check.bin"]).status == 0)
            } else {
                #expect(process.terminationReason == .uncaughtSignal, "after \(delay) us: exit \(process.terminationStatus)")
            }
        }
    }

    @Test("encode, decode, train and analyze stream: peak memory stays below the input's size")
    func boundedMemory() throws {
        let dir = try Self.folder()
        let book = try Self.book(dir, CLITests.tinyBook.replacingOccurrences(of: "\"rawBits\": 4", with: "\"rawBits\": 12"), "b16.json")
        // 16 Mi 16-bit values (32 MiB; 96 MiB in the long tier): holding them as 32-bit values
        // would take twice the file's size, reading the file whole its size.
        let count = TestScale.pick(quick: 16 << 20, long: 48 << 20)
        let bound = TestScale.pick(quick: 64.0, long: 160.0)
        var bytes = [UInt8](repeating: 0, count: 2 * count)
        var state: UInt32 = 7
        for i in 0..<count {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes[2 * i] = UInt8(truncatingIfNeeded: state >> 8)
            bytes[2 * i + 1] = UInt8(truncatingIfNeeded: state >> 29)
        }
        let input = try Self.write(bytes, dir + "/big.bin")
        bytes = []
        func peak(_ arguments: [String]) throws -> Double {
            let result = try HWGen.run(arguments + ["--stats"])
            #expect(result.status == 0, "\(arguments[0]): \(result.error)")
            guard let line = result.error.split(separator: "\n").first(where: { $0.hasPrefix("stats:") }),
                  let mib = line.split(separator: " ").dropLast().last.flatMap({ Double($0) }) else {
                Issue.record("\(arguments[0]) printed no stats: \(result.error)")
                return .infinity
            }
            return mib
        }
        let stream = dir + "/big.hwgs"
        let encode = try peak(["encode", "--codebook", book, input, "-o", stream])
        let decode = try peak(["decode", stream, "-o", dir + "/back.bin"])
        let train = try peak(["train", "--coder", "huffman", "--transform", "split", "--symbol-bits", "4", "--name", "b", "-o", dir + "/t.json", input])
        let analyze = try peak(["analyze", "--codebook", book, "--totals", input])
        for (name, mib) in [("encode", encode), ("decode", decode), ("train", train), ("analyze", analyze)] {
            #expect(mib < bound, "\(name) peaked at \(mib) MiB for a \(2 * count >> 20) MiB input")
        }
        #expect(FileManager.default.contentsEqual(atPath: input, andPath: dir + "/back.bin"))
    }
}
