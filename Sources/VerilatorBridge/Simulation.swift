import Foundation
import HDL

/// A loaded simulation library: one Verilated model per module of the batch.
public final class SimulationLibrary: @unchecked Sendable {
    public let path: String
    public let models: [Module]
    let api: SimulationAPI

    init(path: String, models: [Module]) throws {
        self.path = path
        self.models = models
        api = try SimulationAPI(path: path)
        let count = Int(api.modelCount())
        guard count == models.count else {
            throw SimulationError.loadFailed(path: path, reason: "holds \(count) models, expected \(models.count)")
        }
    }

    /// A fresh simulation of the model named `name`, with clock low and inputs at 0. With
    /// `tracePath`, a VCD waveform is written there (the library must be built with `trace`).
    public func simulation(of name: String, tracePath: String? = nil) throws -> Simulation {
        guard let index = models.firstIndex(where: { $0.name == name }) else {
            throw SimulationError.unknownModel(name, available: models.map(\.name))
        }
        return Simulation(library: self, module: models[index], index: Int32(index), tracePath: tracePath)
    }
}

/// The C functions of a simulation library, looked up once.
struct SimulationAPI {
    typealias Create = @convention(c) (Int32, UnsafePointer<CChar>?) -> UnsafeMutableRawPointer?
    typealias Destroy = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias Poke = @convention(c) (UnsafeMutableRawPointer?, Int32, UInt64) -> Void
    typealias Peek = @convention(c) (UnsafeMutableRawPointer?, Int32) -> UInt64
    typealias Eval = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias Tick = @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Void
    typealias Count = @convention(c) () -> Int32
    typealias Stream = @convention(c) (
        UnsafeMutableRawPointer?, UnsafePointer<Int32>?, UnsafePointer<UInt64>?, UnsafePointer<UInt8>?, UInt64,
        UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<UInt8>?, UInt64, UnsafePointer<UInt64>?,
        UnsafeMutablePointer<UInt64>?
    ) -> Void

    let create: Create
    let destroy: Destroy
    let poke: Poke
    let peek: Peek
    let eval: Eval
    let tick: Tick
    let modelCount: Count
    let stream: Stream

    init(path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw SimulationError.loadFailed(path: path, reason: String(cString: dlerror()))
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let pointer = dlsym(handle, name) else {
                throw SimulationError.loadFailed(path: path, reason: "missing symbol \(name)")
            }
            return unsafeBitCast(pointer, to: type)
        }
        create = try symbol("hw_create", as: Create.self)
        destroy = try symbol("hw_destroy", as: Destroy.self)
        poke = try symbol("hw_poke", as: Poke.self)
        peek = try symbol("hw_peek", as: Peek.self)
        eval = try symbol("hw_eval", as: Eval.self)
        tick = try symbol("hw_tick", as: Tick.self)
        modelCount = try symbol("hw_model_count", as: Count.self)
        stream = try symbol("hw_stream_run", as: Stream.self)
    }
}

/// A handle on one port of a simulated model.
public struct PortHandle: Sendable {
    public let name: String
    public let width: Int
    let index: Int32
}

/// One running instance of a Verilated model, driven cycle by cycle or in bulk.
///
/// Per-cycle use: `poke` inputs, `eval` to settle combinational outputs, `peek`, then `tick`
/// (a rising and a falling clock edge). `stream` runs a whole AXI-Stream transfer inside C++.
public final class Simulation {
    public let module: Module
    private let library: SimulationLibrary
    private let handle: UnsafeMutableRawPointer?
    private let api: SimulationAPI
    /// Clock cycles run so far.
    public private(set) var cycle: UInt64 = 0

    init(library: SimulationLibrary, module: Module, index: Int32, tracePath: String?) {
        self.library = library
        self.module = module
        let api = library.api
        self.api = api
        handle = tracePath.map { path in path.withCString { api.create(index, $0) } } ?? api.create(index, nil)
    }

    deinit { api.destroy(handle) }

    /// The port named `name`.
    /// - Throws: `unknownPort`, or `portTooWide` for ports over 64 bits.
    public func port(_ name: String) throws -> PortHandle {
        guard let index = module.ports.firstIndex(where: { $0.name == name }) else {
            throw SimulationError.unknownPort(model: module.name, port: name)
        }
        let width = module.ports[index].width
        guard width <= 64 else { throw SimulationError.portTooWide(model: module.name, port: name, width: width) }
        return PortHandle(name: name, width: width, index: Int32(index))
    }

    /// Sets an input (bits above its width are dropped). Takes effect at the next `eval`/`tick`.
    @inline(__always)
    public func poke(_ port: PortHandle, _ value: UInt64) { api.poke(handle, port.index, value) }

    /// Reads a port as of the last `eval`/`tick`.
    @inline(__always)
    public func peek(_ port: PortHandle) -> UInt64 { api.peek(handle, port.index) }

    /// Settles combinational logic after pokes.
    @inline(__always)
    public func eval() { api.eval(handle) }

    /// Runs `cycles` clock cycles.
    @inline(__always)
    public func tick(_ cycles: Int = 1) {
        api.tick(handle, UInt64(cycles))
        cycle &+= UInt64(cycles)
    }

    /// Holds `rst` high for `cycles` cycles, then low (a model without `rst` just ticks).
    public func reset(cycles: Int = 2) {
        let rst = try? port("rst")
        if let rst { poke(rst, 1) }
        tick(cycles)
        if let rst { poke(rst, 0) }
        eval()
    }

    /// Runs an AXI-Stream transfer inside C++ (the fast path): offers `job.input` on the sink
    /// named `job.sink`, takes beats from the source `job.source`, with random valid/ready
    /// patterns, and checks the source keeps each offered beat unchanged until it is taken.
    public func stream(_ job: StreamJob) throws -> StreamResult {
        func optionalPort(_ name: String) throws -> Int32 {
            module.port(named: name) == nil ? -1 : try port(name).index
        }
        let ports: [Int32] = [
            try port("\(job.sink)_tdata").index, try port("\(job.sink)_tvalid").index,
            try optionalPort("\(job.sink)_tready"), try optionalPort("\(job.sink)_tlast"),
            try port("\(job.source)_tdata").index, try port("\(job.source)_tvalid").index,
            try port("\(job.source)_tready").index, try optionalPort("\(job.source)_tlast"),
            try job.stopPort.map { try port($0).index } ?? -1,
        ]
        let capacity = job.outputCapacity ?? job.expectedOutputs ?? (job.input.count * 4 + 1024)
        var outData = [UInt64](repeating: 0, count: capacity)
        var outLast = [UInt8](repeating: 0, count: capacity)
        let inLast = job.inputLast.map { $0.map { UInt8($0 ? 1 : 0) } }
        let params: [UInt64] = [
            UInt64(job.expectedOutputs ?? 0), UInt64(job.validPerMille), UInt64(job.readyPerMille),
            job.seed, job.maxCycles, UInt64(job.drainCycles),
        ]
        var results = [UInt64](repeating: 0, count: 5)
        job.input.withUnsafeBufferPointer { input in
            outData.withUnsafeMutableBufferPointer { data in
                outLast.withUnsafeMutableBufferPointer { last in
                    if let inLast {
                        inLast.withUnsafeBufferPointer { inLastBuffer in
                            api.stream(handle, ports, input.baseAddress, inLastBuffer.baseAddress, UInt64(input.count),
                                       data.baseAddress, last.baseAddress, UInt64(capacity), params, &results)
                        }
                    } else {
                        api.stream(handle, ports, input.baseAddress, nil, UInt64(input.count),
                                   data.baseAddress, last.baseAddress, UInt64(capacity), params, &results)
                    }
                }
            }
        }
        cycle &+= results[2]
        let produced = Int(results[1])
        return StreamResult(
            outputs: Array(outData[..<produced]), outputLast: outLast[..<produced].map { $0 != 0 },
            consumed: Int(results[0]), cycles: Int(results[2]), protocolErrors: Int(results[3]),
            stop: StreamResult.Stop(rawValue: Int(results[4])) ?? .cycleLimit)
    }
}

/// A bulk AXI-Stream run for `Simulation.stream`.
public struct StreamJob: Sendable {
    /// Port-name prefix of the sink the bench drives (`s_axis`).
    public var sink = "s_axis"
    /// Port-name prefix of the source the bench takes beats from (`m_axis`).
    public var source = "m_axis"
    public var input: [UInt64]
    /// `tlast` of each input beat (ignored when the sink has no `tlast`).
    public var inputLast: [Bool]?
    /// Stop once this many output beats arrived and the input is consumed; nil: stop after
    /// `drainCycles` quiet cycles.
    public var expectedOutputs: Int?
    public var outputCapacity: Int?
    /// Chance, in 1/1000, that the bench raises `tvalid` in a cycle where it has a beat.
    public var validPerMille = 1000
    /// Chance, in 1/1000, that the bench raises `tready` in a cycle.
    public var readyPerMille = 1000
    public var seed: UInt64 = 1
    public var maxCycles: UInt64 = 100_000_000
    public var drainCycles = 64
    /// An output port that ends the run when it goes high (e.g. `error`).
    public var stopPort: String?

    public init(input: [UInt64], inputLast: [Bool]? = nil, expectedOutputs: Int? = nil) {
        self.input = input
        self.inputLast = inputLast
        self.expectedOutputs = expectedOutputs
    }
}

/// What a bulk run produced.
public struct StreamResult: Sendable {
    public enum Stop: Int, Sendable {
        /// All input consumed and the expected output (or a quiet drain) seen.
        case done = 1
        case cycleLimit = 2
        case stopPort = 3
        case outputFull = 4
    }

    public let outputs: [UInt64]
    public let outputLast: [Bool]
    /// Input beats the design accepted.
    public let consumed: Int
    public let cycles: Int
    /// Cycles where an offered, untaken output beat changed or was withdrawn (must be 0).
    public let protocolErrors: Int
    public let stop: Stop
}
