import HDL

/// The output side of `FrameEngines` when a beat has room for a result of every engine (P >= N
/// parts, N >= 2): one buffer shared by all engines, in P banks one part wide, instead of a FIFO
/// per engine read P parts wide. A FIFO per engine costs block RAMs as N x P (a 16-bit value
/// read 16 a beat is 256 bits: eight 36-bit block RAMs side by side, each mostly empty when a
/// frame is 256 rows); the banks cost P x (N frames' rows), the bits the frames need.
///
/// **Placement.** Engine e owns `rows` rows of every bank (addresses e x rows + row, a ring);
/// part j of a frame goes to bank j mod P of its row, and each frame starts a new row, so the
/// collector reads a row of the frame as one read of every bank at one address, parts already
/// in order: nothing is multiplexed on the way out.
///
/// **Writing without conflicts.** At cycle t engine e may write only bank (e + t) mod P (a
/// rotating schedule, so no two engines ever write one bank together). Its results wait in a
/// small FIFO in LUT RAM (2P deep) until the bank of the next part comes round; once in step,
/// an engine writes one result a cycle, and a pause of its own costs no more than one turn of
/// the schedule (the FIFO holds the results made meanwhile). The writes reach the banks through
/// a rotation by t (log2 P levels of 2:1 multiplexers) between two register stages.
///
/// **Frames.** An engine closes a row when it fills or its frame ends; a frame's end (its end
/// row, the parts in its last row), an empty frame, and an engine's error are records in a
/// small FIFO per engine. The collector takes the engines in turn, one frame each, reads the
/// turn's rows as they are closed (a row counts as closed in the cycle its banks' write is
/// registered; the collector's read address is registered too, so the read comes after the
/// write), marks the frame's last row with `last` and its parts with `keep`, skips an empty
/// frame's record without a beat, and sets `failed` when it reaches an error record: every
/// frame before it has left, and the rows the failed frame had closed.
///
/// **Out.** Beats leave from a three-row queue of registers; a read is issued only when the
/// queue will have room for it (two cycles of latency: address register, then the banks' read).
struct BankedFrameOutput {
    /// The collected beats: P parts with `keep` (a prefix) and `last` on a frame's last beat.
    let output: Stream

    /// - Parameters:
    ///   - results: each engine's results, one part a beat (`last` on its frame's last part;
    ///     `keep`, if present, 0 on a beat that only ends an empty frame). Their `ready` is assigned here.
    ///   - errors: each engine's `error` (nil where it has none).
    ///   - scopes: each engine's scope, for the per-engine registers' names.
    ///   - rows: rows of the ring each engine owns (rounded up to a power of two).
    ///   - failed: the sticky error register, set here when the collector reaches an error record
    ///     (nil when no engine has an error).
    init(_ m: ModuleBuilder, results: [Stream], errors: [Signal?], scopes: [Scope], parts p: Int, rows requestedRows: Int, failed: Signal?) {
        let n = results.count
        let width = results[0].data.width
        let rows = BlockFifo.rounded(requestedRows)
        let rowBits = bitsToAddress(rows)
        let pointerBits = rowBits + 1
        let bankBits = Swift.max(1, bitsToAddress(p))
        let engineBits = Swift.max(1, bitsToAddress(n))
        let addressBits = bitsToAddress(n * rows)
        let countBits = bitsToAddress(p + 1)
        let stageDepth = BlockFifo.rounded(2 * p)
        let stageBits = bitsToAddress(stageDepth)
        let recordDepth = 16
        let recordBits = bitsToAddress(recordDepth)
        // A record, low bits first: end row, parts in the last row, empty, error.
        let recordWidth = pointerBits + countBits + 2
        func address(_ engine: Signal, _ row: Signal) -> Signal { m.cat([engine, row]).truncated(to: addressBits) }

        // The schedule: at cycle t engine e owns bank (e + t) mod P; `turnA` is last cycle's t,
        // the rotation of the requests decided then.
        let schedule = BankSchedule(m, banks: p)
        let turnA = schedule.delayed(schedule.turn, "bank_turn_a")

        struct EngineSide {
            let request: Signal          // write, address, data
            let readRow: Signal          // the collector's row in this engine's ring
            let closedRows: Signal       // rows closed (their banks are written in the next cycle)
            let recordValid: Signal
            let record: Signal
            let recordRead: Signal
        }
        var sides: [EngineSide] = []
        for e in 0..<n {
            m.within(scopes[e]) {
                let r = results[e]
                // Results wait here for their bank's turn.
                let stageWrite = m.register("out_stage_write", width: stageBits + 1, reset: 0)
                let stageRead = m.register("out_stage_read", width: stageBits + 1, reset: 0)
                let stageUsed = m.wire("out_stage_used", stageWrite - stageRead)
                let stageTakes = m.wire("out_stage_takes", r.valid && !stageUsed[stageBits])
                r.ready.assign(!stageUsed[stageBits])
                m.when(stageTakes) { stageWrite.assign(stageWrite + 1) }
                let kept: Signal = r.keep.map { $0[0] } ?? m.constant(1, width: 1)
                let ends: Signal = r.last ?? m.constant(0, width: 1)
                let head = m.distributedRam("out_stage", width: width + 2, depth: stageDepth, writeEnable: stageTakes,
                                            writeAddress: stageWrite.bits(stageBits - 1, 0), writeData: m.cat([ends, kept, r.data]),
                                            readAddress: stageRead.bits(stageBits - 1, 0))
                let headValid = m.wire("out_stage_valid", stageUsed != 0)
                let headKept = head[width], headLast = head[width + 1]

                let phase = m.register("out_phase", width: bankBits, reset: UInt64(e % p))
                phase.assign(schedule.advance(phase))
                let writeBank = m.register("out_write_bank", width: bankBits, reset: 0)
                let writeRow = m.register("out_write_row", width: pointerBits, reset: 0)
                let readRow = m.register("out_read_row", width: pointerBits, reset: 0)
                let ringFull = m.wire("out_ring_full", (writeRow - readRow)[rowBits])

                let recordWrite = m.register("out_record_write", width: recordBits + 1, reset: 0)
                let recordRead = m.register("out_record_read", width: recordBits + 1, reset: 0)
                let recordsUsed = m.wire("out_records_used", recordWrite - recordRead)
                // One record may be on its way (stage A) when this is judged.
                let recordRoom = m.wire("out_record_room", recordsUsed < recordDepth - 1)

                // Stage A: this cycle's decision, registered.
                let aWrite = m.register("out_a_write", width: 1, reset: 0)
                let aData = m.register("out_a_data", width: width, reset: nil)
                let aRow = m.register("out_a_row", width: rowBits, reset: nil)
                let aCloses = m.register("out_a_closes", width: 1, reset: 0)
                let aRecord = m.register("out_a_record", width: 1, reset: 0)
                let aRecordData = m.register("out_a_record_data", width: recordWidth, reset: nil)

                let stopped = errors[e] != nil ? m.register("out_error_reported", width: 1, reset: 0) : m.constant(0, width: 1)
                let inPhase = m.wire("out_in_step", phase == writeBank)
                let closesRow = m.wire("out_closes_row", headLast || writeBank == p - 1)
                let writes = m.wire("out_writes", headValid && headKept && inPhase && !ringFull && (!headLast || recordRoom) && !stopped)
                let marksEmpty = m.wire("out_marks_empty", headValid && !headKept && recordRoom && !stopped)
                m.when(writes || marksEmpty) { stageRead.assign(stageRead + 1) }
                aWrite.assign(writes)
                aData.assign(head.bits(width - 1, 0))
                aRow.assign(writeRow.bits(rowBits - 1, 0))
                aCloses.assign(writes && closesRow)
                aRecord.assign((writes && headLast) || marksEmpty)
                let partsInRow = (writeBank.zeroExtended(to: Swift.max(bankBits, countBits)) + 1).resized(to: countBits)
                aRecordData.assign(m.cat([m.constant(0, width: 1), marksEmpty, partsInRow, mux(marksEmpty, writeRow, writeRow + 1)]))
                m.when(writes) {
                    m.when(closesRow) {
                        writeBank.assign(0)
                        writeRow.assign(writeRow + 1)
                    }.otherwise {
                        writeBank.assign(writeBank + 1)
                    }
                }
                if let error = errors[e] {
                    // Once the engine's results so far are written (its partial row is dropped),
                    // a record that ends its output.
                    let raise = m.wire("out_error_raise", error && !stopped && !headValid && recordRoom)
                    m.when(raise) {
                        stopped.assign(1)
                        aRecord.assign(1)
                        aRecordData.assign(m.cat([m.constant(1, width: 1), m.constant(0, width: 1 + countBits), writeRow]))
                    }
                }

                // Stage A lands: rows closed and records written with the banks' register stage.
                // The banks are written a cycle later, but so is the collector's read: it
                // registers the address first.
                let closed = m.register("out_closed_rows", width: pointerBits, reset: 0)
                m.when(aCloses) { closed.assign(closed + 1) }
                let record = m.distributedRam("out_records", width: recordWidth, depth: recordDepth, writeEnable: aRecord,
                                              writeAddress: recordWrite.bits(recordBits - 1, 0), writeData: aRecordData,
                                              readAddress: recordRead.bits(recordBits - 1, 0))
                m.when(aRecord) { recordWrite.assign(recordWrite + 1) }
                sides.append(EngineSide(request: m.wire("out_request", m.cat([aWrite, address(m.constant(UInt64(e), width: engineBits), aRow), aData])), readRow: readRow,
                                        closedRows: closed, recordValid: m.wire("out_record_valid", recordsUsed != 0),
                                        record: record, recordRead: recordRead))
            }
        }

        // The rotation: bank b takes the request of engine (b - t) mod P.
        let requestWidth = 1 + addressBits + width
        let lanes = schedule.toBanks((0..<p).map { i in i < n ? sides[i].request : m.constant(0, width: requestWidth) }, by: turnA,
                                     name: "rotated")
        let readAddress = m.register("read_address", width: addressBits, reset: 0)
        var bankData: [Signal] = []
        for b in 0..<p {
            m.scope("bank\(b)") {
                let request = m.register("request", width: requestWidth, reset: nil)
                let writes = m.register("writes", width: 1, reset: 0)
                request.assign(lanes[b])
                writes.assign(lanes[b][requestWidth - 1])
                bankData.append(m.ram("mem", width: width, depth: n * rows, writeEnable: writes,
                                      writeAddress: request.bits(addressBits + width - 1, width), writeData: request.bits(width - 1, 0),
                                      readAddress: readAddress, readEnable: nil))
            }
        }

        // The collector.
        let turnBits = engineBits
        let turn = m.register("collect_turn", width: turnBits, reset: 0)
        let readRow = m.wire("collect_row", LaneSelect.pick(sides.map(\.readRow), by: turn))
        let closedRows = m.wire("collect_closed", LaneSelect.pick(sides.map(\.closedRows), by: turn))
        let recordValid = m.wire("collect_record_valid", LaneSelect.pick(sides.map(\.recordValid), by: turn))
        let record = m.wire("collect_record", LaneSelect.pick(sides.map(\.record), by: turn))
        let recordEnd = record.bits(pointerBits - 1, 0)
        let recordParts = record.bits(pointerBits + countBits - 1, pointerBits)
        let recordEmpty = record[pointerBits + countBits], recordError = record[pointerBits + countBits + 1]
        let rowClosed = m.wire("collect_row_closed", closedRows != readRow)
        let skipsEmpty = m.wire("collect_skips_empty", recordValid && recordEmpty)
        let reachesError = m.wire("collect_reaches_error", recordValid && recordError && recordEnd == readRow)
        let lastRow = m.wire("collect_last_row", recordValid && !recordEmpty && !recordError && recordEnd == readRow + 1)

        let queueCount = m.register("queue_count", width: 2, reset: 0)
        let inFlight1 = m.register("in_flight1", width: 1, reset: 0)
        let inFlight2 = m.register("in_flight2", width: 1, reset: 0)
        let collected = m.stream("collected", StreamShape(dataWidth: p * width, hasLast: true, keepWidth: p))
        let leaves = m.wire("queue_pop", queueCount != 0 && collected.ready)
        let occupied = queueCount.zeroExtended(to: 3) + inFlight1.zeroExtended(to: 3) + inFlight2.zeroExtended(to: 3)
        let room = m.wire("queue_room", occupied < 3 || leaves)
        let issues = m.wire("collect_issues", room && rowClosed && !skipsEmpty && !reachesError && !(failed ?? m.constant(0, width: 1)))
        let moves = m.wire("collect_moves", (issues && lastRow) || skipsEmpty)
        let meta1 = m.register("meta1", width: countBits + 1, reset: nil)
        let meta2 = m.register("meta2", width: countBits + 1, reset: nil)
        inFlight1.assign(issues)
        inFlight2.assign(inFlight1)
        meta2.assign(meta1)
        m.when(issues) {
            readAddress.assign(address(turn, readRow.bits(rowBits - 1, 0)))
            meta1.assign(m.cat([lastRow, mux(lastRow, recordParts, m.constant(UInt64(p), width: countBits))]))
        }
        for (e, side) in sides.enumerated() {
            let mine = turn == e
            m.when(issues && mine) { side.readRow.assign(side.readRow + 1) }
            m.when(moves && mine) { side.recordRead.assign(side.recordRead + 1) }
        }
        m.when(moves) { turn.assign(mux(turn == n - 1, m.constant(0, width: turnBits), turn + 1)) }
        if let failed { m.when(reachesError) { failed.assign(1) } }

        // The queue: slot 0 is the head; a row arrives into the first free slot after a pop.
        let rowWidth = p * width + countBits + 1
        let arriving = m.wire("queue_in", m.cat([meta2] + bankData.reversed()))
        let slots = (0..<3).map { m.register("queue_slot\($0)", width: rowWidth, reset: nil) }
        let afterPop = m.wire("queue_after_pop", queueCount - leaves.zeroExtended(to: 2))
        m.when(leaves) { for i in 0..<2 { slots[i].assign(slots[i + 1]) } }
        m.when(inFlight2) { for i in 0..<3 { m.when(afterPop == i) { slots[i].assign(arriving) } } }
        queueCount.assign(afterPop + inFlight2.zeroExtended(to: 2))

        let head = slots[0]
        let headParts = head.bits(p * width + countBits - 1, p * width)
        collected.valid.assign(queueCount != 0)
        collected.data.assign(head.bits(p * width - 1, 0))
        collected.keep?.assign(m.cat((0..<p).reversed().map { headParts > $0 }))
        collected.last?.assign(head[rowWidth - 1])
        output = collected
    }
}
