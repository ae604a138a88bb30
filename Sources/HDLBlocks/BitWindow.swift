import HDL

/// The read side of a bit stream: 32-bit words (first bit at bit 31) arrive on an AXI-Stream
/// style input and wait in a ring of four word slots; a pointer names the next bit, and `window`
/// shows the stream from that bit on.
///
/// Words never move once written: the input writes the slot after the last one, and consuming
/// bits only adds to `pointer` (bits 7-5 count words modulo 8, bits 4-0 are the bit in the
/// word), so a step that crosses one or two words costs the same as one that stays inside a word
/// and the only register on a consumer's feedback path is the 8-bit pointer. `ready` and the
/// fill level come from registers (the slot count and the pointer), never from the consumer's
/// logic of the same cycle.
///
/// The consumer moves `pointer` itself (`m.when(step) { bits.pointer.assign(...) }`) and must
/// never move it past the bits that are buffered (`available(atLeast:)`).
public struct BitWindow {
    /// Words in the ring.
    public static let slots = 4
    /// The widest window a ring of four words can show from any bit of its first word with one
    /// slot left free for the next word: 31 + width <= 96.
    public static let maxWidth = 65

    /// The next `width` bits of the stream, the next bit at the top; bits past the buffered
    /// ones are unspecified.
    public let window: Signal
    /// Position of the next bit: words consumed (mod 8) in bits 7-5, bit in the word in bits 4-0.
    public let pointer: Signal
    /// The input can take a word (a slot is free); from registers only.
    public let ready: Signal
    /// Bits buffered from the pointer on (0-128).
    public let buffered: Signal
    private let always: Signal

    /// Declares the ring, its write index and the pointer in `m`. A word is written when
    /// `valid && ready && store`; with `store` low an accepted word is dropped.
    public init(_ m: ModuleBuilder, width: Int, data: Signal, valid: Signal, store: Signal) {
        precondition((1...Self.maxWidth).contains(width), "a bit window is 1-\(Self.maxWidth) bits wide")
        precondition(data.width == 32, "a bit window reads 32-bit words")
        always = m.constant(1, width: 1)
        let words = (0..<Self.slots).map { m.register("ring\($0)", width: 32, reset: nil) }
        // Words written, modulo 8: with the pointer's word count it gives the fill level.
        let written = m.register("ring_written", width: 3, reset: 0)
        pointer = m.register("pointer", width: 8, reset: 0)
        buffered = m.wire("buffered", cat(written, m.constant(0, width: 5)) - pointer)
        // Slots in use: from the word the pointer is in to the last word written (0-4).
        let slotsHeld = m.wire("ring_slots_held", written - pointer[7, 5])
        ready = m.wire("ring_ready", slotsHeld[2, 2] == 0)
        let write = m.wire("ring_write", valid && ready && store)
        for (j, word) in words.enumerated() {
            m.when(write && (written[1, 0] == j)) { word.assign(data) }
        }
        m.when(write) { written.assign(written + 1) }

        // The ring read from the pointer on: its words in order, the first ones again after the
        // last (a window may wrap), shifted left by the pointer's position in the ring.
        let spanned = (31 + width + 31) / 32
        let unrolled = cat(words + words.prefix(spanned - 1))
        window = m.wire("window", Funnel.top(width, of: unrolled, shiftedLeftBy: pointer[6, 0], name: "ring_read", in: m))
    }

    /// Whether at least `bits` bits are buffered from the pointer on (a comparison of registers
    /// with a constant: off any path that starts at the consumer's logic).
    public func available(atLeast bits: Int) -> Signal {
        bits <= 0 ? always : buffered >= bits
    }
}
