#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a set of files into a folder, all of them or none.
///
/// The files are written into a temporary folder inside the target folder, then renamed into
/// place one by one; the files they replace are kept (hard links in the temporary folder) until
/// every rename has worked, and put back if one fails. A target that is a folder or not a
/// regular file is refused before anything is written.
public enum OutputFolder {
    /// Writes `files` (name and contents) into `folder`, created if missing; returns their paths.
    /// `inputs` are the command's inputs: a target that is one of them is refused.
    public static func write(_ files: [(name: String, contents: [UInt8])], into folder: String, inputs: [String] = []) throws(FileIOError) -> [String] {
        guard !folder.isEmpty else { throw .cannotWrite(path: folder, reason: "the path is empty") }
        let created = try makeFolders(folder)
        var committed = false
        defer { if !committed { for f in created.reversed() { rmdir(f) } } }

        var targets: [String] = []
        for file in files {
            guard !file.name.isEmpty, !file.name.contains("/") else {
                throw .cannotWrite(path: folder + "/" + file.name, reason: "not a plain file name")
            }
            let path = folder + "/" + file.name
            try OutputFile.checkLength(path)
            let target = try OutputFile.resolveSymlinks(path)
            try OutputFile.refuseInputs(target: target, path: path, inputs: inputs)
            var info = stat()
            if lstat(target, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
                throw .cannotWrite(path: path, reason: info.st_mode & S_IFMT == S_IFDIR ? "it is a folder" : "it is not a regular file")
            }
            targets.append(target)
        }

        let staging = try makeStaging(in: folder)
        var registered: [Int?] = []
        var staged: [String] = []
        defer {
            for path in staged { unlink(path) }
            rmdir(staging.path)
            for slot in registered { TemporaryFiles.unregister(slot) }
            TemporaryFiles.unregister(staging.slot)
        }
        for (i, file) in files.enumerated() {
            let path = staging.path + "/new-\(i)"
            registered.append(TemporaryFiles.register(path))
            staged.append(path)
            try writeWhole(file.contents, to: path, reportAs: folder + "/" + file.name)
        }
        // Keep the files being replaced until every new one is in place.
        var kept: [String?] = []
        for (i, target) in targets.enumerated() {
            let backup = staging.path + "/old-\(i)"
            if access(target, F_OK) == 0 {
                registered.append(TemporaryFiles.register(backup))
                staged.append(backup)
                guard link(target, backup) == 0 else {
                    throw .cannotWrite(path: folder + "/" + files[i].name, reason: FileIOError.reason(errno))
                }
                kept.append(backup)
            } else {
                kept.append(nil)
            }
        }
        for (i, target) in targets.enumerated() {
            guard rename(staged[i], target) == 0 else {
                let code = errno
                // Put back what the earlier renames replaced.
                for j in (0..<i).reversed() {
                    if let backup = kept[j] { rename(backup, targets[j]) } else { unlink(targets[j]) }
                }
                throw .cannotWrite(path: folder + "/" + files[i].name, reason: FileIOError.reason(code))
            }
        }
        committed = true
        return files.map { folder + "/" + $0.name }
    }

    /// Creates `folder` and missing parents; returns the ones it made, outermost first.
    static func makeFolders(_ folder: String) throws(FileIOError) -> [String] {
        var info = stat()
        if stat(folder, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .cannotWrite(path: folder, reason: "it is not a folder") }
            return []
        }
        let parent = OutputFile.folder(of: folder)
        var made = parent == folder ? [] : try makeFolders(parent)
        guard mkdir(folder, 0o777) == 0 || errno == EEXIST else {
            let code = errno
            for f in made.reversed() { rmdir(f) }
            throw .cannotWrite(path: folder, reason: FileIOError.reason(code))
        }
        made.append(folder)
        return made
    }

    private static func makeStaging(in folder: String) throws(FileIOError) -> (path: String, slot: Int?) {
        for attempt in 0..<100 {
            let path = folder + "/.hwgen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(attempt).tmp"
            let slot = TemporaryFiles.register(path, folder: true)
            if mkdir(path, 0o700) == 0 { return (path, slot) }
            let code = errno
            TemporaryFiles.unregister(slot)
            if code != EEXIST { throw .cannotWrite(path: folder, reason: FileIOError.reason(code)) }
        }
        throw .cannotWrite(path: folder, reason: "no temporary folder could be created in it")
    }

    private static func writeWhole(_ bytes: [UInt8], to path: String, reportAs name: String) throws(FileIOError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .cannotWrite(path: name, reason: FileIOError.reason(errno)) }
        defer { close(fd) }
        try typed { try bytes.withUnsafeBytes { (b) throws in
            guard let base = b.baseAddress else { return }
            var done = 0
            while done < b.count {
                let n = Glibc.write(fd, base + done, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileIOError.cannotWrite(path: name, reason: FileIOError.reason(errno))
                }
                done += n
            }
        } }
    }
}
