#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be opened, read or written: the path and the system's reason, one line.
public enum FileIOError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The output is one of the command's inputs: writing it would destroy what is being read.
    case outputIsInput(output: String, input: String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason): return "cannot read \(path == "-" ? "standard input" : path): \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(path == "-" ? "standard output" : path): \(reason)"
        case .outputIsInput(let output, let input):
            let same = output == input ? "" : " (the same file as \(input))"
            return "refusing to write \(output): it is an input of this command\(same); choose another output"
        }
    }

    /// The system's message for `code` (errno).
    static func reason(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}

/// Runs `body`, which throws only `FileIOError`s, through an API that rethrows untyped errors.
func typed<T>(_ body: () throws -> T) throws(FileIOError) -> T {
    do {
        return try body()
    } catch let error as FileIOError {
        throw error
    } catch {
        throw .cannotWrite(path: "?", reason: "\(error)")
    }
}
