import Foundation
import PackagePlugin

/// Writes `Revision.swift` (`sourceRevision`: the git commit the package was built from, with
/// `+changes` when the work tree differs from it, or "unknown" outside a git checkout) before
/// every build of the target that uses it. The file is rewritten only when the revision changes.
@main
struct SourceRevision: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Revision.swift")
        let package = context.package.directoryURL.path
        let script = """
            rev=$(git -C '\(package)' rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            if [ "$rev" != unknown ] && ! git -C '\(package)' diff --quiet HEAD 2>/dev/null; then rev="$rev+changes"; fi
            text="/// The source revision hwgen was built from (written by the SourceRevision plugin).
            let sourceRevision = \\"$rev\\""
            [ "$(cat '\(output.path)' 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > '\(output.path)'
            """
        return [.prebuildCommand(displayName: "Source revision", executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script], outputFilesDirectory: context.pluginWorkDirectoryURL)]
    }
}
