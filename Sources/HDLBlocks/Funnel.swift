import HDL

/// A left shift that keeps only the top bits of its result, built as radix-4 stages of 4:1
/// multiplexers (one 6-input LUT per bit and stage), each stage computing only the bits that can
/// still reach the result. This is how a bit stream is read at a variable position: the value is
/// the stream with its first bit at the top, `amount` the number of bits to skip.
///
/// Synthesis maps a generic `<<` by a signal to a binary shifter and cannot always prune or pair
/// its stages; spelling the stages out keeps the cost near `keep + 2^low - 1` LUTs per stage.
public enum Funnel {
    /// The top `keep` bits of `value << amount` (zeros shift in from below). The value and each
    /// stage are wires named `<name>_in`, `<name>_stage<i>`; the result is the last stage.
    public static func top(_ keep: Int, of value: Signal, shiftedLeftBy amount: Signal, name: String, in m: ModuleBuilder,
                           file: String = #fileID, line: Int = #line) -> Signal {
        guard keep >= 1 && keep <= value.width else {
            m.report(.invalidWidth, "funnel '\(name)' keeps 1-\(value.width) bits of its value, not \(keep)", at: SourceLocation(fileID: file, line: line))
            return m.constant(0, width: Swift.max(1, keep))
        }
        // Stages from the most significant pair of amount bits down; a lone top bit is a 2:1 stage.
        var current = m.wire("\(name)_in", value)
        var stage = 0
        var high = amount.width
        while high > 0 {
            let low = max(0, high - 2)
            let reach = keep + (1 << low) - 1  // bits this stage must produce
            let step = 1 << low
            let choices = (0..<(1 << (high - low))).map { digit in topSlice(current, skipping: digit * step, width: reach, in: m) }
            let select = amount[high - 1, low]
            let chosen = choices.count == 2 ? mux(select, choices[1], choices[0])
                : mux(select[1], mux(select[0], choices[3], choices[2]), mux(select[0], choices[1], choices[0]))
            current = m.wire("\(name)_stage\(stage)", chosen)
            stage += 1
            high = low
        }
        return current
    }

    /// `width` bits of `value` starting `skip` bits below its top, zero-padded past its end.
    private static func topSlice(_ value: Signal, skipping skip: Int, width: Int, in m: ModuleBuilder) -> Signal {
        let available = value.width - skip
        if available <= 0 { return m.constant(0, width: width) }
        if available >= width { return value[value.width - 1 - skip, available - width] }
        return cat(value[value.width - 1 - skip, 0], m.constant(0, width: width - available))
    }
}
