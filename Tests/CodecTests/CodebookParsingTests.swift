import Codec
import Testing

private func parse(_ text: String) throws(CodebookError) -> Codebook { try Codebook.parse(Array(text.utf8)) }

private let tinyHuffman = """
    {"format": "hwgen-codebook/1", "name": "t", "coder": "huffman", "transform": "identity",
     "symbolBits": 2, "rawBits": 0, "codeLengths": [1, 2, 0, 0, 3, 3]}
    """

@Suite("Codebook JSON: every rule of FORMAT.md section 3 is enforced")
struct CodebookParsingTests {
    @Test("a valid codebook parses, and writing it back gives the same codebook")
    func roundTrip() throws {
        let book = try parse(tinyHuffman)
        #expect(book.coder == .huffman(codeLengths: [1, 2, 0, 0, 3, 3]))
        #expect(book.layout == ValueLayout(transform: .identity, symbolBits: 2, rawBits: 0))
        #expect(try Codebook.parse(Array(book.jsonText().utf8)) == book)
    }

    @Test("the fingerprint: CRC-32C of the canonical coding line, the same for the same bits, different for any coding field")
    func fingerprint() throws {
        let text = """
            {"format": "hwgen-codebook/1", "name": "tiny", "coder": "huffman", "transform": "split",
             "symbolBits": 4, "rawBits": 4, "codeLengths": [2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 0, 0, 0, 0, 0, 0, 6, 6]}
            """
        let book = try parse(text)
        // docs/FORMAT.md's example, its CRC computed bit by bit outside this project (Python).
        #expect(book.canonicalCodingText == #"{"coder":"huffman","transform":"split","symbolBits":4,"rawBits":4,"lanes":1,"codeLengths":[2,2,3,3,4,4,5,5,6,6,0,0,0,0,0,0,6,6]}"#)
        #expect(book.fingerprint == 0x3fc2_02a7)
        // Name, provenance, key order and spacing change no bit and no fingerprint.
        let renamed = try parse(#"{"rawBits":4,"symbolBits":4,"name":"other","provenance":{"by":"me"},"format":"hwgen-codebook/1","coder":"huffman","transform":"split","codeLengths":[2,2,3,3,4,4,5,5,6,6,0,0,0,0,0,0,6,6]}"#)
        #expect(renamed.fingerprint == book.fingerprint)
        var lanes = book
        lanes.lanes = 2
        let changed = try parse(text.replacingOccurrences(of: "[2, 2, 3, 3", with: "[2, 2, 3, 4").replacingOccurrences(of: "5, 5, 6, 6, 0", with: "5, 5, 5, 6, 0"))
        #expect(Set([book.fingerprint, lanes.fingerprint, changed.fingerprint]).count == 3)
    }

    @Test("provenance may hold anything, floats included")
    func provenance() throws {
        let text = tinyHuffman.replacingOccurrences(of: "}", with: ", \"provenance\": {\"gap\": 0.25, \"ok\": true, \"list\": [1.5, null]}}")
        let book = try parse(text)
        #expect(book.provenance?.text == #"{"gap": 0.25, "ok": true, "list": [1.5, null]}"#)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let from: String
        let to: String
        let expected: CodebookError
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "Kraft sum above 1", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 2, 0, 3, 3]",
             expected: .invalid(key: "codeLengths", rule: "Kraft sum 1.25 exceeds 1: no prefix code has these lengths")),
        Case(label: "length above 16", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 0, 17, 3, 3]",
             expected: .invalid(key: "codeLengths", rule: "entry 3 is 17; lengths are 0 to 16")),
        Case(label: "ESC without a length", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 0, 0, 0, 3]",
             expected: .invalid(key: "codeLengths", rule: "ESC (entry 4) must have a non-zero length")),
        Case(label: "EOF without a length", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 0, 0, 3, 0]",
             expected: .invalid(key: "codeLengths", rule: "EOF (entry 5) must have a non-zero length")),
        Case(label: "wrong number of lengths", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 0, 3, 3]",
             expected: .invalid(key: "codeLengths", rule: "must have n + 2 = 6 entries for symbolBits 2, has 5")),
        Case(label: "unknown key", from: "\"rawBits\": 0", to: "\"rawBits\": 0, \"extra\": 1",
             expected: .unknownKey("extra", reason: "allowed keys are codeLengths, coder, format, name, provenance, rawBits, symbolBits, transform")),
        Case(label: "a key of the other coder", from: "\"rawBits\": 0", to: "\"rawBits\": 0, \"tableLog\": 5",
             expected: .unknownKey("tableLog", reason: "it belongs to the tans coder, this codebook is huffman")),
        Case(label: "duplicate key", from: "\"rawBits\": 0", to: "\"rawBits\": 0, \"rawBits\": 0",
             expected: .syntax(JSONSyntaxError(offset: 121, message: "duplicate key 'rawBits'"))),
        Case(label: "8.0 is not an integer", from: "\"symbolBits\": 2", to: "\"symbolBits\": 2.0",
             expected: .wrongType(key: "symbolBits", expected: "an integer", found: "2.0")),
        Case(label: "true is not an integer", from: "\"rawBits\": 0", to: "\"rawBits\": true",
             expected: .wrongType(key: "rawBits", expected: "an integer", found: "true")),
        Case(label: "a float inside codeLengths", from: "[1, 2, 0, 0, 3, 3]", to: "[1, 2, 0, 0, 3e0, 3]",
             expected: .wrongType(key: "codeLengths[4]", expected: "an integer", found: "3e0")),
        Case(label: "missing key", from: "\"rawBits\": 0,", to: "",
             expected: .missingKey("rawBits")),
        Case(label: "wrong format tag", from: "hwgen-codebook/1", to: "hwgen-codebook/3",
             expected: .invalid(key: "format", rule: "must be \"hwgen-codebook/1\" or \"hwgen-codebook/2\", is \"hwgen-codebook/3\"")),
        Case(label: "version 2 without lanes", from: "hwgen-codebook/1", to: "hwgen-codebook/2", expected: .missingKey("lanes")),
        Case(label: "lanes in version 1", from: "\"rawBits\": 0", to: "\"rawBits\": 0, \"lanes\": 2",
             expected: .unknownKey("lanes", reason: "version 1 (hwgen-codebook/1) has one lane and no 'lanes' key; lanes need hwgen-codebook/2")),
        Case(label: "bad name", from: "\"name\": \"t\"", to: "\"name\": \"9t\"",
             expected: .invalid(key: "name", rule: "'9t' must match [A-Za-z_][A-Za-z0-9_]*")),
        Case(label: "unknown coder", from: "\"huffman\"", to: "\"rans\"",
             expected: .invalid(key: "coder", rule: "must be \"huffman\" or \"tans\", is \"rans\"")),
        Case(label: "unknown transform", from: "\"identity\"", to: "\"log\"",
             expected: .invalid(key: "transform", rule: "must be identity, split or bf16-exponent, is \"log\"")),
        Case(label: "identity with raw bits", from: "\"rawBits\": 0", to: "\"rawBits\": 3",
             expected: .invalid(key: "rawBits", rule: "the identity transform requires rawBits 0, is 3")),
        Case(label: "symbolBits 13", from: "\"symbolBits\": 2", to: "\"symbolBits\": 13",
             expected: .invalid(key: "symbolBits", rule: "must be 1 to 12, is 13")),
        Case(label: "a string where an integer belongs", from: "\"symbolBits\": 2", to: "\"symbolBits\": \"2\"",
             expected: .wrongType(key: "symbolBits", expected: "an integer", found: "a value of another type")),
        Case(label: "malformed JSON", from: "}", to: "",
             expected: .syntax(JSONSyntaxError(offset: 154, message: "unterminated object"))),
    ]

    @Test("each violation is a typed error naming the key and the rule", arguments: cases)
    func violation(_ c: Case) {
        let text = tinyHuffman.replacingOccurrences(of: c.from, with: c.to)
        #expect(text != tinyHuffman, "the case must change the text")
        #expect(throws: c.expected) { try parse(text) }
    }

    @Test("tANS: counts must sum to 2^tableLog, tableLog 5 to 15")
    func tansRules() {
        let good = """
            {"format": "hwgen-codebook/1", "name": "t", "coder": "tans", "transform": "identity",
             "symbolBits": 2, "rawBits": 0, "tableLog": 5, "counts": [12, 9, 0, 0, 6, 5]}
            """
        #expect(throws: Never.self) { try parse(good) }
        #expect(throws: CodebookError.invalid(key: "counts", rule: "must sum to 2^tableLog = 32, sum to 33")) {
            try parse(good.replacingOccurrences(of: "[12,", with: "[13,"))
        }
        #expect(throws: CodebookError.invalid(key: "tableLog", rule: "must be 5 to 15, is 4")) {
            try parse(good.replacingOccurrences(of: "\"tableLog\": 5", with: "\"tableLog\": 4"))
        }
        #expect(throws: CodebookError.invalid(key: "counts", rule: "ESC (entry 4) must have a non-zero count")) {
            try parse(good.replacingOccurrences(of: "0, 6, 5]", with: "6, 0, 5]"))
        }
        #expect(throws: CodebookError.unknownKey("codeLengths", reason: "it belongs to the huffman coder, this codebook is tans")) {
            try parse(good.replacingOccurrences(of: "\"tableLog\": 5", with: "\"tableLog\": 5, \"codeLengths\": []"))
        }
    }

    @Test("error messages read well")
    func messages() {
        #expect(CodebookError.invalid(key: "codeLengths", rule: "Kraft sum 1.25 exceeds 1").description
                == "codebook: 'codeLengths': Kraft sum 1.25 exceeds 1")
        #expect(CodebookError.missingKey("rawBits").description == "codebook: missing required key 'rawBits'")
    }
}
