import Foundation
import HDL

/// A waveform format of the bridge's traces.
public enum TraceFormat: String, Sendable {
    case vcd, fst
}

/// Builds DSL modules into a Verilator shared library, once per content hash.
///
/// Several modules go into one build (one Verilator run each, one C++ link), which amortises
/// the compile cost when a test needs many generated designs. Verilator's own runtime is
/// compiled once per cache folder and linked into every library. Each build folder keeps its
/// Verilog, the generated C++ wrapper and a Makefile, so `make -C <folder>` replays it.
public struct SimulationBuilder: Sendable {
    /// Where builds are cached: `$HWGEN_SIM_CACHE`, else `$XDG_CACHE_HOME/hwgen/verilator`,
    /// else `~/.cache/hwgen/verilator`.
    public static var defaultCacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["HWGEN_SIM_CACHE"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/hwgen/verilator" }
        return NSHomeDirectory() + "/.cache/hwgen/verilator"
    }

    public let cacheDirectory: String
    /// Build with tracing support (`Simulation` can then write a waveform).
    public let trace: Bool
    /// The waveform format when `trace`: VCD, or FST (compressed; needs zlib).
    public let traceFormat: TraceFormat
    public let toolchain: Toolchain

    /// - Throws: `SimulationError.toolMissing` when Verilator, make or g++ is not installed.
    public init(cacheDirectory: String = SimulationBuilder.defaultCacheDirectory, trace: Bool = false, traceFormat: TraceFormat = .vcd) throws {
        self.cacheDirectory = cacheDirectory
        self.trace = trace
        self.traceFormat = traceFormat
        toolchain = try Toolchain.locate()
    }

    private var compileFlags: String {
        let t = trace ? 1 : 0
        let (vcd, fst) = trace ? (traceFormat == .vcd ? (1, 0) : (0, 1)) : (0, 0)
        return "-std=gnu++17 -O3 -fPIC -fvisibility=hidden -faligned-new -Wno-bool-operation -Wno-sign-compare "
            + "-Wno-uninitialized -Wno-unused-but-set-variable -Wno-unused-parameter -Wno-unused-variable -Wno-shadow "
            + "-I$(VERILATOR_ROOT)/include -I$(VERILATOR_ROOT)/include/vltstd "
            + "-DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=\(t) -DVM_TRACE_VCD=\(vcd) -DVM_TRACE_FST=\(fst)"
    }

    private var makeHeader: String {
        """
        VERILATOR = \(toolchain.verilator)
        VERILATOR_ROOT = \(toolchain.verilatorRoot)
        CXX = \(toolchain.cxx)
        CXXFLAGS = \(compileFlags)

        """
    }

    /// Builds (or finds in the cache) a library holding a model of each module.
    /// - Throws: `SimulationError` if a tool is missing, a build step fails, or two modules share a name.
    public func build(_ modules: [Module]) throws -> SimulationLibrary {
        var names: Set<String> = []
        for module in modules where !names.insert(module.name).inserted {
            throw SimulationError.duplicateModel(module.name)
        }
        let runtime = try buildRuntime()
        let wrapper = WrapperSource.generate(models: modules, trace: trace, format: traceFormat)
        let makefile = designMakefile(modules, runtime: runtime)
        var hash = ContentHash()
        hash.add(toolchain.verilatorVersion)
        hash.add(wrapper)
        hash.add(makefile)
        hash.add("ROM contents in hex files")
        // Block-RAM ROM contents go to hex files read by $readmemh at run time (Verilator then
        // compiles no initial block with one statement per word: 3.0 s -> 1.0 s for the tANS
        // decoder's 2048-word table). The paths are absolute, into the build folder, whose name
        // is the hash of the design with its contents inline.
        for module in modules {
            for file in module.verilogFiles() {
                hash.add(file.name)
                hash.add(file.contents)
            }
        }
        let folder = "\(cacheDirectory)/design-\(hash.hex)"
        var files: [(path: String, contents: String)] = [("wrapper.cpp", wrapper), ("Makefile", makefile)]
        for module in modules {
            let rtl = "rtl/\(module.name)/"
            for file in module.verilogFiles(romContents: .hexFiles(prefix: "\(folder)/\(rtl)")) {
                files.append((rtl + file.name, file.contents))
            }
        }
        let library = "\(folder)/libhwsim.so"
        if !FileManager.default.fileExists(atPath: library) {
            try buildInFreshFolder(folder, files: files, step: "Verilator build of \(modules.map(\.name).joined(separator: ", "))")
        }
        return try SimulationLibrary(path: library, models: modules)
    }

    /// Compiles Verilator's runtime once per cache, Verilator version and flags.
    private func buildRuntime() throws -> String {
        var sources = ["verilated", "verilated_threads"]
        if trace { sources.append(traceFormat == .vcd ? "verilated_vcd_c" : "verilated_fst_c") }
        let objects = sources.map { "\($0).o" }.joined(separator: " ")
        let makefile = """
            # Verilator's runtime, compiled once and linked into every hwgen simulation library.
            \(makeHeader)
            libverilated.a: \(objects)
            \tar rcs $@ $^

            %.o: $(VERILATOR_ROOT)/include/%.cpp
            \t$(CXX) $(CXXFLAGS) -c -o $@ $<

            """
        var hash = ContentHash()
        hash.add(toolchain.verilatorVersion)
        hash.add(makefile)
        let folder = "\(cacheDirectory)/runtime-\(hash.hex)"
        if !FileManager.default.fileExists(atPath: folder + "/libverilated.a") {
            try buildInFreshFolder(folder, files: [("Makefile", makefile)], step: "Verilator runtime build")
        }
        return folder
    }

    private func designMakefile(_ modules: [Module], runtime: String) -> String {
        var rules: [String] = []
        var objects: [String] = []
        var headers: [String] = []
        for module in modules {
            let cls = WrapperSource.cppClass(module)
            let dir = "obj/\(module.name)"
            let rtl = module.verilogFiles().filter { $0.name.hasSuffix(".v") }.map { "rtl/\(module.name)/\($0.name)" }.joined(separator: " ")
            headers.append("\(dir)/\(cls).h")
            objects.append("\(dir)/all.o")
            objects.append("\(dir)/slow.o")
            // Verilator puts code that runs once (initial blocks: a ROM's contents, one line per
            // entry) in `__Slow` files; optimising those took 54 s for a 32K-entry table, -O0 5 s.
            rules.append("""
                \(dir)/\(cls).h: \(rtl)
                \tmkdir -p \(dir)
                \t$(VERILATOR) $(VFLAGS) --Mdir \(dir) --prefix \(cls) --top-module \(module.name) \(rtl)

                \(dir)/all.o: \(dir)/\(cls).h
                \tcd \(dir) && for f in \(cls)*.cpp; do case $$f in *__Slow.cpp) ;; *) echo "#include \\"$$f\\"";; esac; done > all.cpp
                \t$(CXX) $(CXXFLAGS) -I\(dir) -c -o $@ \(dir)/all.cpp

                \(dir)/slow.o: \(dir)/\(cls).h
                \tcd \(dir) && for f in \(cls)*__Slow.cpp; do if [ -e "$$f" ]; then echo "#include \\"$$f\\""; fi; done > slow.cpp
                \t$(CXX) $(CXXFLAGS) -O0 -I\(dir) -c -o $@ \(dir)/slow.cpp

                """)
        }
        let includes = modules.map { "-Iobj/\($0.name)" }.joined(separator: " ")
        return """
            # A Verilator simulation library built by hwgen's bridge. `make` here rebuilds it.
            \(makeHeader)VFLAGS = --cc -O3 --x-assign fast --x-initial fast --noassert -Wno-fatal\(trace ? (traceFormat == .vcd ? " --trace" : " --trace-fst") : "")
            RUNTIME = \(runtime)

            libhwsim.so: wrapper.o \(objects.joined(separator: " "))
            \t$(CXX) -shared -o $@ $^ $(RUNTIME)/libverilated.a -pthread -latomic\(trace && traceFormat == .fst ? " -lz" : "")

            wrapper.o: wrapper.cpp \(headers.joined(separator: " "))
            \t$(CXX) $(CXXFLAGS) \(includes) -c -o $@ wrapper.cpp

            \(rules.joined(separator: "\n"))
            """
    }

    /// Writes `files` into a private folder, runs make there, then moves it into place, so
    /// concurrent builds of the same content never see a half-built folder.
    private func buildInFreshFolder(_ folder: String, files: [(path: String, contents: String)], step: String) throws {
        let fm = FileManager.default
        let staging = "\(folder).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"
        try? fm.removeItem(atPath: staging)
        for file in files {
            let path = "\(staging)/\(file.path)"
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try file.contents.write(toFile: path, atomically: false, encoding: .utf8)
        }
        let result = try Toolchain.run(toolchain.make, ["-j2", "-C", staging])
        try result.output.write(toFile: staging + "/build.log", atomically: false, encoding: .utf8)
        guard result.status == 0 else {
            throw SimulationError.buildFailed(step: step, log: String(result.output.suffix(4000)), replay: staging)
        }
        do {
            try fm.moveItem(atPath: staging, toPath: folder)
        } catch {
            // Another process finished the same build first: use its folder.
            try? fm.removeItem(atPath: staging)
            guard fm.fileExists(atPath: folder) else { throw error }
        }
    }
}
