// swift-tools-version: 6.0
import PackageDescription

/// `HWGEN_TARGET_CPU=native swift build ...` compiles the coders for this machine's processor
/// (BMI2 shifts and the like on x86-64), as the peers in `make bench` are; the default build
/// runs on any processor of the architecture.
let codecSettings: [SwiftSetting] = Context.environment["HWGEN_TARGET_CPU"].map { [.unsafeFlags(["-target-cpu", $0])] } ?? []
let kernelSettings: [CSetting] = Context.environment["HWGEN_TARGET_CPU"].map { [.unsafeFlags(["-march=\($0)"])] } ?? []

let package = Package(
    name: "hwgen",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hwgen", targets: ["hwgen"]),
        .library(name: "HDL", targets: ["HDL"]),
        .library(name: "Codec", targets: ["Codec"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "FileIO", targets: ["FileIO"]),
        .library(name: "VerilatorBridge", targets: ["VerilatorBridge"]),
        .library(name: "TestSupport", targets: ["TestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The hardware description DSL: IR, elaboration checks and the Verilog emitter.
        // Knows nothing about compression.
        .target(name: "HDL"),
        // CRC-32C with the processor's instruction where it has one (Codec falls back to Swift).
        .target(name: "CCRC32C"),
        // Inner loops of the software coders in C where Swift's code measurably falls short
        // (each the twin of a Swift loop the tests check it against).
        .target(name: "CCodecKernels", cSettings: kernelSettings),
        // The software reference: codebook format, bit I/O, Huffman and tANS frame coders.
        // Knows nothing about hardware.
        .target(name: "Codec", dependencies: ["CCRC32C", "CCodecKernels"], swiftSettings: codecSettings),
        // Files for the command line: inputs read in chunks or at offsets, outputs that are
        // complete or absent (temporary file, rename; removed on a signal), all-or-none folders.
        .target(name: "FileIO", dependencies: ["Codec"]),
        // Codebook training from tensors: safetensors reading, histograms, length-limited
        // Huffman (package-merge), tANS normalisation, transform choice, analysis.
        .target(name: "Training", dependencies: ["Codec", "FileIO"]),
        // Reusable designs written in the DSL (stream plumbing, the bridge demo).
        .target(name: "HDLBlocks", dependencies: ["HDL"]),
        // Builds a Verilator model of a DSL design into a shared object and drives it from Swift.
        .target(name: "VerilatorBridge", dependencies: ["HDL"]),
        // The coder cores, written in the DSL from a codebook.
        .target(name: "Cores", dependencies: ["HDL", "HDLBlocks", "Codec"]),
        // Runs a codebook's generated cores over real values under Verilator (hwgen sim).
        .target(name: "CoreSim", dependencies: ["Codec", "Cores", "HDL", "VerilatorBridge"]),
        .executableTarget(
            name: "hwgen",
            dependencies: [
                "HDL", "HDLBlocks", "Codec", "Training", "Cores", "FileIO", "CoreSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["SourceRevision"]
        ),
        // Writes the git revision into hwgen (`hwgen --version`) before each build.
        .plugin(name: "SourceRevision", capability: .buildTool()),
        .executableTarget(name: "hwgen-bench", dependencies: ["HDL", "HDLBlocks", "VerilatorBridge", "Codec", "Training"]),
        // Helpers shared by the test targets: external tool runners, random expressions.
        .target(
            name: "TestSupport", dependencies: ["HDL", "Codec", "VerilatorBridge"], path: "Tests/TestSupport",
            resources: [.copy("Resources/vectors")]),
        .testTarget(name: "CodecTests", dependencies: ["Codec", "TestSupport"]),
        .testTarget(name: "CoresTests", dependencies: ["Cores", "CoreSim", "Codec", "HDLBlocks", "Training", "VerilatorBridge", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["hwgen", "Codec", "Cores", "VerilatorBridge", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Codec", "Training", "TestSupport"]),
        .testTarget(name: "HDLTests", dependencies: ["HDL", "HDLBlocks", "TestSupport"]),
        .testTarget(name: "VerilatorBridgeTests", dependencies: ["HDL", "HDLBlocks", "VerilatorBridge", "TestSupport"]),
    ]
)
