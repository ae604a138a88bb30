import Foundation
import HDL
import VerilatorBridge

/// A tool a test needs is missing: the test fails (never skips) with the install command.
public struct MissingTool: Error, CustomStringConvertible {
    public let tool: String
    public let install: String
    public var description: String { "\(tool) is not installed; this test needs it. Install it with: \(install)" }
}

/// A tool ran and reported problems.
public struct ToolFailure: Error, CustomStringConvertible {
    public let command: String
    public let output: String
    public init(command: String, output: String) {
        self.command = command
        self.output = output
    }
    public var description: String { "\(command) failed:\n\(output)" }
}

/// Runs the external HDL tools on emitted Verilog.
public enum ExternalTools {
    /// The path of `tool`, or `MissingTool` naming the Debian or PyPI package.
    public static func require(_ tool: String, install: String) throws -> String {
        guard let path = Toolchain.which(tool) else { throw MissingTool(tool: tool, install: install) }
        return path
    }

    /// Writes `files` into a fresh temporary folder and returns its path.
    public static func writeTemporary(_ files: [VerilogFile]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for file in files {
            try file.contents.write(toFile: "\(dir)/\(file.name)", atomically: false, encoding: .utf8)
        }
        return dir
    }

    /// Runs `program` in `directory`; returns status and combined output.
    public static func run(_ program: String, _ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        try Toolchain.run(program, arguments, in: directory)
    }

    /// `verilator --lint-only -Wall` on the module's files; throws with Verilator's output on any warning.
    public static func lint(_ module: Module) throws {
        let verilator = try require("verilator", install: "apt-get install -y verilator")
        let files = module.verilogFiles()
        let dir = try writeTemporary(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try run(verilator, ["--lint-only", "-Wall", "--top-module", module.name] + files.map(\.name), in: dir)
        guard result.status == 0, result.output.isEmpty else {
            throw ToolFailure(command: "verilator --lint-only -Wall \(module.name)", output: result.output)
        }
    }

    /// `iverilog -g2005` on the module's files; throws with Icarus' output on any message.
    public static func icarusCompile(_ module: Module) throws {
        let iverilog = try require("iverilog", install: "apt-get install -y iverilog")
        let files = module.verilogFiles()
        let dir = try writeTemporary(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try run(iverilog, ["-g2005", "-Wall", "-o", "/dev/null", "-s", module.name] + files.map(\.name), in: dir)
        guard result.status == 0, result.output.isEmpty else {
            throw ToolFailure(command: "iverilog -g2005 \(module.name)", output: result.output)
        }
    }
}
