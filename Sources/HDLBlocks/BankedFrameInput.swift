import HDL

/// The input side of `FrameEngines` with one buffer shared by all N engines: B = max(N, parts
/// a beat) banks one part wide, instead of a FIFO per engine written a whole beat wide. A FIFO
/// per engine costs block RAMs as N x the beat's width (each one mostly empty); the banks cost
/// what N frames' parts need, so block RAMs grow as N, not N squared.
///
/// **Rings.** Engine e owns `rows` rows of every bank: a ring of B x rows parts, part w of the
/// ring in bank w mod B, row w / B (address e x rows + row). An engine's parts go into its ring
/// one after another, frames back to back; each part carries its frame's `last`.
///
/// **Writing.** A beat (parts 0 .. k-1 kept, all of one frame; short beats anywhere) belongs to
/// the engine of `turn`. It is registered with that ring's write place (bank b0, row r0), then
/// rotated by b0 so part i lands in bank (b0 + i) mod B, row r0 or r0 + 1: every bank written
/// at most once a beat. The beat waits while that ring has no room for a whole beat.
///
/// **Reading without conflicts.** At cycle t engine e may read only bank (e + t) mod B, which
/// is the bank of its next part when it is in step: then one part a cycle. Its reads reach the
/// banks through a rotation by t, the data come back through the inverse rotation into a small
/// prefetch FIFO (LUT RAM) from which the engine takes one part a cycle. A read is issued only
/// when the FIFO will have room for it, and only for parts whose banks were written before.
///
/// **Room, a register.** Whether the beat offered fits is decided a cycle ahead, for the ring
/// that will have the turn, from the counts as they stand (a ring has room next cycle when it
/// has room for two beats now: at most one beat goes in meanwhile, and reads only free room).
/// So `ready` is a flip-flop: the ring's counts, their subtraction and the N-way choice of the
/// ring are off the path from `ready` to every engine's write place.
struct BankedFrameInput {
    /// Each engine's parts, one a beat, `last` on its frame's last part (`ready`: the engine's).
    let elements: [Stream]
    /// 1 when the beat offered now fits its engine's ring (a register).
    let ready: Signal

    /// Rows of each engine's ring: `partsPerFrame` parts (at least two beats: the room register
    /// decides with one beat to spare) in `banks` banks, a power of two rows.
    static func ringRows(partsPerFrame: Int, parts: Int, banks: Int) -> Int {
        BlockFifo.rounded((Swift.max(partsPerFrame, 2 * parts) + banks - 1) / banks)
    }

    /// - Parameters:
    ///   - input: beats of `parts` parts, `keep` a prefix (its `ready` is the caller's).
    ///   - lastIndex: the index of the beat's last kept part; `ends`: the beat ends its frame.
    ///   - turn: the engine whose frame the beat belongs to; `writes`: the beat is taken now;
    ///     `advances`: the turn moves on to `nextTurn` after this cycle.
    ///   - partsPerFrame: parts a ring should hold (rounded up to whole rows of B, a power of two of them).
    init(_ m: ModuleBuilder, input: Stream, parts q: Int, lastIndex: Signal, ends: Signal, turn: Signal, nextTurn: Signal, writes: Signal, advances: Signal,
         scopes: [Scope], partsPerFrame: Int, prefetchDepth: Int) {
        let n = scopes.count
        let width = input.data.width / q
        let b = Swift.max(n, q)
        let rows = Self.ringRows(partsPerFrame: partsPerFrame, parts: q, banks: b)
        let rowBits = bitsToAddress(rows)
        let capacity = rows * b
        let countBits = bitsToAddress(capacity + 1) + 1
        let bankBits = Swift.max(1, bitsToAddress(b))
        let engineBits = Swift.max(1, bitsToAddress(n))
        let addressBits = bitsToAddress(n * rows)
        let indexBits = lastIndex.width
        let prefetchBits = bitsToAddress(prefetchDepth)
        func address(_ engine: Signal, _ row: Signal) -> Signal { m.cat([engine, row]).truncated(to: addressBits) }

        // The turn a read was decided in, when it reaches the banks (a) and its data leave them (b).
        let schedule = BankSchedule(m, banks: b)
        let turnA = schedule.delayed(schedule.turn, "bank_turn_a")
        let turnB = schedule.delayed(turnA, "bank_turn_b")

        // The beat, registered with its ring's write place.
        let beatValid = m.register("beat_valid", width: 1, reset: 0)
        let beatData = m.register("beat_data", width: q * width, reset: nil)
        let beatCount = m.register("beat_count", width: indexBits + 1, reset: nil)
        let beatLast = m.register("beat_last", width: 1, reset: nil)
        let beatEngine = m.register("beat_engine", width: engineBits, reset: nil)
        let beatBank = m.register("beat_bank", width: bankBits, reset: nil)
        let beatRow = m.register("beat_row", width: rowBits, reset: nil)
        let kept = m.wire("beat_kept", lastIndex.zeroExtended(to: indexBits + 1) + 1)

        // Per engine: the write place, the parts written and read, the reader, the prefetch FIFO.
        var roomy: [Signal] = [], writeBanks: [Signal] = [], writeRows: [Signal] = []
        var requests: [Signal] = []
        var prefetch: [(write: Signal, writePointer: Signal, readPointer: Signal)] = []
        var outputs: [Stream] = []
        for e in 0..<n {
            m.within(scopes[e]) {
                let chosen = m.wire("in_chosen", turn == e)
                let writeBank = m.register("in_write_bank", width: bankBits, reset: 0)
                let writeRow = m.register("in_write_row", width: rowBits, reset: 0)
                let taken = m.register("in_taken", width: countBits, reset: 0)       // parts accepted
                let landed = m.register("in_landed", width: countBits, reset: 0)     // parts in the banks
                let read = m.register("in_read", width: countBits, reset: 0)         // parts read
                roomy.append(m.wire("in_room_ahead", (taken - read) <= capacity - 2 * q))
                writeBanks.append(writeBank)
                writeRows.append(writeRow)
                let accepted = m.wire("in_accepted", writes && chosen)
                m.when(accepted) {
                    taken.assign(taken + kept.zeroExtended(to: countBits))
                    let sum = writeBank.zeroExtended(to: bankBits + 1) + kept.resized(to: bankBits + 1)
                    m.when(sum >= b) {
                        writeBank.assign((sum - b).truncated(to: bankBits))
                        writeRow.assign(writeRow + 1)
                    }.otherwise {
                        writeBank.assign(sum.truncated(to: bankBits))
                    }
                }
                m.when(beatValid && beatEngine == e) { landed.assign(landed + beatCount.zeroExtended(to: countBits)) }

                // The reader: its next part when that part's bank comes round and the FIFO will have room.
                let phase = m.register("in_phase", width: bankBits, reset: UInt64(e % b))
                phase.assign(schedule.advance(phase))
                let readBank = m.register("in_read_bank", width: bankBits, reset: 0)
                let readRow = m.register("in_read_row", width: rowBits, reset: 0)
                let aValid = m.register("in_a_valid", width: 1, reset: 0)
                let aRow = m.register("in_a_row", width: rowBits, reset: nil)
                let bValid = m.register("in_b_valid", width: 1, reset: 0)
                let cValid = m.register("in_c_valid", width: 1, reset: 0)
                let fifoWrite = m.register("in_prefetch_write", width: prefetchBits + 1, reset: 0)
                let fifoRead = m.register("in_prefetch_read", width: prefetchBits + 1, reset: 0)
                let fifoUsed = m.wire("in_prefetch_used", fifoWrite - fifoRead)
                let wide = prefetchBits + 2
                let inFlight = fifoUsed.zeroExtended(to: wide) + aValid.zeroExtended(to: wide) + bValid.zeroExtended(to: wide)
                    + cValid.zeroExtended(to: wide)
                let reads = m.wire("in_reads", phase == readBank && landed != read && inFlight < prefetchDepth)
                aValid.assign(reads)
                aRow.assign(readRow)
                bValid.assign(aValid)
                cValid.assign(bValid)
                m.when(reads) {
                    read.assign(read + 1)
                    m.when(readBank == b - 1) {
                        readBank.assign(0)
                        readRow.assign(readRow + 1)
                    }.otherwise {
                        readBank.assign(readBank + 1)
                    }
                }
                requests.append(m.wire("in_request", address(m.constant(UInt64(e), width: engineBits), aRow)))
                m.when(cValid) { fifoWrite.assign(fifoWrite + 1) }
                let element = m.stream("element", StreamShape(dataWidth: width, hasLast: true))
                m.when(element.valid && element.ready) { fifoRead.assign(fifoRead + 1) }
                element.valid.assign(fifoUsed != 0)
                prefetch.append((cValid, fifoWrite, fifoRead))
                outputs.append(element)
            }
        }
        // The ring whose turn it is next cycle: the next one's when this beat ends its frame.
        let room = m.register("in_ready", width: 1, reset: 0)
        room.assign(mux(advances, LaneSelect.pick(roomy, by: nextTurn), LaneSelect.pick(roomy, by: turn)))
        ready = room
        beatValid.assign(writes)
        m.when(writes) {
            beatData.assign(input.data)
            beatCount.assign(kept)
            beatLast.assign(ends)
            beatEngine.assign(turn)
            beatBank.assign(LaneSelect.pick(writeBanks, by: turn))
            beatRow.assign(LaneSelect.pick(writeRows, by: turn))
        }

        // Writing: part i (with its `last`: the frame's last part is the beat's last kept one)
        // rotated to bank (b0 + i) mod B, in row r0, or r0 + 1 for the banks before b0.
        let partWidth = width + 2    // kept, last, part
        var written = (0..<b).map { i -> Signal in
            guard i < q else { return m.constant(0, width: partWidth) }
            let isKept = beatCount > i
            let isLast = beatLast && beatCount == i + 1
            return m.wire("beat_part\(i)", m.cat([isKept, isLast, beatData.bits(i * width + width - 1, i * width)]))
        }
        written = schedule.toBanks(written, by: beatBank, name: "in_write_rotated")
        // Reading: bank j takes the request of engine (j - t) mod B.
        let lanes = schedule.toBanks((0..<b).map { i in i < n ? requests[i] : m.constant(0, width: addressBits) }, by: turnA,
                                     name: "in_read_rotated")
        var bankData: [Signal] = []
        for j in 0..<b {
            m.scope("in_bank\(j)") {
                let row = j == b - 1 ? beatRow : mux(beatBank > j, beatRow + 1, beatRow)   // no bank comes after the last
                bankData.append(m.ram("mem", width: width + 1, depth: n * rows, writeEnable: beatValid && written[j][width + 1],
                                      writeAddress: address(beatEngine, row), writeData: written[j].bits(width, 0),
                                      readAddress: lanes[j], readEnable: nil))
            }
        }
        // The data back: engine e takes bank (e + t) mod B, t the turn its read was issued in.
        let back = schedule.toUsers(bankData, by: turnB, name: "in_data_rotated")
        for e in 0..<n {
            m.within(scopes[e]) {
                let cData = m.register("in_c_data", width: width + 1, reset: nil)
                cData.assign(back[e])
                let entry = m.distributedRam("in_prefetch", width: width + 1, depth: prefetchDepth, writeEnable: prefetch[e].write,
                                             writeAddress: prefetch[e].writePointer.bits(prefetchBits - 1, 0), writeData: cData,
                                             readAddress: prefetch[e].readPointer.bits(prefetchBits - 1, 0))
                outputs[e].data.assign(entry.bits(width - 1, 0))
                outputs[e].last?.assign(entry[width])
            }
        }
        elements = outputs
    }
}
