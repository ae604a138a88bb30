import Codec
import Foundation
import HDL
import HDLBlocks

/// Cores with N frame engines (FORMAT.md section 12): whole frames coded on N copies of the
/// codebook's best one-frame core side by side (`FrameEngines`), in the stream of a core without
/// engines. An engine is the one-lane core for a version-1 codebook and the K-lane core that
/// moves one value per beat for a version-2 one.
public enum FrameEngineCore {
    /// The most engines a core takes.
    public static let maxEngines = 64

    /// The mean bits of a coded value under the codebook's own distribution (Huffman: a code of
    /// length l stands for probability 2^-l; tANS: an entry of count c reads about R - log2(c)
    /// state bits), raw and literal bits included, EOF left out.
    public static func averageBitsPerValue(_ codebook: Codebook) -> Double {
        let layout = codebook.layout
        let n = layout.symbolCount
        var weight = 0.0, bits = 0.0
        func add(_ p: Double, _ codeBits: Double, entry: Int) {
            weight += p
            bits += p * (codeBits + Double(entry == n ? layout.symbolBits + layout.rawBits : layout.rawBits))
        }
        switch codebook.coder {
        case .huffman(let lengths):
            for (entry, l) in lengths.enumerated() where l > 0 && entry != n + 1 { add(pow(2, -Double(l)), Double(l), entry: entry) }
        case .tans(let r, let counts):
            for (entry, c) in counts.enumerated() where c > 0 && entry != n + 1 {
                add(Double(c) / Double(1 << r), Double(r) - log2(Double(c)), entry: entry)
            }
        }
        return weight > 0 ? bits / weight : Double(layout.valueBits + 16)
    }

    /// Words a frame of `values` values takes at the codebook's mean, with a quarter more for
    /// frames that code worse than the mean, lane padding and EOF.
    static func wordsPerFrame(_ codebook: Codebook, values: Int) -> Int {
        Int((Double(values) * averageBitsPerValue(codebook) * 1.25 / 32).rounded(.up)) + codebook.lanes + 2
    }

    /// N, P and Q of a core with `n` engines, checked: P defaults to N (the engines move a value a
    /// cycle each), Q to what P values of the codebook's mean entry need, with a quarter word to
    /// spare; P is 1 to 4N, a requested Q 1 to P. Also returns the mean bits per value.
    static func beatWidths(_ books: EngineBooks, engines n: Int, valuesPerBeat: Int?, wordsPerBeat: Int?,
                           role: CoreRequest.Role) throws -> (p: Int, q: Int, average: Double) {
        guard (1...maxEngines).contains(n) else { throw CoreError.unsupported("--engines must be 1 to \(maxEngines), is \(n)") }
        let p = valuesPerBeat ?? n
        guard (1...max(1, 4 * n)).contains(p) else {
            throw CoreError.unsupported(role == .encoder ? "--values-per-beat \(p): an encoder with \(n) engines takes 1 to \(4 * n) values per beat"
                                                         : "--values-per-beat \(p): a decoder with \(n) engines writes 1 to \(4 * n) values per beat")
        }
        let average = books.averageBitsPerValue
        let q = wordsPerBeat ?? max(1, Int((Double(p) * average / 32 + 0.25).rounded(.up)))
        guard (1...max(1, p)).contains(q) || wordsPerBeat == nil else {
            throw CoreError.unsupported(role == .encoder ? "--words-per-beat \(q): an encoder taking \(p) values per beat writes 1 to \(p) words per beat"
                                                         : "--words-per-beat \(q): a decoder writing \(p) values per beat takes 1 to \(p) words per beat")
        }
        return (p, q, average)
    }

    /// Drives the core's output port from the engines' collected beats (`tkeep` only where the
    /// port has it: P = Q = 1 cores have section 8's ports).
    static func drive(_ port: HDL.Stream, from collected: HDL.Stream, in m: ModuleBuilder) {
        if let user = port.user {
            // A set: each collected element is {id, value or word}; a beat holds one frame's.
            let parts = port.keep?.width ?? 1, width = port.data.width / parts, element = collected.data.width / parts
            port.data.assign(m.cat((0..<parts).reversed().map { collected.data.bits(element * $0 + width - 1, element * $0) }))
            user.assign(collected.data.bits(element - 1, width))
        } else {
            port.data.assign(collected.data)
        }
        port.valid.assign(collected.valid)
        port.last?.assign(collected.last ?? m.constant(1, width: 1))
        port.keep?.assign(collected.keep ?? m.constant(1, width: 1))
        collected.ready.assign(port.ready)
    }

    /// A set's input beat as the engines take it: each element `{tuser, element}` (a beat holds
    /// one frame's elements, all of its id).
    static func tagged(_ input: HDL.Stream, parts: Int, in m: ModuleBuilder) -> HDL.Stream {
        guard let user = input.user else { return input }
        let width = input.data.width / parts
        let tagged = m.stream("tagged", StreamShape(dataWidth: parts * (width + user.width), hasLast: input.last != nil, keepWidth: input.keep?.width))
        tagged.data.assign(m.cat((0..<parts).reversed().map { cat(user, input.data.bits(width * $0 + width - 1, width * $0)) }))
        tagged.valid.assign(input.valid)
        input.ready.assign(tagged.ready)
        if let last = input.last { tagged.last?.assign(last) }
        if let keep = input.keep { tagged.keep?.assign(keep) }
        return tagged
    }

    /// The encoder with `engines` engines: P values per beat in (default N: the engines take one
    /// value a cycle each), Q words per beat out (default: what P values of the codebook's mean
    /// length need). tANS engines hold MAX_FRAME values (`maxFrame`, a multiple of P): the core
    /// cuts longer input frames there, as a tANS encoder without engines does. The buffers are
    /// sized for frames of `maxFrame` values.
    /// `framesInFlight` 2: each engine a `TANSPairEncoderCore` (one-lane tANS codebooks).
    public static func encoder(codebook: Codebook, engines n: Int, valuesPerBeat: Int? = nil, wordsPerBeat: Int? = nil,
                               maxFrame requestedFrame: Int = TANSEncoderCore.defaultMaxFrame, framesInFlight: Int = 1,
                               sharedBuffers: Bool? = nil) throws -> Module {
        try encoder(EngineBooks(codebook), engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, maxFrame: requestedFrame,
                    framesInFlight: framesInFlight, sharedBuffers: sharedBuffers)
    }

    /// The encoder for a codebook set with `engines` engines: each engine is the set's one-frame
    /// encoder and holds every member's tables (a frame may be of any member, and the engines
    /// take frames in turn whatever their ids; sharing one table among engines would put a
    /// crossbar on every engine's loop). The id travels with each value through the input
    /// buffers and with each word back (`{id, element}`), and leaves on `m_axis_tuser`. A frame
    /// whose id names no codebook raises `error`: the frames before it leave, then the output stops.
    public static func encoder(set: CodebookSet, engines n: Int, valuesPerBeat: Int? = nil, wordsPerBeat: Int? = nil,
                               maxFrame requestedFrame: Int = TANSEncoderCore.defaultMaxFrame, sharedBuffers: Bool? = nil) throws -> Module {
        try encoder(EngineBooks(set), engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, maxFrame: requestedFrame, sharedBuffers: sharedBuffers)
    }

    static func encoder(_ books: EngineBooks, engines n: Int, valuesPerBeat: Int?, wordsPerBeat: Int?,
                        maxFrame requestedFrame: Int, framesInFlight: Int = 1, sharedBuffers: Bool?) throws -> Module {
        let codebook = books.first
        let (p, q, average) = try beatWidths(books, engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, role: .encoder)
        let isTANS: Bool = if case .tans = codebook.coder { true } else { false }
        var maxFrame = requestedFrame
        if isTANS && maxFrame % p != 0 {
            guard requestedFrame == TANSEncoderCore.defaultMaxFrame else {
                throw CoreError.unsupported("MAX_FRAME \(maxFrame) is not a multiple of the \(p) values per beat: the engines' frames are cut on beat boundaries")
            }
            maxFrame = max(p, maxFrame - maxFrame % p)
        }
        let engine: Module
        if let set = books.codebookSet {
            let one = try CoreGenerator.module(for: set, CoreRequest(role: .encoder, maxFrame: maxFrame)).renamed("\(books.name)_encoder_engine_core")
            engine = try UserInData.wrap(one, name: "\(books.name)_encoder_engine")
        } else {
            guard let one = try CoreGenerator.modules(for: codebook, decoder: false, encoder: true, maxFrame: maxFrame, valuesPerBeat: 1,
                                                      framesInFlight: framesInFlight).first else {
                throw CoreError.unsupported("no encoder for codebook '\(codebook.name)'")
            }
            engine = one.renamed("\(codebook.name)_encoder_engine")
        }
        let valueBits = codebook.layout.valueBits
        let inputRows = (maxFrame + p - 1) / p
        let words = books.wordsPerFrame(values: maxFrame)
        // Two frames of words, so an engine starts its next frame while the last waits for the
        // collector; but where two frames would double the block RAMs (past 512 rows, a
        // DP16KD's depth at 36 bits) and one frame fits, 512 rows: the engine then waits a little.
        let frameRows = (words + q - 1) / q
        let outputRows = 2 * frameRows + 2 > 512 && frameRows + 2 <= 512 ? 512 : 2 * frameRows + 2
        let keepPorts = p > 1 || q > 1
        let shared = FrameEngines.sharedSides(engine: engine, count: n, inParts: p, outParts: q, inputDepth: inputRows,
                                              outputDepth: outputRows, requested: sharedBuffers)

        return try Module("\(books.name)_encoder") { m in
            m.comment("\(codebook.coder.name == "huffman" ? "Huffman" : "tANS") encoder for \(books.label) with N = \(n) frame engines (FORMAT.md section 12), K = \(codebook.lanes) lane(s).")
            books.describeSet(m, engine: engine)
            m.comment("P = \(p) values per beat in (s_axis\(keepPorts ? ", tkeep per value" : ""), tlast on a frame's last value), Q = \(q) words per beat out (m_axis\(keepPorts ? ", tkeep per word" : ""), tlast on a frame's last word).")
            m.comment("Frame f is coded by engine f mod \(n) (\(engine.name), one value per cycle), and its words leave in stream order.")
            if isTANS { m.comment("MAX_FRAME = \(maxFrame) values: a longer input frame is cut into frames of \(maxFrame) values (the last one shorter), each a valid frame.") }
            m.comment("Buffering per engine: \(BlockFifo.rounded(inputRows)) beats of \(p) values in (\(maxFrame) values a frame), \(BlockFifo.rounded(outputRows)) rows of \(q) words out (\(outputRows >= 2 * frameRows ? "two frames" : "more than a frame") of about \(words) words), in block RAM"
                      + sharingNote(shared, engines: n, input: ("values", p), output: ("word", q)))
            books.header(m, timing: [
                "Throughput: up to \(n) values per cycle (one per engine) while Q = \(q) words per cycle carry the output (\(String(format: "%.2f", average)) bits per value on average).",
                "Latency: about a frame: a frame's words leave after its engine has coded it\(isTANS ? " (a tANS engine holds the whole frame first)" : "").",
            ])
            let values = m.sinkPort("s_axis", StreamShape(dataWidth: p * valueBits, hasLast: true, keepWidth: keepPorts ? p : nil, userWidth: books.idBits))
            let words = m.sourcePort("m_axis", StreamShape(dataWidth: 32 * q, hasLast: true, keepWidth: keepPorts ? q : nil, userWidth: books.idBits))
            let error = books.codebookSet.map { _ in m.output("error") }
            let farm = FrameEngines(m, name: "engines", engine: engine, count: n, input: tagged(values, parts: p, in: m), inParts: p, outParts: q,
                                    inputDepth: inputRows, outputDepth: outputRows, cutEvery: isTANS ? maxFrame / p : nil,
                                    sharedBuffers: sharedBuffers)
            drive(words, from: farm.output, in: m)
            error?.assign(farm.error ?? m.constant(0, width: 1))
        }
    }

    /// The decoder with `engines` engines: Q words per beat in (default: what N values of the
    /// codebook's mean length need), with `s_axis_tlast` on each frame's last word, P values per
    /// beat out (default N). An engine is the one-lane decoder (version 1) or the pipelined K-lane
    /// decoder at P = 1 (version 2), taking `tlast` (section 12's frame check) and marking empty
    /// frames. The buffers hold a frame of `maxFrame` values on each
    /// side: its words in (at the mean + 25%), its values out, so an engine decodes its frame
    /// while the collector still drains the frames before it. Longer frames are decoded too, with
    /// waits.
    public static func decoder(codebook: Codebook, engines n: Int, valuesPerBeat: Int? = nil, wordsPerBeat: Int? = nil,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame, sharedBuffers: Bool? = nil) throws -> Module {
        try decoder(EngineBooks(codebook), engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, maxFrame: maxFrame, sharedBuffers: sharedBuffers)
    }

    /// The decoder for a codebook set with `engines` engines: each engine is the set's one-frame
    /// decoder and holds every member's tables (why: as the encoder's). The id travels with each
    /// word through the input buffers (`{id, word}`) and with each value back, and leaves on
    /// `m_axis_tuser`; an id that names no codebook is an engine's error, in stream order.
    public static func decoder(set: CodebookSet, engines n: Int, valuesPerBeat: Int? = nil, wordsPerBeat: Int? = nil,
                               maxFrame: Int = TANSEncoderCore.defaultMaxFrame, sharedBuffers: Bool? = nil) throws -> Module {
        try decoder(EngineBooks(set), engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, maxFrame: maxFrame, sharedBuffers: sharedBuffers)
    }

    static func decoder(_ books: EngineBooks, engines n: Int, valuesPerBeat: Int?, wordsPerBeat: Int?,
                        maxFrame: Int, sharedBuffers: Bool?) throws -> Module {
        let codebook = books.first
        let (p, q, average) = try beatWidths(books, engines: n, valuesPerBeat: valuesPerBeat, wordsPerBeat: wordsPerBeat, role: .decoder)
        guard maxFrame >= 1 else { throw CoreError.unsupported("--max-frame must be at least 1, is \(maxFrame)") }
        let framing = DecoderFraming.engine
        let engine: Module
        if let set = books.codebookSet {
            let one = try (codebook.isHuffman ? HuffmanDecoderCore.module(set: set, framing: framing) : TANSDecoderCore.module(set: set, framing: framing))
                .renamed("\(books.name)_decoder_engine_core")
            engine = try UserInData.wrap(one, name: "\(books.name)_decoder_engine")
        } else {
            engine = try (codebook.lanes > 1 ? PipelinedLaneDecoderCore.module(codebook: codebook, framing: framing)
                          : codebook.isHuffman ? HuffmanDecoderCore.module(codebook: codebook, framing: framing)
                          : TANSDecoderCore.module(codebook: codebook, framing: framing))
                .renamed("\(codebook.name)_decoder_engine")
        }
        let valueBits = codebook.layout.valueBits
        let words = books.wordsPerFrame(values: maxFrame)
        let inputRows = (words + q - 1) / q
        let outputRows = (maxFrame + p - 1) / p
        let keepPorts = p > 1 || q > 1
        let shared = FrameEngines.sharedSides(engine: engine, count: n, inParts: q, outParts: p, inputDepth: inputRows,
                                              outputDepth: outputRows, requested: sharedBuffers)

        return try Module("\(books.name)_decoder") { m in
            m.comment("\(codebook.isHuffman ? "Huffman" : "tANS") decoder for \(books.label) with N = \(n) frame engines (FORMAT.md section 12), K = \(codebook.lanes) lane(s).")
            books.describeSet(m, engine: engine)
            m.comment("Q = \(q) words per beat in (s_axis\(keepPorts ? ", tkeep per word" : ""), tlast on the beat with a frame's last word; a beat holds words of one frame), P = \(p) values per beat out (m_axis\(keepPorts ? ", tkeep per value" : ""), tlast on a frame's last value).")
            m.comment("Frame f is decoded by engine f mod \(n) (\(engine.name), one value per cycle), and its values leave in stream order; an empty frame gives no beat.")
            m.comment("error (sticky until reset) rises when the frames before a corrupt one have left: an invalid code, a tANS frame not ending in state 0, or EOF not ending in the tlast word (early or late).")
            m.comment("Buffering per engine: \(BlockFifo.rounded(inputRows)) beats of \(q) words in (a frame of \(maxFrame) values at about \(words) words), \(BlockFifo.rounded(outputRows)) rows of \(p) values out, in block RAM"
                      + sharingNote(shared, engines: n, input: ("words", q), output: ("value", p)))
            books.header(m, timing: [
                "Throughput: up to \(n) values per cycle (one per engine) while Q = \(q) words per cycle carry the input (\(String(format: "%.2f", average)) bits per value on average) and frames are about \(maxFrame) values or fewer.",
                "Latency: about a frame: a frame's values leave once the frames before it have left (each engine starts on its frame's first word).",
            ])
            let input = m.sinkPort("s_axis", StreamShape(dataWidth: 32 * q, hasLast: true, keepWidth: keepPorts ? q : nil, userWidth: books.idBits))
            let values = m.sourcePort("m_axis", StreamShape(dataWidth: p * valueBits, hasLast: true, keepWidth: keepPorts ? p : nil, userWidth: books.idBits))
            let error = m.output("error")
            let farm = FrameEngines(m, name: "engines", engine: engine, count: n, input: tagged(input, parts: q, in: m), inParts: q, outParts: p,
                                    inputDepth: inputRows, outputDepth: outputRows, sharedBuffers: sharedBuffers)
            drive(values, from: farm.output, in: m)
            error.assign(farm.error ?? m.constant(0, width: 1))
        }
    }

    /// The end of the header's buffering sentence: which sides go through banks shared by the
    /// engines (`input`: what comes in, per beat; `output`: one element out, per row).
    static func sharingNote(_ shared: (input: Bool, output: Bool), engines n: Int, input: (name: String, perBeat: Int),
                            output: (element: String, perRow: Int)) -> String {
        var sharing: [String] = []
        let inBanks = max(n, input.perBeat)
        if shared.input { sharing.append("the \(input.name) in through one buffer of \(inBanks) banks shared by the engines (engine e reads bank (e + t) mod \(inBanks) at cycle t)") }
        if shared.output {
            let b = output.perRow
            sharing.append("the \(output.element)s out through one buffer of \(b) banks shared by the engines (bank j holds \(output.element) j of each row; engine e writes bank (e + t) mod \(b) at cycle t)")
        }
        return sharing.isEmpty ? "." : "; " + sharing.joined(separator: "; ") + "."
    }
}

/// What frame engines code: one codebook, or the members of a set (each frame by the member its
/// `tuser` id names).
struct EngineBooks {
    let name: String
    let codebooks: [Codebook]
    let codebookSet: CodebookSet?

    init(_ codebook: Codebook) {
        (name, codebooks, codebookSet) = (codebook.name, [codebook], nil)
    }

    init(_ set: CodebookSet) {
        (name, codebooks, codebookSet) = (set.name, set.members, set)
    }

    var first: Codebook { codebooks[0] }
    /// Bits of `tuser` (a set), nil for one codebook.
    var idBits: Int? { codebookSet?.idBits }
    var label: String { codebookSet == nil ? "codebook '\(name)'" : "codebook set '\(name)' (\(codebooks.count) codebooks, the frame's id on tuser)" }
    /// The mean bits of a coded value of the member that codes worst (sizes Q and the buffers).
    var averageBitsPerValue: Double { codebooks.map(FrameEngineCore.averageBitsPerValue).max() ?? 0 }

    func wordsPerFrame(values: Int) -> Int { codebooks.map { FrameEngineCore.wordsPerFrame($0, values: values) }.max() ?? 0 }

    /// For a set: its members, and that every engine holds all their tables.
    func describeSet(_ m: ModuleBuilder, engine: Module) {
        guard let set = codebookSet else { return }
        SetIds.describe(m, set.members, details: SetIds.tableLogDetails(set.members))
        m.comment("Every engine (\(engine.name)) holds every codebook's tables: frames go to engines in turn whatever their ids, and one shared table would sit on every engine's loop.")
    }

    /// The header lines: one codebook's (fingerprint, provenance, timing), or a set's timing.
    func header(_ m: ModuleBuilder, timing: [String]) {
        if codebookSet == nil {
            CoreHeader.describe(m, codebook: first, timing: timing)
        } else {
            m.comment("hwgen \(HWGenRelease.version).")
            for line in timing { m.comment(line) }
        }
    }
}
