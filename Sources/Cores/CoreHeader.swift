import Codec
import HDL

/// hwgen's release number, stated in every generated core and by `hwgen --version`.
///
/// Headers state only this, not the source revision (which `--version` adds), so that committed
/// Verilog does not change with every commit.
public enum HWGenRelease {
    public static let version = "0.7.0"
}

/// The lines every generated core states about itself at the top of its Verilog: which codebook
/// it was built from (name, fingerprint, provenance), by which hwgen, and its timing.
enum CoreHeader {
    /// Adds the lines: the fingerprint (FORMAT.md, "Codebook fingerprint"), the codebook's
    /// provenance (its string and number fields, one line), the version, and `timing`.
    /// `tables` names each packed table word (ROM or register) with its field layout.
    static func describe(_ m: ModuleBuilder, codebook: Codebook, timing: [String], tables: [(name: String, layout: WordLayout)] = []) {
        m.comment(String(format: "Codebook fingerprint: CRC-32C 0x%08x of its canonical coding fields (docs/FORMAT.md); hwgen %@.",
                         codebook.fingerprint, HWGenRelease.version))
        if let provenance = provenanceLine(codebook.provenance) { m.comment("Provenance: " + provenance) }
        for line in timing { m.comment(line) }
        for (name, layout) in tables { m.comment("Word of \(name) (\(layout.width) bits): \(layout).") }
    }

    /// The provenance's top-level strings and numbers as `key: value; ...` (long values cut, no
    /// characters that could end a comment line), or nil when there are none.
    static func provenanceLine(_ provenance: JSONValue?) -> String? {
        guard case .object(let members)? = provenance else { return nil }
        var parts: [String] = []
        for (key, value) in members {
            let text: String
            switch value {
            case .string(let s): text = s
            case .number(let n, _): text = n
            default: continue
            }
            let clean = String((key + ": " + text).map { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true ? " " : $0 })
            parts.append(clean.count > 120 ? String(clean.prefix(117)) + "..." : clean)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
