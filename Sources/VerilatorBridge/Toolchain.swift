import Foundation

/// Errors of the Verilator bridge, each with a message a user can act on.
public enum SimulationError: Error, CustomStringConvertible, Equatable {
    /// A tool the bridge needs is not installed.
    case toolMissing(tool: String, install: String)
    /// Verilator or the C++ compiler failed; `log` holds the full output, `replay` the folder
    /// with a Makefile to rerun the build by hand.
    case buildFailed(step: String, log: String, replay: String)
    /// The shared object could not be loaded or lacks a symbol.
    case loadFailed(path: String, reason: String)
    case unknownModel(String, available: [String])
    case unknownPort(model: String, port: String)
    /// Ports wider than 64 bits cannot be poked or peeked.
    case portTooWide(model: String, port: String, width: Int)
    case duplicateModel(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let install):
            return "\(tool) is not installed; the simulation tests need it. Install it with: \(install)"
        case .buildFailed(let step, let log, let replay):
            return "\(step) failed; output:\n\(log)\nReplay the build with: make -C \(replay)"
        case .loadFailed(let path, let reason):
            return "could not load the simulation library \(path): \(reason)"
        case .unknownModel(let name, let available):
            return "no model '\(name)' in this simulation library (it has: \(available.joined(separator: ", ")))"
        case .unknownPort(let model, let port):
            return "module '\(model)' has no port '\(port)'"
        case .portTooWide(let model, let port, let width):
            return "port '\(port)' of '\(model)' is \(width) bits; the bridge pokes and peeks at most 64"
        case .duplicateModel(let name):
            return "module '\(name)' appears twice in one simulation build; give each design its own name"
        }
    }
}

/// The external tools the bridge runs, located on PATH.
public struct Toolchain: Sendable {
    public let verilator: String
    /// First line of `verilator --version`.
    public let verilatorVersion: String
    /// Verilator's root folder (holds `include/verilated.cpp`).
    public let verilatorRoot: String
    public let make: String
    public let cxx: String

    /// Finds Verilator, make and a C++ compiler, or throws `toolMissing` naming the package.
    public static func locate() throws -> Toolchain {
        guard let verilator = which("verilator") else {
            throw SimulationError.toolMissing(tool: "verilator", install: "apt-get install -y verilator")
        }
        guard let make = which("make") else {
            throw SimulationError.toolMissing(tool: "make", install: "apt-get install -y make")
        }
        guard let cxx = which("g++") ?? which("clang++") else {
            throw SimulationError.toolMissing(tool: "a C++ compiler (g++)", install: "apt-get install -y g++")
        }
        let version = try run(verilator, ["--version"]).output.split(separator: "\n").first.map(String.init) ?? "unknown"
        var root = try run(verilator, ["--getenv", "VERILATOR_ROOT"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        if root.isEmpty { root = "/usr/share/verilator" }
        guard FileManager.default.fileExists(atPath: root + "/include/verilated.cpp") else {
            throw SimulationError.toolMissing(tool: "Verilator's runtime sources (\(root)/include)", install: "apt-get install -y verilator")
        }
        return Toolchain(verilator: verilator, verilatorVersion: version, verilatorRoot: root, make: make, cxx: cxx)
    }

    /// The full path of `tool` on PATH, if it is there.
    public static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a program to completion and returns its exit status and combined output.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A 128-bit FNV-1a content hash (two 64-bit lanes), for naming cache folders.
struct ContentHash {
    private var a: UInt64 = 0xcbf2_9ce4_8422_2325
    private var b: UInt64 = 0x84222325_cbf29ce4

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 0x9e37_79b9
        }
        // Separate fields so ("ab", "c") and ("a", "bc") differ.
        a = (a ^ 0xff) &* 0x100_0000_01b3
        b = (b ^ 0xfe) &* 0x100_0000_01b3
    }

    var hex: String {
        let hi = String(a, radix: 16), lo = String(b, radix: 16)
        return String(repeating: "0", count: 16 - hi.count) + hi + String(repeating: "0", count: 16 - lo.count) + lo
    }
}
