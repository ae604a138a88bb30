import HDL

/// A first-word-fall-through FIFO in block RAM: beats (data, keep and last travel together) in at
/// one per cycle, out at one per cycle, `depth` of them held (rounded up to a power of two).
///
/// The RAM is read every cycle at the address the read pointer will have after this cycle's pop,
/// so the head's word is in the RAM's read register one cycle after it moved to the front: no
/// output register beyond the RAM's own, and pops back to back at full rate. The head is valid
/// when the address read last cycle had been written before that read (a read of the word being
/// written in the same cycle returns the old word, so a word written into an empty FIFO shows up
/// two cycles later). `ready` compares the pointers, both registers. The head's word stays
/// unchanged until it is popped: nothing writes its address while it is held (the FIFO is full
/// only then, and refuses). The combinational path is the consumer's `ready` through the pop to
/// the RAM's read address: a consumer should not make its `ready` depend on the head's data,
/// whose read is slow (5.8 ns from the clock on ECP5), but load the head into a register.
public struct BlockFifo {
    /// The head beat; its `ready` is the consumer's to drive (a pop where `valid` is 1).
    public let output: Stream
    /// Beats held, the head included (0 ... depth).
    public let count: Signal
    public let depth: Int

    /// The depth a FIFO asked for `requested` beats has: the power of two at or above it (at least 2).
    public static func rounded(_ requested: Int) -> Int { 1 << Swift.max(1, bitsToAddress(Swift.max(2, requested))) }

    /// Builds the FIFO in `m` (names in scope `name`) after `input`, whose `ready` it assigns.
    /// With `outputRegister`, the head also passes a register in the fabric (loaded when it is
    /// empty or popped: flip-flops with an enable, no multiplexer), so a consumer far from the RAM
    /// sees a register, not the RAM's slow read; the FIFO then holds one beat more.
    public init(_ m: ModuleBuilder, name: String, input: Stream, depth requested: Int, outputRegister: Bool = false,
                file: String = #fileID, line: Int = #line) {
        let scope = m.scope(name, file: file, line: line)
        let saved = m.enterScope(scope)
        defer { m.restoreScope(saved) }
        depth = BlockFifo.rounded(requested)
        let addressBits = bitsToAddress(depth)
        // Payload, low bits first: data, keep, last, user.
        let payload = input.payload(in: m)
        let writePointer = m.register("write_pointer", width: addressBits + 1, reset: 0)
        let readPointer = m.register("read_pointer", width: addressBits + 1, reset: 0)
        let used = m.wire("used", writePointer - readPointer)
        count = used
        input.ready.assign(!used[addressBits])
        let write = m.wire("write", input.valid && !used[addressBits])
        m.when(write) { writePointer.assign(writePointer + 1) }

        let headValid = m.register("head_valid", width: 1, reset: 0)
        let out = m.stream("out", input.shape)
        let pop = m.wire("pop", headValid && out.ready)
        let nextRead = m.wire("next_read", readPointer + pop.zeroExtended(to: addressBits + 1))
        readPointer.assign(nextRead)
        headValid.assign(nextRead != writePointer)
        let word = m.ram("mem", width: payload.width, depth: depth, writeEnable: write, writeAddress: writePointer.bits(addressBits - 1, 0),
                         writeData: payload, readAddress: nextRead.bits(addressBits - 1, 0), readEnable: nil)
        out.valid.assign(headValid)
        out.assignPayload(from: word)
        guard outputRegister else {
            output = out
            return
        }
        let registered = m.stream("registered", input.shape)
        let heldValid = m.register("held_valid", width: 1, reset: 0)
        let held = m.register("held_payload", width: payload.width, reset: nil)
        let load = m.wire("held_load", !heldValid || registered.ready)
        out.ready.assign(load)
        m.when(load) {
            heldValid.assign(headValid)
            held.assign(word)
        }
        registered.valid.assign(heldValid)
        registered.assignPayload(from: held)
        output = registered
    }
}
