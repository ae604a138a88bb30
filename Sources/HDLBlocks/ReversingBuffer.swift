import HDL

/// A buffer that gives back each sequence of elements in reverse order (last in, first out per
/// sequence, sequences first in, first out), in one simple dual-port block RAM of `depth` words.
///
/// Sequences alternate between the two ends of the RAM: element k of an even sequence sits at
/// address k, of an odd one at address depth - 1 - k. So while one sequence is read backwards,
/// the next is written from the other end, and the two never meet as long as the elements
/// written plus the elements still to read are fewer than `depth`: a writer waits only when the
/// RAM is really full. At most two sequences are held (one being read, one being written).
///
/// Write side: `write(valid:data:last:)` offers an element; `writeReady` says it is taken. A
/// sequence ends with `last` or at `maxLength` elements. Read side: `readValid`, `readData`,
/// `readFirst` (the first element given back, i.e. the sequence's last written), `readLast` (the
/// sequence's first written), `readParity` (which sequence: alternates from 0), taken where
/// `readReady` is 1. Reading a sequence starts the cycle after it is complete; the RAM's read
/// register is the output register. A sequence's end of the RAM takes a new sequence only after
/// its last element has been taken, so per-sequence data a consumer keeps by parity (written as
/// the sequence completes) lives until the consumer is done with it.
public struct ReversingBuffer {
    public let writeReady: Signal
    public let readValid: Signal
    public let readData: Signal
    public let readFirst: Signal
    public let readLast: Signal
    public let readParity: Signal
    /// The parity of the sequence being written.
    public let writeParity: Signal
    /// Nothing held: no element written of a sequence, none complete, none being read or in the
    /// output register (an expression: name it where it is used).
    public let isEmpty: Signal

    /// Builds the buffer into `m` with its names in scope `name`. The write-side signals and
    /// `readReady` are the producer's and consumer's.
    /// `registeredReady`: `writeReady` is a register (off the writer's path), which sees space
    /// the reader frees a cycle late.
    public init(_ m: ModuleBuilder, name: String, depth requestedDepth: Int, maxLength requestedLength: Int, width: Int,
                writeValid: Signal, writeData: Signal, writeLast: Signal, readReady: Signal, registeredReady: Bool = false,
                file: String = #fileID, line: Int = #line) {
        let location = SourceLocation(fileID: file, line: line)
        var (depth, maxLength) = (requestedDepth, requestedLength)
        if depth < 2 || depth & (depth - 1) != 0 {
            m.report(.invalidOperand, "reversing buffer '\(name)': depth \(depth) is not a power of two of at least 2", at: location)
            depth = 2
        }
        if maxLength < 1 || maxLength > depth {
            m.report(.invalidOperand, "reversing buffer '\(name)': maxLength \(maxLength) is not 1 to the depth \(depth)", at: location)
            maxLength = depth
        }
        let saved = m.enterScope(m.scope(name, file: file, line: line))
        defer { m.restoreScope(saved) }
        let a = bitsToAddress(depth)
        let countWidth = a + 1
        func const(_ v: Int) -> Signal { m.constant(UInt64(v), width: countWidth) }

        // Writer.
        let wParity = m.register("w_parity", width: 1, reset: 0)
        let wCount = m.register("w_count", width: countWidth, reset: 0)
        // Per parity: a complete sequence not yet wholly issued to the read port, and its length.
        let complete = (0..<2).map { m.register("complete\($0)", width: 1, reset: 0) }
        let length = (0..<2).map { m.register("length\($0)", width: countWidth, reset: nil) }

        // Reader: the sequence it reads (or waits for) and the next index to issue.
        let rParity = m.register("r_parity", width: 1, reset: 0)
        let rActive = m.register("r_active", width: 1, reset: 0)
        let rIndex = m.register("r_index", width: countWidth, reset: nil)
        let rFresh = m.register("r_fresh", width: 1, reset: nil)
        let outValid = m.register("out_valid", width: 1, reset: 0)
        let outFirst = m.register("out_first", width: 1, reset: nil)
        let outLast = m.register("out_last", width: 1, reset: nil)
        let outParity = m.register("out_parity", width: 1, reset: nil)

        // Elements of the other sequence not yet issued: the writer may not reach them.
        let otherComplete = mux(wParity, complete[0], complete[1])
        let otherLength = mux(wParity, length[0], length[1])
        let readingOther = rActive && (rParity != wParity)
        let unreadOther = m.wire("unread_other", mux(otherComplete, mux(readingOther, rIndex + 1, otherLength), const(0)))
        let sameComplete = mux(wParity, complete[1], complete[0])
        // `registeredReady`: `ready` for the next cycle, from this cycle's registers and write:
        // exact for the write side, and a cycle late to see the reader free space (elements
        // issued, a sequence's end freed), which only ever grows.
        let ready = registeredReady ? m.register("w_ready", width: 1, reset: 1) : m.wire("w_ready", width: 1)
        let write = m.wire("write", writeValid && ready)
        let ends = m.wire("w_ends", writeLast || (wCount == maxLength - 1))
        if registeredReady {
            let countAfter = mux(write, wCount + 1, wCount)
            ready.assign(mux(write && ends, !otherComplete && ((wCount +& const(1)) < depth),
                             !sameComplete && ((countAfter +& unreadOther) < depth)))
        } else {
            ready.assign(!sameComplete && ((wCount +& unreadOther) < depth))
        }
        let mask = wParity.replicated(a)
        let writeAddress = wCount[a - 1, 0] ^ mask

        // Issue: read one element per cycle while the output register moves on.
        let advance = m.wire("advance", !outValid || readReady)
        let issue = m.wire("issue", rActive && advance)
        let readAddress = rIndex[a - 1, 0] ^ rParity.replicated(a)
        let data = m.ram("ram", width: width, depth: depth, writeEnable: write, writeAddress: writeAddress,
                         writeData: writeData, readAddress: readAddress, readEnable: issue)

        m.when(write) {
            m.when(ends) {
                wCount.assign(0)
                wParity.assign(!wParity)
                for q in 0..<2 {
                    m.when(wParity == q) {
                        complete[q].assign(1)
                        length[q].assign(wCount + 1)
                    }
                }
            }.otherwise {
                wCount.assign(wCount + 1)
            }
        }
        let waiting = mux(rParity, complete[1], complete[0])
        let waitingLength = mux(rParity, length[1], length[0])
        m.when(issue) {
            outValid.assign(1)
            outFirst.assign(rFresh)
            outLast.assign(rIndex == 0)
            outParity.assign(rParity)
            rFresh.assign(0)
            rIndex.assign(rIndex - 1)
            m.when(rIndex == 0) {
                rActive.assign(0)
                rParity.assign(!rParity)
            }
        }.elseWhen(advance) {
            outValid.assign(0)
        }
        // A sequence's end of the RAM is free again once its last element is taken from the
        // output register (not merely issued): until then the consumer may still be working on
        // that sequence, and whatever it keeps per sequence (by `readParity`) stays valid.
        m.when(outValid && readReady && outLast) {
            for q in 0..<2 {
                m.when(outParity == q) { complete[q].assign(0) }
            }
        }
        m.when(!rActive && waiting) {
            rActive.assign(1)
            rFresh.assign(1)
            rIndex.assign(waitingLength - 1)
        }

        writeReady = ready
        readValid = outValid
        isEmpty = (wCount == 0) && !complete[0] && !complete[1] && !rActive && !outValid
        readData = data
        readFirst = outFirst
        readLast = outLast
        readParity = outParity
        writeParity = wParity
    }
}
