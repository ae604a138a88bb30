import Codec
import Foundation

/// How the tensors of a model are grouped into the members of a codebook set (FORMAT.md
/// section 13): by rules `name=regex` (a tensor joins the first rule whose expression its name
/// contains), one group per tensor (Liguori's per-matrix models), and in either case, if asked,
/// apart per dtype.
public struct TensorGrouping {
    /// A rule: tensors whose name contains a match of `pattern` form the group `name`.
    public struct Rule {
        public let name: String
        public let pattern: String
        let regex: Regex<AnyRegexOutput>
    }

    /// One group: its member's name suffix, the expression that selects its tensors, its dtype
    /// (when grouped by dtype).
    public struct Group: Hashable, Sendable {
        public let key: String
        public let pattern: String
        public let dtype: TensorDType?
        /// The rule's place in the list (0 per tensor or without rules): members follow it, so
        /// that a tensor's first matching member is its group's.
        public let rule: Int
    }

    public let rules: [Rule]
    public let perTensor: Bool
    public let byDType: Bool

    /// Parses `rules` (`name=regex` each, names identifiers, distinct). With no rules and not per
    /// tensor, every tensor is in one group `all` (split by dtype if asked).
    /// - Throws: `TrainingError.invalidOption` naming the bad rule.
    public init(rules: [String], perTensor: Bool, byDType: Bool) throws {
        if perTensor && !rules.isEmpty { throw TrainingError.invalidOption("--per-tensor and --group are two ways to group tensors: give one") }
        var parsed: [Rule] = []
        for text in rules {
            guard let equals = text.firstIndex(of: "=") else {
                throw TrainingError.invalidOption("--group '\(text)' must be name=regex (for example attn=attention)")
            }
            let name = String(text[..<equals]), pattern = String(text[text.index(after: equals)...])
            guard Codebook.isValidName(name) else { throw TrainingError.invalidOption("--group '\(text)': the name '\(name)' must match [A-Za-z_][A-Za-z0-9_]*") }
            guard !parsed.contains(where: { $0.name == name }) else { throw TrainingError.invalidOption("--group: two groups are named '\(name)'") }
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                throw TrainingError.invalidOption("--group '\(text)': '\(pattern)' is not a regular expression: \(error)")
            }
            parsed.append(Rule(name: name, pattern: pattern, regex: regex))
        }
        self.rules = parsed
        self.perTensor = perTensor
        self.byDType = byDType
    }

    /// The group of tensor `name` of `dtype`, or nil when it matches no rule.
    public func group(of name: String, dtype: TensorDType) -> Group? {
        let base: (key: String, pattern: String, rule: Int)
        if perTensor {
            base = (Self.identifier(name), "^" + NSRegularExpression.escapedPattern(for: name) + "$", 0)
        } else if rules.isEmpty {
            base = ("all", ".", 0)
        } else {
            guard let index = rules.firstIndex(where: { name.contains($0.regex) }) else { return nil }
            base = (rules[index].name, rules[index].pattern, index)
        }
        return byDType ? Group(key: base.key + "_" + dtype.rawValue.lowercased(), pattern: base.pattern, dtype: dtype, rule: base.rule)
            : Group(key: base.key, pattern: base.pattern, dtype: nil, rule: base.rule)
    }

    /// `text` as an identifier: characters other than letters, digits and `_` become `_`, and
    /// a leading digit gets a `t` before it.
    static func identifier(_ text: String) -> String {
        let mapped = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return mapped.first.map { $0.isNumber } ?? true ? "t" + mapped : mapped
    }
}

/// What one group of a set gains over one codebook for all: its values coded by its own
/// codebook, by the codebook trained on every group pooled, and its entropy bound.
public struct SetGroupReport: Sendable, Equatable, Codable {
    public let member: String
    public let pattern: String
    public let dtype: String?
    public let tensors: Int
    public let values: Int
    public let valueBits: Int
    /// Bits per value (codes, raw bits and one EOF per shard) with the group's own codebook.
    public let ownBitsPerValue: Double
    /// The same with the pooled codebook.
    public let pooledBitsPerValue: Double
    /// The entropy of the group's symbols under its own layout, plus its raw bits.
    public let entropyBitsPerValue: Double

    public var ownRatio: Double { Double(valueBits) / ownBitsPerValue }
    public var pooledRatio: Double { Double(valueBits) / pooledBitsPerValue }
}

/// Trains a codebook set: one pass over the selected tensors, each counted into its group's
/// statistics and into the pooled ones; one codebook per group (in rule order, then in the order
/// groups are first met), and the pooled codebook for the report.
public enum SetTrainer {
    /// - Parameters:
    ///   - files: safetensors files (tensors in file order).
    ///   - pattern: a regular expression selecting tensors (nil: all).
    ///   - transform: per dtype, the transform choice (`TrainingOptions.defaultTransform` if nil).
    ///   - options: the set's name in `name`; coder, lengths and shard size for every member.
    /// - Throws: `TrainingError` for a tensor in no group, groups of different value widths, or
    ///   bad options; `TensorFileError` for a file that cannot be read.
    public static func train(files: [String], tensors pattern: String?, grouping: TensorGrouping, options: TrainingOptions,
                             transform: TrainingOptions.TransformChoice?, roundF32ToBF16: Bool = false,
                             progress: (String) -> Void = { _ in }) throws -> (set: CodebookSet, report: [SetGroupReport]) {
        struct Pending {
            let group: TensorGrouping.Group
            var statistics: HistogramAccumulator
            var tensors = 0
            var dtype: TensorDType
        }
        var groups: [Pending] = []
        var pooled: HistogramAccumulator? = nil
        var choice: TrainingOptions.TransformChoice? = transform
        var valueBits: Int? = nil
        for path in files {
            let file = try SafetensorsFile(path: path)
            for tensor in try file.select(pattern) {
                guard let group = grouping.group(of: tensor.name, dtype: tensor.dtype) else {
                    throw TrainingError.invalidOption("tensor '\(tensor.name)' of \(path) matches no --group: add a rule for it, or a last catch-all such as --group rest=.")
                }
                let bits = SafetensorsFile.valueBits(of: tensor.dtype, roundF32ToBF16: roundF32ToBF16)
                if let known = valueBits, known != bits {
                    throw TrainingError.invalidOption("tensor '\(tensor.name)' has \(bits)-bit values (\(tensor.dtype.rawValue)), the tensors before it \(known)-bit: a set codes one value width (select tensors with --tensors)")
                }
                valueBits = bits
                let dtypeName = roundF32ToBF16 && tensor.dtype == .f32 ? TrainingOptions.roundedF32DType : tensor.dtype.rawValue
                let chosen = choice ?? TrainingOptions.defaultTransform(dtype: dtypeName, valueBits: bits)
                choice = chosen
                let layouts = try Trainer.candidateLayouts(valueBits: bits, choice: chosen)
                if pooled == nil { pooled = HistogramAccumulator(valueBits: bits, layouts: layouts) }
                let index: Int
                if let found = groups.firstIndex(where: { $0.group == group }) {
                    index = found
                } else {
                    groups.append(Pending(group: group, statistics: HistogramAccumulator(valueBits: bits, layouts: layouts), dtype: tensor.dtype))
                    index = groups.count - 1
                }
                groups[index].tensors += 1
                var start = 0
                while start < tensor.count {
                    let end = min(tensor.count, start + TensorInput.defaultChunk)
                    let values = try file.values(of: tensor, elements: start..<end, roundF32ToBF16: roundF32ToBF16)
                    try groups[index].statistics.add(values)
                    try pooled?.add(values)
                    start = end
                }
            }
        }
        guard let pooled, let valueBits, !groups.isEmpty else { throw TrainingError.noValues }
        guard groups.count <= CodebookSet.maxMembers else {
            throw TrainingError.invalidOption("\(groups.count) groups: a set holds at most \(CodebookSet.maxMembers) codebooks")
        }
        var pooledOptions = options
        pooledOptions.name = options.name + "_pooled"
        let pooledBest = try Trainer.train(pooled, options: pooledOptions).best
        let pooledLayout = pooledBest.codebook.layout
        var members: [Codebook] = []
        var report: [SetGroupReport] = []
        // Members in rule order (then in the order met), so that the first member whose
        // expression a tensor matches is the one it trained.
        let ordered = groups.enumerated().sorted { ($0.element.group.rule, $0.offset) < ($1.element.group.rule, $1.offset) }.map(\.element)
        for pending in ordered {
            var memberOptions = options
            memberOptions.name = options.name + "_" + pending.group.key
            memberOptions.sourceDType = pending.dtype.rawValue
            let best = try Trainer.train(pending.statistics, options: memberOptions).best
            var provenance: [(key: String, value: JSONValue)] = []
            if case .object(let fields)? = best.codebook.provenance { provenance = fields }
            provenance.append(("group", .string(pending.group.key)))
            provenance.append(("tensors", .string(pending.group.pattern)))
            if let dtype = pending.group.dtype { provenance.append(("groupDType", .string(dtype.rawValue))) }
            provenance.append(("tensorCount", .number(text: "\(pending.tensors)", integer: Int64(pending.tensors))))
            members.append(try Codebook(name: best.codebook.name, coder: best.codebook.coder, layout: best.codebook.layout,
                                        lanes: best.codebook.lanes, provenance: .object(provenance)))
            let values = pending.statistics.count
            let shards = (values + options.shardSize - 1) / options.shardSize
            let pooledIndex = pending.statistics.layouts.firstIndex(of: pooledLayout) ?? 0
            let pooledBits = Trainer.codedBits(pooledBest.codebook.coder, counts: pending.statistics.histogram(pooledIndex).counts,
                                               symbolBits: pooledLayout.symbolBits, frames: shards) + Double(values * pooledLayout.rawBits)
            report.append(SetGroupReport(member: best.codebook.name, pattern: pending.group.pattern, dtype: pending.group.dtype?.rawValue ?? pending.dtype.rawValue,
                                         tensors: pending.tensors, values: values, valueBits: valueBits,
                                         ownBitsPerValue: best.bitsPerValue, pooledBitsPerValue: pooledBits / Double(max(1, values)),
                                         entropyBitsPerValue: best.entropyBitsPerValue))
            progress(String(format: "group %@: %d tensor(s), %d values, %.4f bits/value", pending.group.key, pending.tensors, values, best.bitsPerValue))
        }
        let set: CodebookSet
        do {
            set = try CodebookSet(name: options.name, members: members)
        } catch {
            throw TrainingError.invalidOption("\(error)")
        }
        return (set, report)
    }
}

/// Which member of a set codes a tensor: the first whose provenance names its tensors (`tensors`,
/// a regular expression its name must contain a match of, as `train --set` writes) and, when it
/// says so, their dtype (`groupDType`). A member without `tensors` takes no tensor by name.
public struct SetMembership {
    let rules: [(id: Int, regex: Regex<AnyRegexOutput>, dtype: String?)]

    public init(_ set: CodebookSet) throws {
        var rules: [(id: Int, regex: Regex<AnyRegexOutput>, dtype: String?)] = []
        for (id, book) in set.members.enumerated() {
            guard case .object(let fields)? = book.provenance,
                  case .string(let pattern)? = fields.first(where: { $0.key == "tensors" })?.value else { continue }
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                throw TrainingError.invalidOption("codebook \(id) ('\(book.name)') names its tensors by '\(pattern)', which is not a regular expression")
            }
            var dtype: String? = nil
            if case .string(let d)? = fields.first(where: { $0.key == "groupDType" })?.value { dtype = d }
            rules.append((id, regex, dtype))
        }
        guard !rules.isEmpty else {
            throw TrainingError.invalidOption("set '\(set.name)': no codebook names the tensors it codes (provenance 'tensors', as train --set writes)")
        }
        self.rules = rules
    }

    /// The id of the member that codes tensor `name` of `dtype`, or nil.
    public func id(ofTensor name: String, dtype: TensorDType) -> Int? {
        rules.first { name.contains($0.regex) && ($0.dtype == nil || $0.dtype == dtype.rawValue) }?.id
    }
}
