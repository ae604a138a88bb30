import HDL

/// N copies of a one-frame engine behind one stream (FORMAT.md section 12's frame engines, as
/// multi-engine compression IP builds them): whole frames go to the engines in turn, each through
/// a block-RAM FIFO, and their results come back in stream order through another, so the
/// throughput grows with N while each engine stays its own small loop. Nothing here knows what
/// the engines compute.
///
/// **In.** Beats of up to `inParts` elements (`keep` a prefix; none: all kept), `last` on a
/// frame's last beat. The dispatcher sends frame f to engine f mod N: the beat goes into that
/// engine's input FIFO (or, where `sharedSides` says so, its ring in one buffer shared by all
/// engines, `BankedFrameInput`), and a beat with `last` moves the turn on. With `cutEvery` R, a frame is
/// also cut after every R beats (a tANS encoder's MAX_FRAME: R full beats of values), so each
/// engine's frame is one of its results.
///
/// **An engine** (any module with these ports): `s_axis_tdata` (one element), `_tvalid`,
/// `_tready`, `_tlast`; `m_axis_tdata` (one element), `_tvalid`, `_tready`, `_tlast` on its
/// frame's last result; optionally `m_axis_tkeep` (1 bit: 0 on a beat that only ends a frame
/// with no results) and `error`. Between FIFO and engine, an unpacker hands the head beat's
/// elements over one a cycle (the head sits in the FIFO's output register, with the index of
/// its last kept element, computed as it went in), through a skid stage; after the engine, a
/// packer gathers `outParts` results into a row (a frame's
/// last row may be shorter, or empty) and writes it to the output FIFO in the next cycle,
/// without stalling the engine.
///
/// **Out.** Where `sharedSides` says so (P >= N >= 2), the results go into one buffer of P banks
/// shared by all engines and are collected from it (`BankedFrameOutput`). Otherwise the
/// collector loads rows from engine 0's FIFO into its row register until a row with
/// `last`, then engine 1's, and so on: results in stream order, beats of up to `outParts` elements with `keep` (a
/// prefix) and `last` on a frame's last beat; an empty frame's row moves the turn on without a
/// beat. No decision waits on a FIFO's RAM read: the RAMs' data only reaches registers. The
/// output goes through a skid stage.
///
/// **Errors**, in stream order: when an engine's `error` rises, its packer writes one more row
/// (after the rows it has, so after the values of the frame that failed) flagged as an error,
/// and the collector raises `error` (sticky) when it reaches that row, after every frame before
/// the failed one has left. From then on every input beat is taken and dropped, so the input
/// never hangs.
public struct FrameEngines {
    /// The collected output beats (its `ready` is the caller's to drive).
    public let output: Stream
    /// An engine's `error`, raised when the collector reaches the failed frame (nil when the
    /// engine has none).
    public let error: Signal?

    /// ECP5 DP16KD block RAMs a `width` x `depth` memory takes: the best of the primitive's
    /// shapes (16384 x 1 ... 1024 x 18, and 512 x 36 for a simple dual port), side by side and
    /// stacked. The engines' buffers are chosen by this count.
    static func blockRams(width: Int, depth: Int) -> Int {
        let shapes = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)]
        return shapes.map { shape in ((width + shape.1 - 1) / shape.1) * ((depth + shape.0 - 1) / shape.0) }.min() ?? 0
    }

    /// Which sides go through buffers shared by the engines (banks, `BankedFrameInput` and
    /// `BankedFrameOutput`) rather than a FIFO per engine a whole beat wide: with N >= 2 (and,
    /// for the output, P >= N), `requested` if given, else each side whose FIFOs would be under
    /// 512 rows (a DP16KD is at most 36 bits wide, so such FIFOs are bound by their width, mostly
    /// empty, and N of them grow as N squared) when its banks take fewer block RAMs. Deeper FIFOs
    /// stay: the banks' rotations cost LUTs (at N = 8 on the Huffman decoder, 6,339 Xilinx LUTs
    /// and 80 DP16KD with both sides shared against 4,005 and 96 without).
    public static func sharedSides(engine: Module, count n: Int, inParts: Int, outParts: Int, inputDepth: Int, outputDepth: Int,
                                   requested: Bool?) -> (input: Bool, output: Bool) {
        guard n >= 2 else { return (false, false) }
        let canShareOut = outParts >= n
        if let requested { return (requested, requested && canShareOut) }
        let inWidth = engine.port(named: "s_axis_tdata")?.width ?? 1
        let outWidth = engine.port(named: "m_axis_tdata")?.width ?? 1
        let hasError = engine.port(named: "error") != nil
        // The FIFOs' rows as `init` builds them: the input beat with its last kept index and
        // `last`; the output row with its count, `last` and the error flag.
        let inFifoWidth = Swift.max(1, bitsToAddress(inParts)) + inParts * inWidth + 1
        let outFifoWidth = outParts * outWidth + (hasError ? 1 : 0) + bitsToAddress(outParts + 1) + 1
        let inBanks = Swift.max(n, inParts)
        let inRing = BankedFrameInput.ringRows(partsPerFrame: inputDepth * inParts, parts: inParts, banks: inBanks)
        let sharedIn = inBanks * blockRams(width: inWidth + 1, depth: n * inRing)
        let ownIn = n * blockRams(width: inFifoWidth, depth: BlockFifo.rounded(inputDepth))
        let sharedOut = outParts * blockRams(width: outWidth, depth: n * BlockFifo.rounded(outputDepth))
        let ownOut = n * blockRams(width: outFifoWidth, depth: BlockFifo.rounded(outputDepth))
        let widthBound = 512
        return (inputDepth < widthBound && sharedIn < ownIn, canShareOut && outputDepth < widthBound && sharedOut < ownOut)
    }

    public init(_ m: ModuleBuilder, name: String, engine: Module, count n: Int, input: Stream, inParts: Int, outParts: Int,
                inputDepth: Int, outputDepth: Int, cutEvery: Int? = nil, sharedBuffers: Bool? = false,
                file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        let scope = m.scope(name, file: file, line: line)
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        let inWidth = engine.port(named: "s_axis_tdata")?.width ?? 1
        let outWidth = engine.port(named: "m_axis_tdata")?.width ?? 1
        if input.data.width != inParts * inWidth {
            m.report(.widthMismatch, "frame engines '\(name)': beats of \(inParts) elements of \(inWidth) bits are \(inParts * inWidth) bits, not \(input.data.width)", at: location)
        }
        let turnBits = Swift.max(1, bitsToAddress(n))
        func next(_ turn: Signal) -> Signal { n == 1 ? turn : mux(turn == n - 1, m.constant(0, width: turnBits), turn + 1) }

        // The dispatcher: frame f to engine f mod N.
        let dispatchTurn = m.register("dispatch_turn", width: turnBits, reset: 0)
        var ends: Signal = input.last ?? m.constant(1, width: 1)
        if let rows = cutEvery, rows > 0 {
            let counted = m.register("dispatch_beats", width: Swift.max(1, bitsToAddress(rows)), reset: 0)
            let cut = m.wire("dispatch_cut", counted == rows - 1)
            let frameEnds = m.wire("dispatch_frame_ends", ends || cut)
            m.when(input.fires) { counted.assign(mux(frameEnds, m.constant(0, width: counted.width), counted + 1)) }
            ends = frameEnds
        }
        let dispatchEnds = m.wire("dispatch_ends", ends)
        m.when(input.fires && dispatchEnds) { dispatchTurn.assign(next(dispatchTurn)) }
        // Each beat goes into the FIFO with the index of its last kept element (keep is a
        // prefix: the last position whose next one is not kept), so the unpacker decides on
        // registers alone: one AND a position and an OR tree a bit, no chain.
        let indexBits = Swift.max(1, bitsToAddress(inParts))
        let keepIn = input.keep ?? m.constant((1 << UInt64(inParts)) - 1, width: inParts)
        let lastKept = (0..<inParts).map { i in i + 1 < inParts ? keepIn[i] && !keepIn[i + 1] : keepIn[i] }
        let lastIndexIn = m.wire("dispatch_last_index", m.cat((0..<indexBits).reversed().map { b in
            LaneSelect.any(m, lastKept.indices.filter { ($0 >> b) & 1 == 1 }.map { lastKept[$0] })
        }))
        let inShape = StreamShape(dataWidth: indexBits + input.data.width, hasLast: true)

        var readies: [Signal] = []
        var heads: [Stream] = []
        let shared = Self.sharedSides(engine: engine, count: n, inParts: inParts, outParts: outParts, inputDepth: inputDepth,
                                      outputDepth: outputDepth, requested: sharedBuffers)
        let banked = shared.output
        var engineResults: [Stream] = [], engineErrors: [Signal?] = []
        let engineScopes = (0..<n).map { m.scope("engine\($0)") }
        let hasError = engine.port(named: "error") != nil
        // Set once the collector reaches an engine's error row.
        let failed = hasError ? m.register("failed", width: 1, reset: 0) : m.constant(0, width: 1)
        // The input through banks shared by the engines (BankedFrameInput).
        var bankedIn: BankedFrameInput? = nil
        if shared.input {
            let takes = m.wire("dispatch_takes", width: 1)
            let block = m.within(m.scope("in")) {
                BankedFrameInput(m, input: input, parts: inParts, lastIndex: lastIndexIn, ends: dispatchEnds, turn: dispatchTurn, nextTurn: next(dispatchTurn),
                                 writes: takes, advances: input.fires && dispatchEnds, scopes: engineScopes, partsPerFrame: inputDepth * inParts, prefetchDepth: 16)
            }
            takes.assign(input.valid && block.ready && !failed)
            readies.append(block.ready)
            bankedIn = block
        }
        // An engine's input FIFO (a frame of beats) and the unpacker that hands over its parts.
        func unpacked(_ e: Int) -> Stream {
            let chosen = m.wire("chosen", dispatchTurn == e)
            let feed = m.stream("feed", inShape)
            feed.data.assign(cat(lastIndexIn, input.data))
            feed.last?.assign(dispatchEnds)
            feed.valid.assign(input.valid && chosen && !failed)
            readies.append(feed.ready && chosen)
            // The FIFO's head passes a register beside its RAM; the unpacker hands its
            // elements over one a cycle and pops it with the last.
            let head = BlockFifo(m, name: "in_fifo", input: feed, depth: inputDepth, outputRegister: true).output
            let element = m.stream("element", StreamShape(dataWidth: inWidth, hasLast: true))
            let index = m.register("unpack_index", width: indexBits, reset: 0)
            let atLast = m.wire("unpack_at_last", index == head.data.bits(indexBits + input.data.width - 1, input.data.width))
            let done = m.wire("unpack_done", element.fires && atLast)
            head.ready.assign(done)
            m.when(done) { index.assign(0) }.elseWhen(element.fires) { index.assign(index + 1) }
            element.data.assign(inParts == 1 ? head.data.bits(inWidth - 1, 0)
                                : LaneSelect.pick((0..<inParts).map { head.data.bits($0 * inWidth + inWidth - 1, $0 * inWidth) }, by: index))
            element.last?.assign(atLast && (head.last ?? m.constant(1, width: 1)))
            element.valid.assign(head.valid)
            return element
        }
        for e in 0..<n {
            m.within(engineScopes[e]) {
                let element: Stream
                if let bankedIn {
                    element = bankedIn.elements[e]
                } else {
                    element = unpacked(e)
                }
                // A register stage between the unpacker and the engine, whose own input logic
                // would otherwise follow the element multiplexer.
                let staged = m.skidStage(element, name: "element_skid")
                let unit = m.instance(engine, name: "engine")
                m.connect(unit.stream("s_axis"), from: staged)
                let results = unit.stream("m_axis")
                if banked {
                    engineResults.append(results)
                    engineErrors.append(hasError ? unit["error"] : nil)
                    return
                }

                // The packer: rows of outParts results, written a cycle after they fill.
                let countBits = bitsToAddress(outParts + 1)
                let rowShape = StreamShape(dataWidth: outParts * outWidth + (hasError ? 1 : 0), hasLast: true, keepWidth: countBits)
                let row = m.stream("row", rowShape)
                let slots = (0..<outParts).map { m.register("slot\($0)", width: outWidth, reset: nil) }
                let filled = m.register("filled", width: countBits, reset: 0)
                let pending = m.register("pending", width: 1, reset: 0)
                let pendingCount = m.register("pending_count", width: countBits, reset: nil)
                let pendingLast = m.register("pending_last", width: 1, reset: nil)
                let takes = m.wire("takes", !pending || row.ready)
                results.ready.assign(takes)
                let kept: Signal = results.keep.map { $0[0] } ?? m.constant(1, width: 1)
                let arrives = m.wire("arrives", results.valid && takes)
                let now = m.wire("now_filled", filled + mux(kept, m.constant(1, width: countBits), 0))
                let full = m.wire("row_full", now == outParts)
                let ends = results.last ?? m.constant(0, width: 1)
                m.when(row.ready) { pending.assign(0) }
                // The engine's error: one row more, flagged, after the rows it has written.
                var flagged: Signal = m.constant(0, width: 1)
                if hasError {
                    let reported = m.register("error_reported", width: 1, reset: 0)
                    let pendingError = m.register("pending_error", width: 1, reset: 0)
                    flagged = pendingError
                    let raise = m.wire("error_raise", unit["error"] && !reported && takes && !arrives)
                    m.when(raise) {
                        reported.assign(1)
                        pending.assign(1)
                        pendingError.assign(1)
                        pendingCount.assign(0)
                        pendingLast.assign(1)
                    }
                }
                m.when(arrives) {
                    for (i, slot) in slots.enumerated() { m.when(kept && filled == i) { slot.assign(results.data) } }
                    m.when(full || ends) {
                        pending.assign(1)
                        pendingCount.assign(now)
                        pendingLast.assign(ends)
                        filled.assign(0)
                    }.otherwise {
                        filled.assign(now)
                    }
                }
                row.valid.assign(pending)
                row.data.assign(m.cat((hasError ? [flagged] : []) + slots.reversed()))
                row.keep?.assign(pendingCount)
                row.last?.assign(pendingLast)
                // The collector sits among all N FIFOs, far from most of their RAMs: it reads
                // registers next to each.
                let outFifo = BlockFifo(m, name: "out_fifo", input: row, depth: outputDepth, outputRegister: true)
                heads.append(outFifo.output)
            }
        }
        input.ready.assign(LaneSelect.any(m, readies) || failed)
        if banked {
            let out = m.scope("out") {
                BankedFrameOutput(m, results: engineResults, errors: engineErrors, scopes: engineScopes, parts: outParts,
                                  rows: outputDepth, failed: hasError ? failed : nil)
            }
            output = m.skidStage(out.output, name: "out_skid")
            error = hasError ? failed : nil
            return
        }

        // The collector: engine 0's rows up to a frame's end, then engine 1's, ... The row at
        // the head of the engine whose turn it is is loaded into a register (the RAMs' reads are
        // slow); an empty frame's row is dropped there.
        let collectTurn = m.register("collect_turn", width: turnBits, reset: 0)
        let countBits = bitsToAddress(outParts + 1)
        let rowValid = m.register("row_valid", width: 1, reset: 0)
        let dataBits = outParts * outWidth
        let rowData = m.register("row_data", width: dataBits, reset: nil)
        let rowCount = m.register("row_count", width: countBits, reset: nil)
        let rowLast = m.register("row_last", width: 1, reset: nil)
        let outShape = StreamShape(dataWidth: outParts * outWidth, hasLast: true, keepWidth: outParts)
        let collected = m.stream("collected", outShape)
        let rowEmpty = m.wire("row_empty", rowCount == 0)
        collected.valid.assign(rowValid && !rowEmpty)
        collected.data.assign(rowData)
        collected.keep?.assign(m.cat((0..<outParts).reversed().map { rowCount > $0 }))
        collected.last?.assign(rowLast)
        let load = m.wire("collect_load", !rowValid || rowEmpty || collected.ready)
        let headValid = m.wire("head_valid", LaneSelect.pick(heads.map(\.valid), by: collectTurn))
        for (e, head) in heads.enumerated() { head.ready.assign(load && collectTurn == e) }
        let headLast = m.wire("head_last", LaneSelect.pick(heads.compactMap(\.last), by: collectTurn))
        m.when(load) {
            rowValid.assign(headValid)
            rowData.assign(LaneSelect.pick(heads.map { $0.data.bits(dataBits - 1, 0) }, by: collectTurn))
            rowCount.assign(LaneSelect.pick(heads.compactMap(\.keep), by: collectTurn))
            rowLast.assign(headLast)
        }
        m.when(load && headValid && headLast) { collectTurn.assign(next(collectTurn)) }
        if hasError {
            let headError = m.wire("head_error", LaneSelect.pick(heads.map { $0.data[dataBits] }, by: collectTurn))
            m.when(load && headValid && headError) { failed.assign(1) }
        }
        output = m.skidStage(collected, name: "out_skid")
        error = hasError ? failed : nil
    }
}
