import HDL
import HDLBlocks
import Testing
import TestSupport
import VerilatorBridge

/// `WordWindow` against a model of the word stream: beats of Q words with random tkeep arrive,
/// random numbers of words (up to K) leave; the window always shows the stream's next words.
@Suite("WordWindow (multi-word beats in, up to K words out per cycle) through Verilator")
struct WordWindowTests {
    static func module(q: Int, k: Int) throws -> Module {
        try Module("word_window_q\(q)_k\(k)") { m in
            let parts = (0..<q).map { m.input("in\($0)", width: 32) }
            let keep = m.input("keep", width: q)
            let valid = m.input("valid")
            let amount = m.input("take", width: bitsToAddress(k + 1))
            // Word 0 of the beat is at bits 31-0: the parts go in from the top down.
            let data = m.wire("beat_data", cat(parts.last ?? parts[0], Array(parts.reversed().dropFirst())))
            let beat = Stream(data: data, valid: valid, ready: m.output("ready"), keep: keep)
            let window = WordWindow(m, name: "window", input: beat, maxTake: k)
            for i in 0..<k { m.output("slot\(i)", width: 32).assign(window.words[i]) }
            m.output("count", width: window.count.width).assign(window.count)
            window.take(m, amount)
        }
    }

    @Test("the window shows the stream's next words whatever arrives and leaves", arguments: [(1, 2), (3, 4), (4, 8)])
    func followsTheStream(q: Int, k: Int) throws {
        let library = try SimulationBuilder().build([try Self.module(q: q, k: k)])
        let sim = try library.simulation(of: "word_window_q\(q)_k\(k)")
        let inputs = try (0..<q).map { try sim.port("in\($0)") }
        let (keep, valid, take, ready, count) = (try sim.port("keep"), try sim.port("valid"), try sim.port("take"), try sim.port("ready"), try sim.port("count"))
        let slots = try (0..<k).map { try sim.port("slot\($0)") }
        sim.reset()
        var random = SeededRandom(seed: UInt64(q * 100 + k))
        var held: [UInt32] = []
        var next: UInt32 = 1
        var moved = 0
        for _ in 0..<TestScale.pick(quick: 3000, long: 60_000) {
            let offer = random.next() % 3 != 0
            let kept = 1 + Int(random.next() % UInt64(q))
            let words = (0..<q).map { next &+ UInt32($0) }
            for (port, word) in zip(inputs, words) { sim.poke(port, UInt64(word)) }
            sim.poke(keep, (UInt64(1) << UInt64(kept)) - 1)
            sim.poke(valid, offer ? 1 : 0)
            let amount = Int(random.next() % UInt64(min(k, held.count) + 1))
            sim.poke(take, UInt64(amount))
            sim.eval()
            #expect(Int(sim.peek(count)) == held.count)
            for i in 0..<min(k, held.count) where UInt32(sim.peek(slots[i])) != held[i] {
                Issue.record("slot \(i) shows \(sim.peek(slots[i])), the stream's word is \(held[i])")
                return
            }
            let accepted = offer && sim.peek(ready) == 1
            // Room for a whole beat after any take: ready depends on the count only.
            #expect((sim.peek(ready) == 1) == (held.count <= k))
            sim.tick()
            held.removeFirst(amount)
            moved += amount
            if accepted {
                held += words.prefix(kept)
                next &+= UInt32(kept)
            }
        }
        #expect(moved > 1000, "only \(moved) words went through")
    }
}
