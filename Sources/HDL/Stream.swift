/// A ready/valid stream link, as AXI-Stream names it: `data` (tdata), `valid`, `ready`, and
/// optionally `last`, `keep` and `user` (tuser: side data that travels with each beat). A beat
/// moves in a cycle where `valid` and `ready` are both 1.
///
/// A stream is a bundle of signals seen from one module: ports (`sinkPort`, `sourcePort`), wires
/// (`stream`), the ports of an instance (`Instance.stream`), or a stage's registers. Which member
/// is assigned depends on the side: the producer drives `data`, `valid`, `last` and `keep` and
/// reads `ready`; the consumer the other way round. `ModuleBuilder.connect(_:from:)` wires a
/// consumer to a producer in one call; `registerStage` and (in HDLBlocks) `skidStage` put a
/// stage between them.
public struct Stream {
    public let data: Signal
    public let valid: Signal
    public let ready: Signal
    public let last: Signal?
    public let keep: Signal?
    public let user: Signal?

    public init(data: Signal, valid: Signal, ready: Signal, last: Signal? = nil, keep: Signal? = nil, user: Signal? = nil) {
        self.data = data
        self.valid = valid
        self.ready = ready
        self.last = last
        self.keep = keep
        self.user = user
    }

    /// The beat moves this cycle.
    public var fires: Signal { valid && ready }

    /// The stream's shape.
    public var shape: StreamShape {
        StreamShape(dataWidth: data.width, hasLast: last != nil, keepWidth: keep?.width, userWidth: user?.width)
    }

    /// Everything a beat carries but `valid`, as one word for a register or a RAM, low bits
    /// first: data, keep, last, user.
    public func payload(in m: ModuleBuilder) -> Signal {
        m.cat([user, last, keep, data].compactMap { $0 })
    }

    /// Drives this stream's data, keep, last and user from `word`, a `payload` of its shape.
    public func assignPayload(from word: Signal) {
        data.assign(word.bits(data.width - 1, 0))
        var next = data.width
        if let keep {
            keep.assign(word.bits(next + keep.width - 1, next))
            next += keep.width
        }
        if let last {
            last.assign(word[next])
            next += 1
        }
        if let user { user.assign(word.bits(next + user.width - 1, next)) }
    }
}

/// The members a stream carries besides data, valid and ready.
public struct StreamShape: Sendable, Equatable {
    public let dataWidth: Int
    public let hasLast: Bool
    /// Width of `keep` (one bit per byte or lane), nil for none.
    public let keepWidth: Int?
    /// Width of `user` (tuser), nil for none.
    public let userWidth: Int?

    public init(dataWidth: Int, hasLast: Bool = false, keepWidth: Int? = nil, userWidth: Int? = nil) {
        self.dataWidth = dataWidth
        self.hasLast = hasLast
        self.keepWidth = keepWidth
        self.userWidth = userWidth
    }
}

extension ModuleBuilder {
    /// Input stream ports `<name>_tdata`, `_tvalid`, `_tready` (an output), `_tlast`, `_tkeep`:
    /// this module consumes the stream.
    public func sinkPort(_ name: String, _ shape: StreamShape, file: String = #fileID, line: Int = #line) -> Stream {
        Stream(
            data: input("\(name)_tdata", width: shape.dataWidth, file: file, line: line),
            valid: input("\(name)_tvalid", file: file, line: line),
            ready: output("\(name)_tready", file: file, line: line),
            last: shape.hasLast ? input("\(name)_tlast", file: file, line: line) : nil,
            keep: shape.keepWidth.map { input("\(name)_tkeep", width: $0, file: file, line: line) },
            user: shape.userWidth.map { input("\(name)_tuser", width: $0, file: file, line: line) })
    }

    /// Output stream ports `<name>_tdata`, `_tvalid`, `_tready` (an input), `_tlast`, `_tkeep`:
    /// this module produces the stream.
    public func sourcePort(_ name: String, _ shape: StreamShape, file: String = #fileID, line: Int = #line) -> Stream {
        Stream(
            data: output("\(name)_tdata", width: shape.dataWidth, file: file, line: line),
            valid: output("\(name)_tvalid", file: file, line: line),
            ready: input("\(name)_tready", file: file, line: line),
            last: shape.hasLast ? output("\(name)_tlast", file: file, line: line) : nil,
            keep: shape.keepWidth.map { output("\(name)_tkeep", width: $0, file: file, line: line) },
            user: shape.userWidth.map { output("\(name)_tuser", width: $0, file: file, line: line) })
    }

    /// An internal link: wires `<name>_data`, `_valid`, `_ready`, `_last`, `_keep`, each to be
    /// driven by its side.
    public func stream(_ name: String, _ shape: StreamShape, file: String = #fileID, line: Int = #line) -> Stream {
        Stream(
            data: wire("\(name)_data", width: shape.dataWidth, file: file, line: line),
            valid: wire("\(name)_valid", width: 1, file: file, line: line),
            ready: wire("\(name)_ready", width: 1, file: file, line: line),
            last: shape.hasLast ? wire("\(name)_last", width: 1, file: file, line: line) : nil,
            keep: shape.keepWidth.map { wire("\(name)_keep", width: $0, file: file, line: line) },
            user: shape.userWidth.map { wire("\(name)_user", width: $0, file: file, line: line) })
    }

    /// Wires the consumer `sink` to the producer `source`: the sink's data, valid, last and keep
    /// from the source's, the source's ready from the sink's. Their shapes must match.
    public func connect(_ sink: Stream, from source: Stream, file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        sink.data.assign(source.data, file: file, line: line)
        sink.valid.assign(source.valid, file: file, line: line)
        source.ready.assign(sink.ready, file: file, line: line)
        switch (sink.last, source.last) {
        case (let a?, let b?): a.assign(b, file: file, line: line)
        case (nil, nil): break
        case (_?, nil): report(.widthMismatch, "the sink stream has a last flag, its source has none", at: location)
        case (nil, _?): report(.widthMismatch, "the source stream's last flag would be dropped: the sink has none", at: location)
        }
        switch (sink.keep, source.keep) {
        case (let a?, let b?): a.assign(b, file: file, line: line)
        case (nil, nil): break
        case (_?, nil): report(.widthMismatch, "the sink stream has keep bits, its source has none", at: location)
        case (nil, _?): report(.widthMismatch, "the source stream's keep bits would be dropped: the sink has none", at: location)
        }
        switch (sink.user, source.user) {
        case (let a?, let b?): a.assign(b, file: file, line: line)
        case (nil, nil): break
        case (_?, nil): report(.widthMismatch, "the sink stream has user bits, its source has none", at: location)
        case (nil, _?): report(.widthMismatch, "the source stream's user bits would be dropped: the sink has none", at: location)
        }
    }

    /// A pipeline register stage `name` after `source`: it loads whenever it is empty or its beat
    /// leaves (`!valid || ready`), so it moves one beat per cycle; `source.ready` follows the
    /// returned stream's `ready` combinationally (use a skid stage to cut that path too). The
    /// returned stream's `ready` is a wire for its consumer to drive (`connect`).
    public func registerStage(_ source: Stream, name: String, file: String = #fileID, line: Int = #line) -> Stream {
        scope(name, file: file, line: line) {
            let valid = register("valid", width: 1, reset: 0, file: file, line: line)
            let data = register("data", width: source.data.width, reset: nil, file: file, line: line)
            let last = source.last.map { _ in register("last", width: 1, reset: nil, file: file, line: line) }
            let keep = source.keep.map { register("keep", width: $0.width, reset: nil, file: file, line: line) }
            let user = source.user.map { register("user", width: $0.width, reset: nil, file: file, line: line) }
            let ready = wire("ready", width: 1, file: file, line: line)
            let loads = wire("loads", !valid || ready, file: file, line: line)
            source.ready.assign(loads, file: file, line: line)
            when(loads, file: file, line: line) {
                valid.assign(source.valid, file: file, line: line)
                data.assign(source.data, file: file, line: line)
                if let last, let sourceLast = source.last { last.assign(sourceLast, file: file, line: line) }
                if let keep, let sourceKeep = source.keep { keep.assign(sourceKeep, file: file, line: line) }
                if let user, let sourceUser = source.user { user.assign(sourceUser, file: file, line: line) }
            }
            return Stream(data: data, valid: valid, ready: ready, last: last, keep: keep, user: user)
        }
    }
}

extension Instance {
    /// The instance's stream ports `<prefix>_tdata`, `_tvalid`, `_tready` and, where the module
    /// has them, `_tlast`, `_tkeep` and `_tuser`.
    public func stream(_ prefix: String, file: String = #fileID, line: Int = #line) -> Stream {
        Stream(
            data: port("\(prefix)_tdata", file: file, line: line),
            valid: port("\(prefix)_tvalid", file: file, line: line),
            ready: port("\(prefix)_tready", file: file, line: line),
            last: module.port(named: "\(prefix)_tlast") == nil ? nil : port("\(prefix)_tlast", file: file, line: line),
            keep: module.port(named: "\(prefix)_tkeep") == nil ? nil : port("\(prefix)_tkeep", file: file, line: line),
            user: module.port(named: "\(prefix)_tuser") == nil ? nil : port("\(prefix)_tuser", file: file, line: line))
    }
}
