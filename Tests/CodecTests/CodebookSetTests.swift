import Codec
import Foundation
import TestSupport
import Testing

/// Codebook sets (FORMAT.md section 13) in software: vector 22's files accepted or refused by
/// the rule they break, and its stream coded frame by frame with each frame's member.
@Suite("Codebook sets: vector 22's files and stream")
struct CodebookSetTests {
    /// The words that name each bad file's rule in the error (the README's verdicts).
    static let rules: [String: String] = [
        "bad-mixed-coders.json": "one coder per set",
        "bad-value-width.json": "one value width per set",
        "bad-duplicate-name.json": "names must be distinct",
        "bad-lanes-differ.json": "one lane count per set",
        "bad-lanes-v1-v2.json": "one lane count per set",
        "bad-empty.json": "1 to 256 codebooks, this one none",
        "bad-257.json": "1 to 256 codebooks, this one 257",
        "bad-unknown-key.json": "unknown key",
        "bad-format.json": "'format' must be \"hwgen-codebook-set/1\"",
        "bad-member.json": "codebook set: codebook ",
        "bad-duplicate-key.json": "duplicate key",
        "bad-name.json": "the set's name",
        "bad-not-object.json": "the top level must be a JSON object",
    ]

    @Test("every good file is accepted, its members in id order, and reads the same written back; every bad file is refused, naming its rule")
    func files() throws {
        let vector = try SetVector.load()
        #expect(vector.files.count == 17)
        for (name, bytes) in vector.files {
            if name.hasPrefix("good-") {
                let set = try CodebookSet.parse(bytes)
                // Members in id order: each equals the codebook its own entry parses to.
                guard case .object(let keys) = try StrictJSON.parse(bytes), case .array(let items)? = keys.first(where: { $0.key == "codebooks" })?.value
                else { Issue.record("\(name): no codebooks array"); continue }
                #expect(set.members.map(\.name) == items.map { item -> String in
                    if case .object(let fields) = item, case .string(let s)? = fields.first(where: { $0.key == "name" })?.value { return s }
                    return "?"
                }, "\(name)")
                #expect(set.idBits == max(1, Int(ceil(log2(Double(set.members.count))))), "\(name)")
                // Written back, it reads as the same set.
                let text = set.jsonText()
                #expect(try CodebookSet.parse(Array(text.utf8)) == set, "\(name) written back")
                #expect(text.contains("\"format\": \"hwgen-codebook-set/1\""))
            } else {
                guard let rule = Self.rules[name] else { Issue.record("\(name): no rule listed in this test"); continue }
                do {
                    _ = try CodebookSet.parse(bytes)
                    Issue.record("\(name) was accepted")
                } catch {
                    #expect("\(error)".contains(rule), "\(name): \(error)")
                    #expect(!"\(error)".contains("\n"), "\(name): one line")
                }
            }
        }
    }

    @Test("the stream: each frame coded by its member alone gives stream.hex, and decodes back to values.hex")
    func stream() throws {
        let vector = try SetVector.load()
        let bytes = try #require(vector.files.first { $0.name == "good-huffman-32bit.json" }).bytes
        let set = try CodebookSet.parse(bytes)
        #expect(Set(vector.ids) == Set(set.members.indices), "the frames use every member")
        let encoded = try set.encodeFrames(vector.values, frameSizes: vector.frameSizes, ids: vector.ids)
        #expect(encoded.bytes == vector.stream)
        // Against each member's own coder, frame by frame (not the set's loop against itself).
        var start = 0, offset = 0
        for (size, id) in zip(vector.frameSizes, vector.ids) {
            let alone = try StreamCodec(codebook: set.members[id]).encode(Array(vector.values[start..<start + size]), frameSizes: [size])
            #expect(Array(vector.stream[offset..<offset + alone.count]) == alone, "frame at value \(start), id \(id)")
            start += size
            offset += alone.count
        }
        let decoded = try set.decodeFrames(vector.stream, ids: vector.ids)
        #expect(decoded.values == vector.values && decoded.frameSizes == vector.frameSizes)
        // Wrong ids: an id past the set is refused by name; a frame read with the other member
        // does not give the values back.
        #expect(throws: CodebookSetError.unknownId(2, count: 2)) { try set.decodeFrames(vector.stream, ids: vector.ids.map { $0 == 1 ? 2 : $0 }) }
        let swapped = try? set.decodeFrames(vector.stream, ids: vector.ids.map { 1 - $0 })
        #expect(swapped?.values != vector.values)
    }
}
