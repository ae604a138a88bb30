import HDL

/// Where the cores put their tables: one policy for all of them.
///
/// A table that is a register of the core's loop (the tANS decoder's state table, the tANS
/// encoder's state table) is block RAM by design, whatever its size. The other tables are read
/// synchronously and go to block RAM from `smallestBlockMemory` entries on: below that, a block
/// RAM would hold a few words and cost more routing than the LUTs it saves. A table read
/// straight into logic with no spare cycle after it (the Huffman encoder's code ROM, whose data
/// feeds the chunk composition) stays LUT logic up to `largestLogicOnFastPath` entries (every
/// 8-bit alphabet): an ECP5 block RAM read without its output register takes 5.8 ns from the
/// clock, which held that core to about 135 MHz.
enum TablePlacement {
    static let smallestBlockMemory = 64
    static let largestLogicOnFastPath = 256

    /// The ROM style of a synchronously read table of `entries` entries.
    static func style(entries: Int, fastPath: Bool = false) -> RomStyle {
        if fastPath { return entries > largestLogicOnFastPath ? .blockMemory : .logic }
        return entries >= smallestBlockMemory ? .blockMemory : .logic
    }
}
