import HDL

/// The rotating schedule of a buffer in B banks shared by several users (`BankedFrameInput`,
/// `BankedFrameOutput`): at cycle t user e may touch only bank (e + t) mod B, so no two users
/// meet at a bank, and a user whose next element is in that bank moves one element a cycle.
/// Requests reach their banks, and data their users, through rotations by t: log2 B levels of
/// 2:1 multiplexers, each level a named wire so the levels are shared by every bank.
struct BankSchedule {
    let banks: Int
    /// Bits of a bank number (at least 1).
    let bits: Int
    /// t mod B, register `bank_turn`.
    let turn: Signal
    private let m: ModuleBuilder

    init(_ m: ModuleBuilder, banks: Int) {
        self.m = m
        self.banks = banks
        bits = Swift.max(1, bitsToAddress(banks))
        turn = m.register("bank_turn", width: bits, reset: 0)
        turn.assign(mux(turn == banks - 1, m.constant(0, width: bits), turn + 1))
    }

    /// The bank after `phase`, mod B.
    func advance(_ phase: Signal) -> Signal { mux(phase == banks - 1, m.constant(0, width: bits), phase + 1) }

    /// `signal` a cycle later, in register `name`.
    func delayed(_ signal: Signal, _ name: String) -> Signal {
        let late = m.register(name, width: signal.width, reset: 0)
        late.assign(signal)
        return late
    }

    /// To the banks: bank j takes `lanes[(j - amount) mod B]` (wires `<name><level>_<j>`).
    func toBanks(_ lanes: [Signal], by amount: Signal, name: String) -> [Signal] {
        rotate(lanes, by: amount, name: name) { i, shift in (i - shift + banks) % banks }
    }

    /// To the users: user e takes `lanes[(e + amount) mod B]`, the inverse of `toBanks`.
    func toUsers(_ lanes: [Signal], by amount: Signal, name: String) -> [Signal] {
        rotate(lanes, by: amount, name: name) { i, shift in (i + shift) % banks }
    }

    private func rotate(_ lanes: [Signal], by amount: Signal, name: String, source: (Int, Int) -> Int) -> [Signal] {
        var lanes = lanes
        var level = 0
        while (1 << level) < banks {
            let shift = (1 << level) % banks, bit = level
            lanes = (0..<banks).map { i in m.wire("\(name)\(bit)_\(i)", mux(amount[bit], lanes[source(i, shift)], lanes[i])) }
            level += 1
        }
        return lanes
    }
}
