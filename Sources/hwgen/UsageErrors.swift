import ArgumentParser

/// Names the options a command line gives that its command does not know, so a misspelt option
/// is reported as itself ("unknown option '--codebok'") rather than as the required option it
/// left out. Consulted only when parsing already failed: a command line that parses is never
/// second-guessed.
enum UnknownOptions {
    /// Options every command takes (ArgumentParser's own).
    static let builtIn: Set<String> = ["-h", "--help", "--version", "--experimental-dump-help", "--generate-completion-script"]

    /// The command `arguments` address (a subcommand's name first, else the default) and the
    /// arguments after its name.
    static func command(for arguments: [String]) -> (ParsableCommand.Type, ArraySlice<String>) {
        let configuration = HWGen.configuration
        if let first = arguments.first,
           let sub = configuration.subcommands.first(where: { $0.configuration.commandName ?? $0._commandName == first }) {
            return (sub, arguments.dropFirst())
        }
        return (configuration.defaultSubcommand ?? HWGen.self, arguments[...])
    }

    /// The option names `command`'s help lists (`-o`, `--output`, `--no-x`, ...).
    static func known(by command: ParsableCommand.Type) -> Set<String> {
        var names = builtIn
        let help = HWGen.helpMessage(for: command, includeHidden: true, columns: 10_000)
        for line in help.split(separator: "\n") {
            let text = line.drop { $0 == " " }
            guard text.hasPrefix("-") else { continue }
            // The names before the first value placeholder or description: "-o, --output <output>  ...".
            for word in text.split(separator: " ").prefix(while: { $0.hasPrefix("-") }) {
                for name in word.split(separator: "/") {
                    names.insert(String(name.trimmingPrefixComma()))
                }
            }
        }
        return names
    }

    /// The first argument that looks like an option `command` does not know.
    static func first(in arguments: ArraySlice<String>, known: Set<String>) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            guard argument.hasPrefix("-"), argument.count > 1 else { continue }
            let second = argument.dropFirst().first ?? " "
            if second.isNumber || second == "." { continue }
            let name = argument.hasPrefix("--") ? String(argument.prefix { $0 != "=" }) : String(argument.prefix(2))
            if !known.contains(name) { return argument.hasPrefix("--") ? name : argument }
        }
        return nil
    }
}

private extension Substring {
    func trimmingPrefixComma() -> Substring { hasSuffix(",") ? dropLast() : self }
}
