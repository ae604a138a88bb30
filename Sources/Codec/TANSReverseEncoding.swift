/// A one-lane tANS frame encoded in one backward pass (values of up to 16 bits).
///
/// tANS codes a frame from its last entry to its first, but the stream reads it forward. Rather
/// than keeping each entry's chunk and writing them forward in a second pass, the bits are put
/// in front of what is already there: a 64-bit container takes each chunk above its pending
/// bits, and its low 32 bits, which nothing can come after any more, are stored as a word from
/// the end of a buffer backwards (every step stores; a full word moves the buffer's front). The
/// frame's words then end exactly at its last bit; one pass over them shifts the whole frame up
/// by the bits its first word lacks (the padding goes to the end), into the writer.
import CCodecKernels

struct TANSReverseFrame {
    /// Words from the buffer's end backwards; `front` is the first stored one.
    private let words: UnsafeMutablePointer<UInt32>
    private let capacity: Int
    private var front: Int
    private var container: UInt64 = 0
    /// Bits in the container (fewer than 32 between steps).
    private var pending = 0
    private let deltas: UnsafeMutablePointer<UInt64>
    private let states: UnsafeMutablePointer<UInt16>
    /// The encoder state, in [T, 2T).
    private var x: Int
    private let size: Int
    private let tableLog: Int

    /// A frame of up to `values` values of `coder` (whose chunks are at most 15 + 16 bits).
    init(coder: TANSCoder, values: Int) {
        size = coder.tables.tableSize
        tableLog = coder.tables.tableLog
        // Chunks of at most 31 bits per entry (EOF's included), the first state, a word for
        // the rounding, and two in front for the C loop's 8-byte stores.
        capacity = ((values + 1) * 31 + tableLog) / 32 + 3
        words = .allocate(capacity: capacity)
        front = capacity
        deltas = coder.deltas.pointer
        states = coder.states.pointer
        x = size
    }

    func release() { words.deallocate() }

    /// Puts `count` bits (0 to 32, nothing above them) in front of the frame's bits.
    @inline(__always)
    private mutating func prepend(_ bits: UInt64, count: Int) {
        container |= bits &<< UInt64(pending)
        pending &+= count
        words[front &- 1] = UInt32(truncatingIfNeeded: container).bigEndian
        let full = pending &>> 5
        front &-= full
        container &>>= UInt64(full &<< 5)
        pending &= 31
    }

    /// One entry's step (its deltas packed as in `TANSCoder.deltas`): its state bits, then `extra`.
    @inline(__always)
    private mutating func step(entry: Int, extra: UInt64, extraBits: Int) {
        let d = deltas[entry]
        let nb = (x &+ Int(Int32(truncatingIfNeeded: d))) &>> 16
        let bits = UInt64(x & ((1 &<< nb) &- 1))
        x = Int(states[(x &>> nb) &+ Int(Int32(truncatingIfNeeded: d &>> 32))])
        prepend(bits &<< UInt64(extraBits) | extra, count: nb &+ extraBits)
    }

    /// EOF's step, first of all.
    mutating func addEnd(_ endOfFrame: Int) { step(entry: endOfFrame, extra: 0, extraBits: 0) }

    /// A value given as its `TANSCoder.valueSteps` word.
    @inline(__always)
    mutating func add(step e: UInt64) {
        step(entry: Int(truncatingIfNeeded: (e &>> 6) & 0x1FFF), extra: e &>> 19, extraBits: Int(truncatingIfNeeded: e & 0x3F))
    }

    /// The frame's fields for the C loop (`hwgen_tans_encode4`), coding `values[0 ..< count]`.
    func kernelFrame(values: UnsafePointer<UInt32>, count: Int) -> hwgen_tans_encode_frame {
        hwgen_tans_encode_frame(values: values, count: Int64(count), words: words, front: Int64(front), container: container, pending: Int64(pending), x: UInt64(x))
    }

    /// Takes the C loop's progress back.
    mutating func take(_ frame: hwgen_tans_encode_frame) {
        front = Int(frame.front)
        container = frame.container
        pending = Int(frame.pending)
        x = Int(frame.x)
    }

    /// The first state (X - T in tableLog bits) in front, then the frame's words forward into
    /// `writer` (at a word boundary), zero padding at the end.
    mutating func finish(into writer: BitWriter) {
        prepend(UInt64(x - size), count: tableLog)
        let (head, first, stored, words) = (pending, front, capacity - front, self.words)
        guard head > 0 else {
            writer.appendWords(count: stored) { UInt32(bigEndian: words[first + $0]) }
            return
        }
        // Every word moves up by 32 - head bits: the head's bits first, zeros after the last.
        let headBits = UInt32(truncatingIfNeeded: container)
        writer.appendWords(count: stored + 1) { i in
            let previous = i == 0 ? headBits : UInt32(bigEndian: words[first + i - 1])
            let word = i == stored ? 0 : UInt32(bigEndian: words[first + i])
            return previous &<< UInt32(32 - head) | word &>> UInt32(head)
        }
    }
}
