import Foundation
import Training

/// `hwgen-bench plot-cores`: reads the cores' figures file (docs/figures/cores.csv: one line per
/// measured core, written by scripts/engine-sweep.sh and by hand from the dated sections of
/// docs/BENCHMARKS.md) and draws M values/s (Fmax x values per cycle) against Xilinx LUTs, one
/// colour per kind of core, with lines of equal LUTs per M values/s.
struct CoreFigures {
    struct Row {
        let kind: String, coder: String, role: String, size: Int
        let luts: Double, fmax: Double, valuesPerCycle: Double, blockRAMs: String
        var valuesPerSecond: Double { fmax * valuesPerCycle }
    }

    let rows: [Row]

    /// Parses the CSV; a line with a missing or non-numeric figure is an error naming it.
    init(csv text: String, path: String) throws {
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard let header = lines.first?.split(separator: ",").map(String.init) else { throw BenchError("\(path): empty") }
        func column(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else { throw BenchError("\(path): no column '\(name)'") }
            return i
        }
        let (kind, coder, role, n, luts, fmax, vpc, bram) = (try column("kind"), try column("coder"), try column("role"), try column("N"),
                                                             try column("xilinx_luts"), try column("fmax_mhz"), try column("values_per_cycle"), try column("bram"))
        rows = try lines.dropFirst().enumerated().map { index, line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, let size = Int(f[n]), let l = Double(f[luts]), let mhz = Double(f[fmax]), let v = Double(f[vpc]) else {
                throw BenchError("\(path) line \(index + 2): expected \(header.count) fields with numbers for N, xilinx_luts, fmax_mhz, values_per_cycle: '\(line)'")
            }
            return Row(kind: f[kind], coder: f[coder], role: f[role], size: size, luts: l, fmax: mhz, valuesPerCycle: v, blockRAMs: f[bram])
        }
    }

    /// A coder as a point's label says it: "huffman" -> "H", "tans_lanes2" -> "T(K=2)".
    static func coderLabel(_ coder: String) -> String {
        let letter = coder.hasPrefix("huffman") ? "H" : "T"
        guard let lanes = coder.range(of: "_lanes") else { return letter }
        return "\(letter)(K=\(coder[lanes.upperBound...]))"
    }

    /// A kind as the legend says it: "engines f1024 q16" -> "frame engines, frames of 1024, Q = 16";
    /// "i2" (two frames in flight in each tANS encoder) also after "one-lane".
    static func legend(_ kind: String) -> String {
        guard kind.hasPrefix("engines") || kind.hasPrefix("one-lane ") else { return kind }
        let words = kind.split(separator: " ")
        let parts = words.dropFirst().map { part -> String in
            if part == "shared" { return "shared (forced)" }
            if part == "fifo" { return "a FIFO per engine (forced)" }
            if part == "i2" { return "2 frames in flight" }
            if part.hasPrefix("f"), let n = Int(part.dropFirst()) { return "frames of \(n)" }
            if part.hasPrefix("q"), let q = Int(part.dropFirst()) { return "Q = \(q)" }
            return String(part)
        }
        return ([words[0] == "engines" ? "frame engines" : String(words[0])] + parts).joined(separator: ", ")
    }

    var chart: SVGLogScatter {
        var chart = SVGLogScatter(title: "hwgen cores on ECP5-85k: throughput against area (block RAMs apart)",
                                  xLabel: "Xilinx 7 LUTs (Yosys synth_xilinx)", yLabel: "M values/s (ECP5-85k Fmax x values per cycle)")
        let colors = ["one-lane": "black", "pipelined P=1": "#8c564b", "lanes P=1": "#9467bd", "lanes P=K": "#d62728", "engines": "#1f77b4",
                      "engines shared": "#17becf", "engines f1024": "#2ca02c", "engines f1024 q16": "#ff7f0e",
                      "one-lane i2": "#7f7f7f", "engines f1024 i2": "#bcbd22", "engines f1024 fifo": "#8c8c00", "engines f1024 q16 i2": "#e377c2"]
        let kinds = rows.map(\.kind).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for kind in kinds {
            let points = rows.filter { $0.kind == kind }.map { r in
                SVGLogScatter.Point(x: r.luts, y: r.valuesPerSecond,
                                    label: "\(Self.coderLabel(r.coder)) \(r.role == "decoder" ? "dec" : "enc")\(kind.hasPrefix("one-lane") ? "" : kind.hasPrefix("engines") ? " N=\(r.size)" : " K=\(r.size)")")
            }
            chart.series.append(.init(Self.legend(kind), color: colors[kind] ?? "gray", points: points))
        }
        chart.guides = [(1.0, "1 LUT per M values/s"), (0.2, "5 LUTs per M values/s"), (0.04, "25 LUTs per M values/s")]
        return chart
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func plotCores(figures path: String, output: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let figures = try CoreFigures(csv: text, path: path)
    try figures.chart.text.write(toFile: output, atomically: true, encoding: .utf8)
    print("\(figures.rows.count) cores from \(path) -> \(output)")
    for r in figures.rows {
        report("\(r.kind) \(r.coder) \(r.role) \(r.kind.hasPrefix("engines") ? "N" : "K") = \(r.size)",
               String(format: "%6.0f M values/s, %6.0f LUTs, %5.1f LUTs per M values/s", r.valuesPerSecond, r.luts, r.luts / r.valuesPerSecond))
    }
}
