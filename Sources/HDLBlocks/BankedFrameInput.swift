import HDL

/// The input side of `FrameEngines` when a beat holds at least one part for every engine (P >=
/// N parts, N >= 2, beats full but a frame's last): the mirror of `BankedFrameOutput`. One
/// buffer in P banks one part wide, shared by the engines, instead of a FIFO per engine written
/// P parts wide, so block RAMs grow as N, not N squared.
///
/// **Writing.** A beat is a row: part j into bank j, every bank at one address, in the ring of
/// the engine whose frame it belongs to (`turn`); each frame starts a new row. A frame's end
/// (its end row and the index of the last kept part) is a record in a small FIFO per engine.
/// The beat waits while that engine's ring is full.
///
/// **Reading without conflicts.** At cycle t engine e may read only bank (e + t) mod P, the
/// bank of its next part when it is in step: once in step, one part a cycle. Its reads go to
/// the banks through a rotation by t, the data come back through the inverse rotation, and wait
/// in a small prefetch FIFO (LUT RAM) from which the engine takes one part a cycle, `last` on
/// its frame's last part. A read is issued only when the FIFO will have room for it.
struct BankedFrameInput {
    /// Each engine's parts, one a beat, `last` on a frame's last part (`ready`: the engine's).
    let elements: [Stream]
    /// 1 when the beat offered now can be written (its engine's ring and records have room).
    let ready: Signal

    /// - Parameters:
    ///   - input: beats of `p` parts (its `ready` is the caller's: `ready` here, or-ed with
    ///     whatever drops beats).
    ///   - lastIndex: the index of the beat's last kept part; `ends`: the beat ends its frame.
    ///   - turn: the engine whose frame the beat belongs to; `writes`: the beat is taken now.
    ///   - rows: rows of the ring each engine owns (rounded up to a power of two).
    init(_ m: ModuleBuilder, input: Stream, parts p: Int, lastIndex: Signal, ends: Signal, turn: Signal, writes: Signal,
         scopes: [Scope], rows requestedRows: Int) {
        let n = scopes.count
        let width = input.data.width / p
        let rows = BlockFifo.rounded(requestedRows)
        let rowBits = bitsToAddress(rows)
        let pointerBits = rowBits + 1
        let bankBits = Swift.max(1, bitsToAddress(p))
        let engineBits = Swift.max(1, bitsToAddress(n))
        let addressBits = bitsToAddress(n * rows)
        let indexBits = lastIndex.width
        let recordDepth = 16
        let recordBits = bitsToAddress(recordDepth)
        let recordWidth = pointerBits + indexBits    // end row, index of the last kept part
        let prefetchDepth = 8
        let prefetchBits = bitsToAddress(prefetchDepth)
        func advance(_ phase: Signal) -> Signal { mux(phase == p - 1, m.constant(0, width: bankBits), phase + 1) }

        let scheduleTurn = m.register("bank_turn", width: bankBits, reset: 0)
        scheduleTurn.assign(advance(scheduleTurn))
        let turnA = m.register("bank_turn_a", width: bankBits, reset: 0)
        turnA.assign(scheduleTurn)
        let turnB = m.register("bank_turn_b", width: bankBits, reset: 0)
        turnB.assign(turnA)

        // Per engine: the writer's row, the reader's place, the records, the prefetch FIFO.
        var writeRows: [Signal] = [], roomy: [Signal] = [], requests: [Signal] = []
        var returns: [(valid: Signal, last: Signal)] = []
        var prefetch: [(write: Signal, writePointer: Signal, readPointer: Signal)] = []
        var outputs: [Stream] = []
        for e in 0..<n {
            m.within(scopes[e]) {
                let chosen = m.wire("in_chosen", turn == e)
                let writeRow = m.register("in_write_row", width: pointerBits, reset: 0)
                let readRow = m.register("in_read_row", width: pointerBits, reset: 0)
                let readBank = m.register("in_read_bank", width: bankBits, reset: 0)
                // The writer sees the reader's row a cycle late: a row is rewritten only after its read.
                let readRowSeen = m.register("in_read_row_seen", width: pointerBits, reset: 0)
                readRowSeen.assign(readRow)
                let ringFull = m.wire("in_ring_full", (writeRow - readRowSeen)[rowBits])
                let recordWrite = m.register("in_record_write", width: recordBits + 1, reset: 0)
                let recordRead = m.register("in_record_read", width: recordBits + 1, reset: 0)
                let recordsUsed = m.wire("in_records_used", recordWrite - recordRead)
                roomy.append(m.wire("in_room", !ringFull && !recordsUsed[recordBits]))
                writeRows.append(writeRow)
                let written = m.wire("in_written", writes && chosen)
                m.when(written) { writeRow.assign(writeRow + 1) }
                let recordWritten = m.wire("in_record_written", written && ends)
                m.when(recordWritten) { recordWrite.assign(recordWrite + 1) }
                let record = m.distributedRam("in_records", width: recordWidth, depth: recordDepth, writeEnable: recordWritten,
                                              writeAddress: recordWrite.bits(recordBits - 1, 0),
                                              writeData: m.cat([lastIndex, writeRow + 1]), readAddress: recordRead.bits(recordBits - 1, 0))
                let recordValid = m.wire("in_record_valid", recordsUsed != 0)
                let endRow = record.bits(pointerBits - 1, 0)
                let lastPart = record.bits(pointerBits + indexBits - 1, pointerBits)

                // The reader: a part of the next row when its bank comes round and the FIFO will have room.
                let phase = m.register("in_phase", width: bankBits, reset: UInt64(e % p))
                phase.assign(advance(phase))
                let aValid = m.register("in_a_valid", width: 1, reset: 0)
                let aLast = m.register("in_a_last", width: 1, reset: nil)
                let aRow = m.register("in_a_row", width: rowBits, reset: nil)
                let bValid = m.register("in_b_valid", width: 1, reset: 0)
                let bLast = m.register("in_b_last", width: 1, reset: nil)
                let cValid = m.register("in_c_valid", width: 1, reset: 0)
                let cLast = m.register("in_c_last", width: 1, reset: nil)
                let fifoWrite = m.register("in_prefetch_write", width: prefetchBits + 1, reset: 0)
                let fifoRead = m.register("in_prefetch_read", width: prefetchBits + 1, reset: 0)
                let fifoUsed = m.wire("in_prefetch_used", fifoWrite - fifoRead)
                let inFlight = fifoUsed.zeroExtended(to: prefetchBits + 2) + aValid.zeroExtended(to: prefetchBits + 2)
                    + bValid.zeroExtended(to: prefetchBits + 2) + cValid.zeroExtended(to: prefetchBits + 2)
                let rowWritten = m.wire("in_row_written", writeRow != readRow)
                let lastRow = m.wire("in_last_row", recordValid && endRow == readRow + 1)
                let lastValue = m.wire("in_last_value", lastRow && readBank == lastPart.resized(to: bankBits))
                let reads = m.wire("in_reads", phase == readBank && rowWritten && inFlight < prefetchDepth)
                aValid.assign(reads)
                aLast.assign(lastValue)
                aRow.assign(readRow.bits(rowBits - 1, 0))
                bValid.assign(aValid)
                bLast.assign(aLast)
                cValid.assign(bValid)
                cLast.assign(bLast)
                m.when(reads) {
                    m.when(lastValue || readBank == p - 1) {
                        readBank.assign(0)
                        readRow.assign(readRow + 1)
                    }.otherwise {
                        readBank.assign(readBank + 1)
                    }
                    m.when(lastValue) { recordRead.assign(recordRead + 1) }
                }
                requests.append(m.wire("in_request", n == 1 ? aRow : m.cat([m.constant(UInt64(e), width: engineBits), aRow]).truncated(to: addressBits)))
                returns.append((cValid, cLast))

                // The prefetch FIFO, written from stage c (the data arrive below).
                let fifoTakes = m.wire("in_prefetch_takes", cValid)
                m.when(fifoTakes) { fifoWrite.assign(fifoWrite + 1) }
                let element = m.stream("element", StreamShape(dataWidth: width, hasLast: true))
                let pops = m.wire("in_prefetch_pops", element.valid && element.ready)
                m.when(pops) { fifoRead.assign(fifoRead + 1) }
                element.valid.assign(fifoUsed != 0)
                prefetch.append((fifoTakes, fifoWrite, fifoRead))
                outputs.append(element)
            }
        }
        ready = LaneSelect.pick(roomy, by: turn)

        // The banks: a beat written as a row; reads rotated to their banks by the schedule.
        let writeAddress = m.wire("in_write_address", n == 1 ? writeRows[0].bits(rowBits - 1, 0)
                                  : m.cat([turn, LaneSelect.pick(writeRows, by: turn).bits(rowBits - 1, 0)]).truncated(to: addressBits))
        var lanes = (0..<p).map { i in i < n ? requests[i] : m.constant(0, width: addressBits) }
        var level = 0
        while (1 << level) < p {
            let shift = (1 << level) % p, bit = level
            lanes = (0..<p).map { i in m.wire("in_read_rotated\(bit)_\(i)", mux(turnA[bit], lanes[(i - shift + p) % p], lanes[i])) }
            level += 1
        }
        var bankData: [Signal] = []
        for b in 0..<p {
            m.scope("in_bank\(b)") {
                bankData.append(m.ram("mem", width: width, depth: n * rows, writeEnable: writes, writeAddress: writeAddress,
                                      writeData: input.data.bits(b * width + width - 1, b * width), readAddress: lanes[b], readEnable: nil))
            }
        }
        // The data back: engine e takes bank (e + t) mod P, t the turn its read was issued in.
        var back = bankData
        level = 0
        while (1 << level) < p {
            let shift = (1 << level) % p, bit = level
            back = (0..<p).map { i in m.wire("in_data_rotated\(bit)_\(i)", mux(turnB[bit], back[(i + shift) % p], back[i])) }
            level += 1
        }
        for e in 0..<n {
            m.within(scopes[e]) {
                let cData = m.register("in_c_data", width: width, reset: nil)
                cData.assign(back[e])
                let entry = m.distributedRam("in_prefetch", width: width + 1, depth: prefetchDepth, writeEnable: prefetch[e].write,
                                             writeAddress: prefetch[e].writePointer.bits(prefetchBits - 1, 0),
                                             writeData: m.cat([returns[e].last, cData]),
                                             readAddress: prefetch[e].readPointer.bits(prefetchBits - 1, 0))
                outputs[e].data.assign(entry.bits(width - 1, 0))
                outputs[e].last?.assign(entry[width])
            }
        }
        elements = outputs
    }
}
