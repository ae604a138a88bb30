import ArgumentParser
import Codec
import Foundation
import Training

/// How `train --set` and `analyze` group tensors into the members of a codebook set.
struct SetGroupingOptions: ParsableArguments {
    @Option(name: .customLong("group"), help: ArgumentHelp(
        "A member of the set: name=regex, the tensors whose name contains a match (repeat; a tensor joins the first group it matches).",
        discussion: "For example --group attn=attention --group ffn='intermediate|output.dense' --group rest=."))
    var groups: [String] = []
    @Flag(help: "One member per tensor (per-matrix models, as Liguori's).") var perTensor = false
    @Flag(name: .customLong("by-dtype"), help: "Members apart per dtype (BF16 and F16 tensors of one group get a codebook each).") var byDType = false

    /// Whether any grouping was asked for.
    var given: Bool { !groups.isEmpty || perTensor || byDType }

    func grouping() throws -> TensorGrouping {
        try TensorGrouping(rules: groups, perTensor: perTensor, byDType: byDType)
    }
}

/// Prints what each group of a set gains: bits per value and ratio with its own codebook and
/// with the pooled one, and the entropy bound.
func printSetReport(_ set: CodebookSet, _ report: [SetGroupReport]) {
    print("set \(set.name): \(set.members.count) \(set.members[0].coder.name) codebook(s); bits per value with the group's own codebook, with one codebook pooled over all groups, and the entropy bound")
    print("id  member".padding(toLength: 40, withPad: " ", startingAt: 0) + "  dtype  tensors       values     own  pooled  entropy  own-ratio  pooled-ratio  gain%")
    var ownBits = 0.0, pooledBits = 0.0, values = 0
    for (id, row) in report.enumerated() {
        let member = row.member.count > 36 ? "..." + row.member.suffix(33) : row.member
        print(("\(id)".padding(toLength: 4, withPad: " ", startingAt: 0) + member).padding(toLength: 40, withPad: " ", startingAt: 0)
              + String(format: "  %5@  %7d  %11d  %6.4f  %6.4f   %6.4f     %6.3f        %6.3f  %5.2f",
                       row.dtype ?? "-", row.tensors, row.values, row.ownBitsPerValue, row.pooledBitsPerValue, row.entropyBitsPerValue,
                       row.ownRatio, row.pooledRatio, 100 * (row.pooledBitsPerValue / row.ownBitsPerValue - 1)))
        ownBits += row.ownBitsPerValue * Double(row.values)
        pooledBits += row.pooledBitsPerValue * Double(row.values)
        values += row.values
    }
    if let width = report.first?.valueBits, values > 0 {
        print(String(format: "all groups: %d values, own %.4f bits/value (ratio %.3f), pooled %.4f (ratio %.3f): the set saves %.2f%%",
                     values, ownBits / Double(values), Double(width * values) / ownBits, pooledBits / Double(values),
                     Double(width * values) / pooledBits, 100 * (1 - ownBits / pooledBits)))
    }
}
