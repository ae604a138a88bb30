import Codec
import Foundation

/// A file of training statistics that merges by addition (docs/FORMAT.md, "Histogram files"):
/// `hwgen histogram` writes one per machine or shard of the data, `hwgen train` reads any number
/// of them as if it had read the data itself. Values of up to 16 bits keep one count per value
/// (every layout derives from it); wider values keep one histogram per split layout (symbolBits
/// 1 to 12), which are all the layouts a wider value can be trained with.
public struct HistogramFile: Sendable, Equatable {
    public static let format = "hwgen-histogram/1"
    /// The name ending that marks a histogram file among training inputs.
    public static let suffix = ".histogram.json"

    public let valueBits: Int
    /// The safetensors dtype of the values (nil for raw values).
    public let dtype: String?
    public private(set) var values: Int
    /// One count per value (valueBits <= 16), or per symbol of each layout of `layouts`.
    public private(set) var counts: [[Int]]
    public let layouts: [ValueLayout]

    /// The layouts a file of `valueBits`-bit values keeps (none: it keeps counts per value).
    public static func layouts(valueBits: Int) -> [ValueLayout] {
        valueBits <= 16 ? [] : (1...12).map { ValueLayout(transform: .split, symbolBits: $0, rawBits: valueBits - $0) }
    }

    /// The statistics of `accumulator`, which must have been made by `accumulator(valueBits:)`.
    public init(_ accumulator: HistogramAccumulator, dtype: String?) {
        valueBits = accumulator.valueBits
        self.dtype = dtype
        values = accumulator.count
        layouts = Self.layouts(valueBits: valueBits)
        counts = accumulator.rawCounts
    }

    /// An empty accumulator whose statistics a histogram file can hold.
    public static func accumulator(valueBits: Int) -> HistogramAccumulator {
        HistogramAccumulator(valueBits: valueBits, layouts: valueBits <= 16 ? [] : layouts(valueBits: valueBits))
    }

    /// Adds another file's counts; both must be of values of the same width and dtype.
    public mutating func merge(_ other: HistogramFile, path: String) throws {
        guard other.valueBits == valueBits else {
            throw TrainingError.invalidOption("\(path) counts \(other.valueBits)-bit values, the histograms before it \(valueBits)-bit")
        }
        guard other.dtype == dtype else {
            throw TrainingError.invalidOption("\(path) counts \(other.dtype ?? "raw") values, the histograms before it \(dtype ?? "raw"): train one dtype at a time")
        }
        for i in counts.indices { for j in counts[i].indices { counts[i][j] += other.counts[i][j] } }
        values += other.values
    }

    /// The statistics as an accumulator for `layouts` (the layouts the training options ask for;
    /// each must be one this file can give).
    public func accumulator(for layouts: [ValueLayout]) throws -> HistogramAccumulator {
        if valueBits <= 16 { return HistogramAccumulator(valueBits: valueBits, byValue: counts[0], layouts: layouts) }
        let histograms = try layouts.map { layout -> Histogram in
            guard let i = self.layouts.firstIndex(of: layout) else {
                throw TrainingError.invalidOption("a histogram file of \(valueBits)-bit values holds split layouts only, not \(layout.transform.rawValue) symbolBits \(layout.symbolBits)")
            }
            return Histogram(counts: counts[i])
        }
        return HistogramAccumulator(valueBits: valueBits, layouts: layouts, histograms: histograms, count: values)
    }

    public var jsonText: String {
        var text = "{\"format\": \"\(Self.format)\", \"valueBits\": \(valueBits), "
        if let dtype { text += "\"dtype\": \"\(dtype)\", " }
        text += "\"values\": \(values),\n"
        if layouts.isEmpty {
            text += " \"counts\": [\(counts[0].map(String.init).joined(separator: ", "))]}\n"
        } else {
            let rows = zip(layouts, counts).map { layout, c in
                "  {\"symbolBits\": \(layout.symbolBits), \"counts\": [\(c.map(String.init).joined(separator: ", "))]}"
            }
            text += " \"splits\": [\n\(rows.joined(separator: ",\n"))]}\n"
        }
        return text
    }

    /// Reads a histogram file, checking every field: the format, a width of 1-32 bits, counts of
    /// the right lengths that are whole and not negative, and a value count equal to their sum.
    public static func parse(_ bytes: [UInt8], path: String) throws -> HistogramFile {
        func bad(_ reason: String) -> TrainingError { .invalidOption("\(path): not a valid histogram file: \(reason)") }
        let json: JSONValue
        do { json = try StrictJSON.parse(bytes) } catch { throw bad("\(error)") }
        guard case .object(let members) = json else { throw bad("not a JSON object") }
        func field(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }
        guard case .string(let format)? = field("format"), format == Self.format else { throw bad("'format' is not \"\(Self.format)\"") }
        guard case .number(_, let bits?)? = field("valueBits"), (1...32).contains(bits) else { throw bad("'valueBits' must be 1 to 32") }
        guard case .number(_, let total?)? = field("values"), total >= 0 else { throw bad("'values' must be a count") }
        var dtype: String? = nil
        if let d = field("dtype") {
            guard case .string(let s) = d else { throw bad("'dtype' must be a string") }
            dtype = s
        }
        func countList(_ value: JSONValue?, length: Int, key: String) throws -> [Int] {
            guard case .array(let items)? = value, items.count == length else { throw bad("'\(key)' must hold \(length) counts") }
            return try items.map { item in
                guard case .number(_, let n?) = item, n >= 0 else { throw bad("'\(key)' holds something that is not a count") }
                return Int(n)
            }
        }
        let valueBits = Int(bits)
        let layouts = Self.layouts(valueBits: valueBits)
        var counts: [[Int]]
        if layouts.isEmpty {
            counts = [try countList(field("counts"), length: 1 << valueBits, key: "counts")]
        } else {
            guard case .array(let splits)? = field("splits"), splits.count == layouts.count else { throw bad("'splits' must hold symbolBits 1 to 12") }
            counts = []
            for (layout, split) in zip(layouts, splits) {
                guard case .object(let s) = split, case .number(_, let sb?)? = s.first(where: { $0.key == "symbolBits" })?.value,
                      sb == layout.symbolBits else { throw bad("'splits' must list symbolBits 1 to 12 in order") }
                counts.append(try countList(s.first { $0.key == "counts" }?.value, length: layout.symbolCount, key: "counts"))
            }
        }
        for c in counts {
            var sum = 0
            for n in c {
                let (next, overflow) = sum.addingReportingOverflow(n)
                guard !overflow, next <= total else { throw bad("the counts sum to more than \(total), 'values' says \(total)") }
                sum = next
            }
            guard sum == total else { throw bad("the counts sum to \(sum), 'values' says \(total)") }
        }
        return HistogramFile(valueBits: valueBits, dtype: dtype, values: Int(total), counts: counts, layouts: layouts)
    }

    private init(valueBits: Int, dtype: String?, values: Int, counts: [[Int]], layouts: [ValueLayout]) {
        self.valueBits = valueBits
        self.dtype = dtype
        self.values = values
        self.counts = counts
        self.layouts = layouts
    }
}
