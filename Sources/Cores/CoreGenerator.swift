import Codec
import HDL

/// What is asked of the generator: one core of a codebook.
public struct CoreRequest: Sendable, Equatable {
    public enum Role: String, Sendable { case decoder, encoder }
    public var role: Role
    /// Values per beat (P); nil: the design's default.
    public var valuesPerBeat: Int?
    /// 32-bit words per beat (Q); nil: the design's default.
    public var wordsPerBeat: Int?
    /// Frame engines (FORMAT.md section 12); nil: a core without engines.
    public var engines: Int?
    /// A tANS encoder's MAX_FRAME (values it holds per frame); with engines, also the frame size
    /// the buffers are sized for.
    public var maxFrame: Int
    /// Frame engines: buffers shared by the engines (banks) or a FIFO per engine; nil: on each
    /// side whichever takes fewer block RAMs.
    public var sharedBuffers: Bool?
    /// A core whose tables are loaded at run time through `s_table` (a set's: one slot per member).
    public var loadable: Bool
    /// Frames a one-lane tANS encoder codes at once, a step of each in turn (1, or 2:
    /// `TANSPairEncoderCore`, whose state loop has two cycles); with engines, each engine's.
    public var framesInFlight: Int

    public init(role: Role, valuesPerBeat: Int? = nil, wordsPerBeat: Int? = nil, engines: Int? = nil,
                maxFrame: Int = TANSEncoderCore.defaultMaxFrame, sharedBuffers: Bool? = nil, loadable: Bool = false,
                framesInFlight: Int = 1) {
        self.loadable = loadable
        self.framesInFlight = framesInFlight
        self.role = role
        self.valuesPerBeat = valuesPerBeat
        self.wordsPerBeat = wordsPerBeat
        self.engines = engines
        self.maxFrame = maxFrame
        self.sharedBuffers = sharedBuffers
    }
}

/// One design the generator knows: which requests it serves, and how it is built.
struct CoreDesign: Sendable {
    let name: String
    /// The frames in flight it takes (`CoreRequest.framesInFlight`).
    var framesInFlight: ClosedRange<Int> = 1...1
    let serves: @Sendable (Codebook, CoreRequest) -> Bool
    let build: @Sendable (Codebook, CoreRequest) throws -> Module
}

/// One design for codebook sets: which requests it serves, and how it is built.
struct SetCoreDesign: Sendable {
    let name: String
    let serves: @Sendable (CodebookSet, CoreRequest) -> Bool
    let build: @Sendable (CodebookSet, CoreRequest) throws -> Module
}

/// Picks the core for a codebook and a request: the first design in `designs` that serves it.
public enum CoreGenerator {
    /// Every design, the first that serves a request wins. P and Q of nil are the design's
    /// defaults; a one-lane codebook's cores move one value and one word per beat.
    static let designs: [CoreDesign] = [
        CoreDesign(name: "encoder with frame engines", framesInFlight: 1...2, serves: { _, r in r.engines != nil && r.role == .encoder }) { book, r in
            try FrameEngineCore.encoder(codebook: book, engines: r.engines ?? 1, valuesPerBeat: r.valuesPerBeat, wordsPerBeat: r.wordsPerBeat, maxFrame: r.maxFrame,
                                        framesInFlight: r.framesInFlight,
                                       sharedBuffers: r.sharedBuffers)
        },
        CoreDesign(name: "decoder with frame engines", serves: { _, r in r.engines != nil && r.role == .decoder }) { book, r in
            try FrameEngineCore.decoder(codebook: book, engines: r.engines ?? 1, valuesPerBeat: r.valuesPerBeat, wordsPerBeat: r.wordsPerBeat, maxFrame: r.maxFrame,
                                       sharedBuffers: r.sharedBuffers)
        },
        CoreDesign(name: "one-lane decoder", serves: { b, r in r.engines == nil && b.lanes == 1 && r.role == .decoder && r.isOneByOne }) { book, _ in
            switch book.coder {
            case .huffman: try HuffmanDecoderCore.module(codebook: book)
            case .tans: try TANSDecoderCore.module(codebook: book)
            }
        },
        CoreDesign(name: "one-lane tANS encoder, two frames in flight", framesInFlight: 2...2, serves: { b, r in
            r.engines == nil && b.lanes == 1 && !b.isHuffman && r.role == .encoder && r.isOneByOne
        }) { book, r in try TANSPairEncoderCore.module(codebook: book, maxFrame: r.maxFrame) },
        CoreDesign(name: "one-lane encoder", serves: { b, r in r.engines == nil && b.lanes == 1 && r.role == .encoder && r.isOneByOne }) { book, r in
            try oneValueEncoder(book, maxFrame: r.maxFrame)
        },
        CoreDesign(name: "K-lane Huffman decoder, P = K", serves: { b, r in
            r.engines == nil && b.lanes > 1 && b.isHuffman && r.role == .decoder && (r.valuesPerBeat ?? b.lanes) == b.lanes
        }) { book, r in try HuffmanLaneDecoderCore.module(codebook: book, wordsPerBeat: r.wordsPerBeat) },
        CoreDesign(name: "K-lane tANS decoder, P = K", serves: { b, r in
            r.engines == nil && b.lanes > 1 && !b.isHuffman && r.role == .decoder && r.valuesPerBeat == b.lanes
        }) { book, r in try TANSLaneDecoderCore.module(codebook: book, wordsPerBeat: r.wordsPerBeat) },
        CoreDesign(name: "pipelined K-lane decoder, P = 1", serves: { b, r in
            r.engines == nil && b.lanes > 1 && r.role == .decoder && r.isOneByOne
        }) { book, _ in try PipelinedLaneDecoderCore.module(codebook: book) },
        CoreDesign(name: "K-lane encoder, P = K", serves: { b, r in
            r.engines == nil && b.lanes > 1 && r.role == .encoder && r.valuesPerBeat == b.lanes
        }) { book, r in try fullRateLaneEncoder(book, maxFrame: r.maxFrame, wordsPerBeat: r.wordsPerBeat) },
        CoreDesign(name: "K-lane encoder, P = 1", serves: { b, r in r.engines == nil && b.lanes > 1 && r.role == .encoder && r.isOneByOne }) { book, r in
            try oneValueEncoder(book, maxFrame: r.maxFrame)
        },
    ]

    /// The core `request` asks of `codebook`.
    /// - Throws: `CoreError.unsupported` naming what the codebook's cores take when no design
    ///   serves the request; `ElaborationError` if the core fails its checks.
    public static func module(for codebook: Codebook, _ request: CoreRequest) throws -> Module {
        guard let design = designs.first(where: { $0.framesInFlight.contains(request.framesInFlight) && $0.serves(codebook, request) }) else {
            throw CoreError.unsupported(refusal(codebook, request))
        }
        return try design.build(codebook, request)
    }

    /// The decoder and/or encoder modules for `codebook` (each with its submodules).
    /// `maxFrame` is the tANS encoder's MAX_FRAME (values it holds per frame).
    /// `valuesPerBeat` and `wordsPerBeat` are a core's P and Q (nil: its defaults; a K-lane
    /// Huffman decoder moves P = K values per beat, a K-lane tANS decoder P = 1; both also the
    /// other); `engines`, N frame engines.
    public static func modules(for codebook: Codebook, decoder: Bool = true, encoder: Bool = true,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame, valuesPerBeat: Int? = nil,
                               wordsPerBeat: Int? = nil, engines: Int? = nil, sharedBuffers: Bool? = nil,
                               framesInFlight: Int = 1) throws -> [Module] {
        let roles = [decoder ? CoreRequest.Role.decoder : nil, encoder ? .encoder : nil].compactMap { $0 }
        return try roles.map { role in
            try module(for: codebook, CoreRequest(role: role, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, engines: engines,
                                                  maxFrame: maxFrame, sharedBuffers: sharedBuffers,
                                                  framesInFlight: role == .encoder ? framesInFlight : 1))
        }
    }

    /// The designs for a codebook set (FORMAT.md section 13), the first that serves a request wins.
    static let setDesigns: [SetCoreDesign] = [
        SetCoreDesign(name: "loadable tANS decoder", serves: { s, r in
            r.loadable && !s.members[0].isHuffman && r.role == .decoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try TANSDecoderCore.module(loadable: try loadableCapacity(set), name: set.name) },
        SetCoreDesign(name: "loadable tANS encoder", serves: { s, r in
            r.loadable && !s.members[0].isHuffman && r.role == .encoder && r.engines == nil && r.isOneByOne
        }) { set, r in try TANSEncoderCore.module(loadable: try loadableCapacity(set), name: set.name, maxFrame: r.maxFrame) },
        SetCoreDesign(name: "loadable Huffman decoder", serves: { s, r in
            r.loadable && s.members[0].isHuffman && r.role == .decoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try LoadableHuffmanDecoderCore.module(capacity: try loadableCapacity(set), name: set.name) },
        SetCoreDesign(name: "loadable Huffman encoder", serves: { s, r in
            r.loadable && s.members[0].isHuffman && r.role == .encoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try HuffmanEncoderCore.module(loadable: try loadableCapacity(set), name: set.name) },
        SetCoreDesign(name: "set encoder with frame engines", serves: { _, r in r.engines != nil && r.role == .encoder }) { set, r in
            try FrameEngineCore.encoder(set: set, engines: r.engines ?? 1, valuesPerBeat: r.valuesPerBeat, wordsPerBeat: r.wordsPerBeat, maxFrame: r.maxFrame,
                                       sharedBuffers: r.sharedBuffers)
        },
        SetCoreDesign(name: "set decoder with frame engines", serves: { _, r in r.engines != nil && r.role == .decoder }) { set, r in
            try FrameEngineCore.decoder(set: set, engines: r.engines ?? 1, valuesPerBeat: r.valuesPerBeat, wordsPerBeat: r.wordsPerBeat, maxFrame: r.maxFrame,
                                       sharedBuffers: r.sharedBuffers)
        },
        SetCoreDesign(name: "Huffman set decoder, one frame at a time", serves: { s, r in
            s.members[0].isHuffman && r.role == .decoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try HuffmanDecoderCore.module(set: set) },
        SetCoreDesign(name: "Huffman set encoder, one frame at a time", serves: { s, r in
            s.members[0].isHuffman && r.role == .encoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try HuffmanEncoderCore.module(set: set) },
        SetCoreDesign(name: "tANS set decoder, one frame at a time", serves: { s, r in
            !s.members[0].isHuffman && r.role == .decoder && r.engines == nil && r.isOneByOne
        }) { set, _ in try TANSDecoderCore.module(set: set) },
        SetCoreDesign(name: "tANS set encoder, one frame at a time", serves: { s, r in
            !s.members[0].isHuffman && r.role == .encoder && r.engines == nil && r.isOneByOne
        }) { set, r in try TANSEncoderCore.module(set: set, maxFrame: r.maxFrame) },
    ]

    /// The capacity of a loadable core generated from `set`: a slot per member, its widest
    /// tableLog, its members' one layout.
    public static func loadableCapacity(_ set: CodebookSet) throws -> LoadableCapacity {
        let layout = set.members[0].layout
        guard set.members.allSatisfy({ $0.layout == layout }) else {
            throw CoreError.unsupported("a loadable core codes one value layout: the members of '\(set.name)' have different transforms or widths")
        }
        let sizes = set.members.map { book -> Int in
            switch book.coder {
            case .tans(let r, _): r
            case .huffman(let lengths): lengths.max() ?? 1
            }
        }
        return LoadableCapacity(slots: set.members.count, tableLog: sizes.max() ?? 1, layout: layout, huffman: set.members[0].isHuffman)
    }

    /// The core `request` asks of a codebook set: its members' tables in one core, each frame
    /// coded by the member its `tuser` id names.
    /// - Throws: `CoreError.unsupported` naming what is built when no design serves the request.
    public static func module(for set: CodebookSet, _ request: CoreRequest) throws -> Module {
        guard request.framesInFlight == 1 else {
            throw CoreError.unsupported("--interleave \(request.framesInFlight): a set's encoders code one frame at a time (two frames in flight are for one codebook's one-lane tANS encoder)")
        }
        guard let design = setDesigns.first(where: { $0.serves(set, request) && (request.loadable == $0.name.hasPrefix("loadable")) }) else {
            if request.loadable {
                throw CoreError.unsupported("loadable cores are decoders and encoders of one value per beat without engines: drop --loadable, or --engines and --values-per-beat")
            }
            throw CoreError.unsupported("a set's cores without engines move one value and one word per beat: drop --values-per-beat and --words-per-beat, or add --engines N")
        }
        return try design.build(set, request)
    }

    /// Why no design serves the request, naming what the codebook's cores take.
    static func refusal(_ book: Codebook, _ r: CoreRequest) -> String {
        let k = book.lanes
        let p = r.valuesPerBeat ?? 1, q = r.wordsPerBeat ?? 1
        if r.framesInFlight != 1 {
            return "--interleave \(r.framesInFlight): only the one-lane tANS encoder (P = Q = 1, with or without engines) codes 2 frames at once"
        }
        if r.engines != nil {
            return "no core with frame engines (--engines) serves this request"
        }
        if k == 1 {
            if p != 1 { return "--values-per-beat \(p): a one-lane codebook's cores move one value per beat (section 8); P > 1 needs a K-lane codebook or --engines" }
            return "--words-per-beat \(q): a one-lane codebook's cores move one word per beat (section 8); Q > 1 needs a K-lane codebook or --engines"
        }
        switch (r.role, book.isHuffman) {
        case (.decoder, true) where p != 1 && p != k:
            return "--values-per-beat \(p): the K-lane Huffman decoder moves P = K = \(k) values per beat, or P = 1 (pipelined)"
        case (.decoder, false) where p != 1 && p != k:
            return "--values-per-beat \(p): the K-lane tANS decoder moves P = 1 value per beat (pipelined, the default) or P = K = \(k)"
        case (.decoder, _):
            return "--words-per-beat \(q): the pipelined K-lane decoder (P = 1) takes Q = 1 word per beat"
        case (.encoder, _) where p != 1 && p != k:
            return "--values-per-beat \(p): the K-lane encoders take P = 1 or P = K = \(k) values per beat"
        case (.encoder, _):
            return "--words-per-beat \(q): the K-lane encoders write Q = 1 word per beat at P = 1 (P = K takes more)"
        }
    }

    /// The encoder that takes one value per beat, of either coder, one lane or K.
    static func oneValueEncoder(_ codebook: Codebook, maxFrame: Int) throws -> Module {
        switch codebook.coder {
        case .huffman: try HuffmanEncoderCore.module(codebook: codebook)
        case .tans: try TANSEncoderCore.module(codebook: codebook, maxFrame: maxFrame)
        }
    }

    /// The K-lane decoder that moves P = K values per beat, of either coder.
    public static func fullRateLaneDecoder(_ codebook: Codebook, wordsPerBeat: Int? = nil) throws -> Module {
        switch codebook.coder {
        case .huffman: return try HuffmanLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        case .tans: return try TANSLaneDecoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        }
    }

    /// The K-lane encoder that takes P = K values per beat, of either coder. tANS: MAX_FRAME must
    /// be a multiple of K; the default is rounded down to one.
    public static func fullRateLaneEncoder(_ codebook: Codebook, maxFrame: Int = TANSEncoderCore.defaultMaxFrame, wordsPerBeat: Int? = nil) throws -> Module {
        switch codebook.coder {
        case .huffman: return try HuffmanRoundEncoderCore.module(codebook: codebook, wordsPerBeat: wordsPerBeat)
        case .tans:
            let k = codebook.lanes
            let frame = maxFrame == TANSEncoderCore.defaultMaxFrame ? max(k, maxFrame - maxFrame % k) : maxFrame
            return try TANSRoundEncoderCore.module(codebook: codebook, maxFrame: frame, wordsPerBeat: wordsPerBeat)
        }
    }
}

extension CoreRequest {
    /// P and Q are 1 or left to the design.
    var isOneByOne: Bool { (valuesPerBeat ?? 1) == 1 && (wordsPerBeat ?? 1) == 1 }
}

extension Codebook {
    var isHuffman: Bool { if case .huffman = coder { true } else { false } }
}
