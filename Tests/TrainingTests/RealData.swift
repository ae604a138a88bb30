import Foundation
import TestSupport

/// The real all-MiniLM-L6-v2 tensors in ../shared/data (or $HWGEN_DATA). Tests that need them
/// fail with this message when they are missing: they are never skipped.
enum RealData {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "real tensor data not found at \(path): clone the project next to shared/ (shared/data holds the MiniLM tensors) or set HWGEN_DATA"
        }
    }

    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["HWGEN_DATA"], !dir.isEmpty { return dir }
        // Tests/TrainingTests/RealData.swift -> <project>/../shared/data
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    static func path(_ name: String) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return path
    }

    static func activationsPath() throws -> String { try path("minilm_ffn1_acts_layers_1_4.bf16.safetensors") }
    static func weightsPath() throws -> String { try path("minilm_weights_layers_1_4.bf16.safetensors") }
}
