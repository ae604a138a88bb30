import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// `BitQueue` against a software model of the stream, cycle by cycle: random words arriving,
/// random consumption (steps that pass two words, word alignment), and at every
/// cycle `readable` compared with the model, the availability checks (and the slow path's check
/// of the last cycle's advance) never claiming bits that have not arrived, and the window equal
/// to the stream over the bits it claims. A word becomes visible some cycles after it is taken
/// (it enters behind the window: the last slot of a two-slot window's chain, the first free slot
/// of a three-slot one), so the model bounds rather than predicts availability; a final check
/// that most of the stream was consumed catches a queue that stops. A lost, repeated or
/// reordered word, a wrong drop or a wrong window bit is a mismatch.
@Suite("BitQueue: the window follows the stream")
struct BitQueueTests {
    static func checked(_ width: Int) -> [Int] { [1, 7, 20, width] }
    /// The bits an end consumes before the skip to the word boundary.
    static func endBits(_ width: Int) -> Int { min(width, 13) }

    static func module(width: Int) throws -> Module {
        try Module("bitqueue\(width)") { m in
            let data = m.input("data", width: 32)
            let valid = m.input("valid")
            let advance = m.input("amount", width: 7)
            let step = m.input("step")
            let align = m.input("align")
            let queue = BitQueue(m, name: "queue", width: width, data: data, valid: valid, store: m.constant(1, width: 1))
            m.output("shown", width: width).assign(queue.window)
            m.output("ready").assign(queue.ready)
            m.output("can_read").assign(queue.readable)
            for n in checked(width) { m.output("avail\(n)").assign(queue.available(atLeast: n)) }
            m.output("covered").assign(queue.previousAdvanceBuffered)
            // Every amount is a choice of its own (as a decoder's classes would be).
            let choices = (0...width).map { (when: !align && advance == $0, bits: $0) }
            queue.consume(m, choices: choices, end: (when: align, bits: endBits(width)), when: step)
        }
    }

    @Test("random arrivals and steps: window, availability and readable match the model", arguments: [28, 50])
    func followsTheStream(width: Int) throws {
        let library = try SimulationBuilder().build([try Self.module(width: width)])
        let sim = try library.simulation(of: "bitqueue\(width)")
        let port = { (name: String) in try sim.port(name) }
        let (data, valid, advance, step, align) = (try port("data"), try port("valid"), try port("amount"), try port("step"), try port("align"))
        let (window, ready, readable, covered) = (try port("shown"), try port("ready"), try port("can_read"), try port("covered"))
        let checked = Self.checked(width)
        let avail = try checked.map { try port("avail\($0)") }
        sim.reset()

        var random = SeededRandom(seed: UInt64(width))
        var stream: [Bool] = []
        var dropped = 0, pointer = 0, steps = 0, coveredSeen = 0
        // The last cycle's advance, while the pointer has stayed where it was since.
        var heldAdvance: (amount: Int, buffered: Int)? = nil
        for _ in 0..<TestScale.pick(quick: 4000, long: 100_000) {
            let offer = random.next() % 10 < 7
            let word = UInt32(truncatingIfNeeded: random.next())
            sim.poke(valid, offer ? 1 : 0)
            sim.poke(data, UInt64(word))
            sim.eval()
            let canRead = pointer < 32
            #expect((sim.peek(readable) == 1) == canRead)
            let position = 32 * dropped + pointer
            let buffered = stream.count - position
            var visible = 0
            if canRead {
                for (n, p) in zip(checked, avail) where sim.peek(p) == 1 {
                    #expect(buffered >= n, "available(\(n)) with \(buffered) bits buffered")
                    visible = max(visible, min(n, buffered))
                }
                let bits = sim.peek(window)
                for i in 0..<visible where ((bits >> UInt64(width - 1 - i)) & 1 == 1) != stream[position + i] {
                    Issue.record("window bit \(i) at stream bit \(position + i) differs")
                    return
                }
            }
            // The slow path's check never claims an advance whose bits have not arrived.
            if canRead, let held = heldAdvance, sim.peek(covered) == 1 {
                #expect(held.buffered >= held.amount, "last cycle's advance \(held.amount) reported buffered, with \(held.buffered) bits then")
                coveredSeen += 1
            }
            let take = offer && sim.peek(ready) == 1
            let doAlign = random.next() % 8 == 0
            let amount = doAlign ? Self.endBits(width)
                : random.next() % 4 == 0 ? width : Int(random.next() % UInt64(width + 1))
            let doStep = canRead && visible >= amount && random.next() % 5 != 0
            sim.poke(step, doStep ? 1 : 0)
            sim.poke(advance, UInt64(amount))
            sim.poke(align, doAlign ? 1 : 0)
            sim.tick()
            heldAdvance = canRead && !doStep ? (amount, buffered) : nil

            if take { stream += (0..<32).map { (word >> UInt32(31 - $0)) & 1 == 1 } }
            if doStep {
                steps += 1
                let sum = pointer + amount
                let moved = doAlign && sum % 32 != 0 ? (sum / 32 + 1) * 32 : sum
                // Words passed leave together, up to two when the window spans three slots.
                let leaving = min(moved / 32, (31 + width + 31) / 32 - 1)
                pointer = moved - 32 * leaving
                dropped += leaving
            } else if pointer >= 32 {
                pointer -= 32
                dropped += 1
            }
        }
        // The queue kept flowing: most of the stream was consumed.
        #expect(coveredSeen > 300, "the advance was reported buffered only \(coveredSeen) times")
        #expect(steps > 1000 && 32 * dropped > stream.count / 2, "\(steps) steps, \(dropped) words passed of \(stream.count / 32)")
    }
}
