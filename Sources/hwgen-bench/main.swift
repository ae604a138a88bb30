// Benchmarks behind `make bench`. Each prints figures and ratios against baselines measured in
// the same run; docs/BENCHMARKS.md records them.
//   hwgen-bench [bridge|codec|all] [--data DIR] [--coder huffman|tans] [--lanes K] [--part bare|stored|bytes|file]
//   hwgen-bench plot-cores [--figures docs/figures/cores.csv] [--output docs/figures/cores.svg]
import Foundation
import Training

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The best of `runs` timings: the least disturbed by other work on the machine.
func bestOf(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<runs { best = min(best, try seconds(body)) }
    return best
}

func report(_ label: String, _ value: String) {
    print(label.padding(toLength: 54, withPad: " ", startingAt: 0) + value)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let which = arguments.first { !$0.hasPrefix("--") && !$0.hasPrefix("/") && !$0.hasPrefix(".") } ?? "all"
let dataDir = arguments.firstIndex(of: "--data").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
}
let coders = option("--coder").map { [TrainingOptions.CoderKind(rawValue: $0)].compactMap { $0 } } ?? [.huffman, .tans]
let laneCounts = option("--lanes").map { [Int($0)].compactMap { $0 } } ?? [1, 2, 4, 8, 16]
let parts = option("--part").map { Set([$0]) } ?? ["bare", "stored", "bytes", "file"]
do {
    if which == "plot-cores" {
        try plotCores(figures: option("--figures") ?? "docs/figures/cores.csv", output: option("--output") ?? "docs/figures/cores.svg")
        exit(0)
    }
    print("hwgen-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores")
    if which == "bridge" || which == "all" { try bridgeBench() }
    if which == "codec" || which == "all" { try codecBench(dataDirectory: dataDir, coders: coders, laneCounts: laneCounts, parts: parts) }
} catch {
    FileHandle.standardError.write(Data("hwgen-bench: \(error)\n".utf8))
    exit(1)
}
